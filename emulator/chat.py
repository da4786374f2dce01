"""The emulator's Twitch chat: an IRC server whose channels are the market's channels.

Live channels chat at a rate that grows with their viewers (0.5 × viewers^0.9 messages a
minute, times `EMULATOR_CHAT_RATE_SCALE`), so the market's heavy audience tail is a heavy
chat tail. Chatters come from a per-channel pool (a few very active, most quiet);
subscribers use their channel's paid emotes, everyone uses the free global ones, each set
in Zipf-like order. A channel's planted moments (`emulator.moments`, the same ones its HLS
clips show) raise its rate, with laughter/hype emotes and shouting for a highlight and
plain hellos for a raid. Faults: `RECONNECT` followed by a close, at a set rate or on demand, and
readers that fall too far behind are cut off, as Twitch does.

Every line written is counted in a ledger per channel and minute of its `tmi-sent-ts`,
which the tests compare with what the reader stored. The clock is the real one plus
`EMULATOR_CLOCK_OFFSET_SECONDS` (a frozen market still chats in real time).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emulator.config import EmulatorSettings
from emulator.emotes import GLOBAL_EMOTES, HYPE_EMOTES, ChannelEmote, channel_emotes
from emulator.market import Market
from emulator.moments import CONFIGS, MomentSchedule
from emulator.state import LiveClock

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05
BODIES_PER_CHANNEL = 200
MAX_BUFFER_BYTES = 64 << 20  # a reader this far behind (seconds of a busy channel set) is cut off
MINUTE_MS = 60_000
Mood = tuple[float, float]  # (share of hype messages, share shouted)
CALM: Mood = (0.0, 0.0)
_WORDS = (
    "gg", "lol", "nice", "what", "no way", "let's go", "hi chat", "this game", "clip it",
    "so good", "omg", "wp", "first time here", "same", "he's cracked", "true", "unlucky",
    "where are we", "love this", "hype", "play again", "chat is this real", "ez", "why",
)  # fmt: skip
TOPIC_WORDS = ("worldcup", "patch", "speedrun", "giveaway")


@dataclass(frozen=True)
class Body:
    """A pre-rendered message: text, its emotes tag and the truth about its emotes."""

    text: str
    emotes_tag: str
    emote_only: bool
    subscriber: bool
    free_uses: int
    paid_uses: int
    uses: tuple[tuple[str, int], ...]
    shouted_text: str  # the same message in capitals (emote names as they are)


@dataclass
class LedgerEntry:
    messages: int = 0
    chatters: set[str] = field(default_factory=set)
    free_uses: int = 0
    paid_uses: int = 0
    emotes: Counter[str] = field(default_factory=Counter)


class _Channel:
    """One joined channel's chat generator."""

    def __init__(self, market: Market, index: int, seed: int) -> None:
        self.index = index
        self.login = market.login_of(index)
        self.room_id = market.user_id_of(index)
        popularity = market.popularity_of(index)
        self.rng = random.Random(seed * 1_000_003 + index)
        self.own = channel_emotes(self.login, popularity)
        pool = max(5, int(popularity * 0.4))
        self.chatter_ids = [str(90_000_000 + index * 10_007 + i) for i in range(pool)]
        self.chatter_weights = [1.0 / (i + 1) ** 0.8 for i in range(pool)]
        # A chatter's subscription is a fixed property of the chatter.
        self.chatter_subscribed = [self.rng.random() < 0.2 for _ in range(pool)]
        self.normal = [self._body(sub, hype=False) for sub in (False, True) for _ in range(100)]
        self.hype = [self._body(sub, hype=True) for sub in (False, True) for _ in range(50)]
        self.carry = 0.0

    def _pick_emote(self, subscriber: bool, hype: bool) -> tuple[str, str, bool]:
        rng = self.rng
        if hype and rng.random() < 0.7:
            emote_id = rng.choice(HYPE_EMOTES)
            return emote_id, dict(GLOBAL_EMOTES)[emote_id], False
        own: list[ChannelEmote] = [e for e in self.own if subscriber or not e.paid]
        if own and rng.random() < (0.6 if subscriber else 0.3):
            weights = [1.0 / (i + 1) ** 1.1 for i in range(len(own))]
            emote = rng.choices(own, weights)[0]
            return emote.id, emote.name, emote.paid
        weights = [1.0 / (i + 1) ** 1.1 for i in range(len(GLOBAL_EMOTES))]
        emote_id, name = rng.choices(GLOBAL_EMOTES, weights)[0]
        return emote_id, name, False

    def _body(self, subscriber: bool, hype: bool) -> Body:
        rng = self.rng
        emote_only = rng.random() < (0.4 if hype else 0.12)
        parts: list[tuple[str, str]] = []  # (text, emote id or "" for a word)
        if not emote_only:
            parts.append((rng.choice(_WORDS), ""))
            if rng.random() < 0.03:
                parts.append((rng.choice(TOPIC_WORDS), ""))
        emote_count = rng.randint(1, 4) if emote_only else rng.choice((0, 0, 1, 1, 2))
        paid_of: dict[str, bool] = {}
        for _ in range(emote_count):
            emote_id, name, paid = self._pick_emote(subscriber, hype)
            paid_of[emote_id] = paid
            parts.insert(rng.randint(0, len(parts)), (name, emote_id))
        text = ""
        ranges: dict[str, list[str]] = {}
        for word, emote_id in parts:
            if text:
                text += " "
            if emote_id:
                ranges.setdefault(emote_id, []).append(f"{len(text)}-{len(text) + len(word) - 1}")
            text += word
        uses = tuple((emote_id, len(spans)) for emote_id, spans in ranges.items())
        shouted = " ".join(w if e else w.upper() for w, e in parts)
        return Body(
            text=text,
            emotes_tag="/".join(f"{e}:{','.join(spans)}" for e, spans in ranges.items()),
            emote_only=emote_only,
            subscriber=subscriber,
            free_uses=sum(n for e, n in uses if not paid_of[e]),
            paid_uses=sum(n for e, n in uses if paid_of[e]),
            uses=uses,
            shouted_text=shouted,
        )


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.nick = ""
        self.tags = False
        self.channels: set[str] = set()
        self.join_times: list[float] = []
        self.closing = False

    def send(self, line: str) -> None:
        if not self.closing:
            self.writer.write(line.encode() + b"\r\n")


class ChatServer:
    """The IRC endpoint; `start()` runs it on its own thread and event loop."""

    def __init__(self, settings: EmulatorSettings, market: Market, clock: LiveClock) -> None:
        self.settings = settings
        self.market = market
        self.clock = clock
        self.port = settings.chat_port
        self.ledger: dict[tuple[str, int], LedgerEntry] = {}
        self.paused = False
        self.lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._channels: dict[str, _Channel] = {}
        self._live: tuple[int, np.ndarray] | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._rng = random.Random(settings.seed)
        self.schedule = MomentSchedule(CONFIGS[settings.moments], settings.seed)

    # control (called from other threads)
    def start(self) -> ChatServer:
        self._thread = threading.Thread(target=self._run, name="emulator-chat", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def reconnect_all(self) -> int:
        """Send RECONNECT to every connection and close it (what Twitch does before a restart)."""
        future = asyncio.run_coroutine_threadsafe(self._reconnect_all(), self._loop)
        return future.result(timeout=10)

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) writing chat. Set on the server's own loop, between two ticks,
        so once this returns no tick is half done: the ledger read next is final."""

        async def apply() -> None:
            self.paused = paused

        asyncio.run_coroutine_threadsafe(apply(), self._loop).result(timeout=10)

    def sent(self) -> dict[str, Any]:
        """The ledger: what was written, per channel and minute."""
        with self.lock:
            rows = [
                {
                    "channel": channel,
                    "minute_ms": minute,
                    "messages": entry.messages,
                    "chatters": len(entry.chatters),
                    "free_emote_uses": entry.free_uses,
                    "paid_emote_uses": entry.paid_uses,
                    "emotes": dict(entry.emotes),
                }
                for (channel, minute), entry in sorted(self.ledger.items())
            ]
        return {"minutes": rows, "messages": sum(r["messages"] for r in rows)}

    def sent_total(self) -> int:
        """How many lines were written so far (the ledger's sum, without its rows)."""
        with self.lock:
            return sum(entry.messages for entry in self.ledger.values())

    def reset_ledger(self) -> None:
        with self.lock:
            self.ledger.clear()

    # the event loop
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, self.settings.host, self.port, limit=1 << 16)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._loop.create_task(self._generate())
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for connection in list(self._connections):
                connection.writer.transport.abort()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _reconnect_all(self) -> int:
        connections = list(self._connections)
        for connection in connections:
            await self._drop(connection, reconnect=True)
        return len(connections)

    async def _drop(self, connection: _Connection, *, reconnect: bool) -> None:
        if connection.closing:
            return
        if reconnect:
            connection.send(":tmi.twitch.tv RECONNECT")
        connection.closing = True
        self._connections.discard(connection)
        connection.writer.close()  # buffered lines are still delivered

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(writer)
        self._connections.add(connection)
        try:
            while not connection.closing:
                raw = await reader.readline()
                if not raw:
                    break
                self._command(connection, raw.decode("utf-8", "replace").rstrip("\r\n"))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            connection.closing = True
            self._connections.discard(connection)
            writer.close()

    def _command(self, connection: _Connection, line: str) -> None:
        command, _, rest = line.partition(" ")
        command = command.upper()
        if command == "CAP":
            caps = rest.partition(":")[2]
            connection.tags = "twitch.tv/tags" in caps
            connection.send(f":tmi.twitch.tv CAP * ACK :{caps}")
        elif command == "NICK":
            connection.nick = rest.strip().lower()
            nick = connection.nick
            for code, text in (
                ("001", "Welcome, GLHF!"),
                ("002", "Your host is tmi.twitch.tv"),
                ("003", "This server is rather new"),
                ("004", "-"),
                ("375", "-"),
                ("372", "You are in a maze of twisty passages, all alike."),
                ("376", ">"),
            ):
                connection.send(f":tmi.twitch.tv {code} {nick} :{text}")
        elif command == "PING":
            connection.send(f":tmi.twitch.tv PONG tmi.twitch.tv {rest}")
        elif command == "JOIN":
            for name in rest.split(","):
                self._join(connection, name.strip().lstrip("#").lower())
        elif command == "PART":
            for name in rest.split(","):
                login = name.strip().lstrip("#").lower()
                connection.channels.discard(login)
                connection.send(
                    f":{connection.nick}!{connection.nick}@x.tmi.twitch.tv PART #{login}"
                )

    def _join(self, connection: _Connection, login: str) -> None:
        now = time.monotonic()
        connection.join_times = [t for t in connection.join_times if now - t < 10.0]
        if len(connection.join_times) >= self.settings.chat_joins_per_10s:
            connection.send(f":tmi.twitch.tv NOTICE #{login} :join rate limit exceeded")
            return
        connection.join_times.append(now)
        index = self.market.channel_of_login(login)
        if index is None:
            connection.send(
                f"@msg-id=msg_channel_suspended :tmi.twitch.tv NOTICE #{login} :No such channel"
            )
            return
        if login not in self._channels:
            self._channels[login] = _Channel(self.market, index, self.settings.seed)
        connection.channels.add(login)
        nick = connection.nick
        connection.send(f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN #{login}")
        room_id = self._channels[login].room_id
        connection.send(
            f"@emote-only=0;followers-only=-1;r9k=0;room-id={room_id};slow=0;subs-only=0 "
            f":tmi.twitch.tv ROOMSTATE #{login}"
        )

    def _viewers(self, now: float) -> np.ndarray:
        quantum = int(now // self.market.settings.drift_seconds)
        if self._live is None or self._live[0] != quantum:
            arrays = self.market.live_arrays(now, quantum)
            viewers = np.full(self.market.settings.channels, -1, dtype=np.int64)
            viewers[arrays.channel] = arrays.viewers
            self._live = (quantum, viewers)
        return self._live[1]

    async def _generate(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            tick = time.monotonic()
            elapsed, last = tick - last, tick
            if self.paused or not self._connections:
                continue
            try:
                self._tick(elapsed)
            except Exception:  # the generator must outlive any one bad tick
                log.exception("chat generator tick failed")

    def _tick(self, elapsed: float) -> None:
        now = self.clock.now()
        # Who is live follows the live clock, unless the market stands still (tests).
        frozen = self.market.settings.frozen_at is not None
        viewers = self._viewers(self.market.now() if frozen else now)
        listeners: dict[str, list[_Connection]] = {}
        for connection in list(self._connections):
            if connection.writer.transport.get_write_buffer_size() > MAX_BUFFER_BYTES:
                connection.send(":tmi.twitch.tv NOTICE * :You are reading too slowly")
                connection.closing = True
                self._connections.discard(connection)
                connection.writer.close()
                continue
            for login in connection.channels:
                listeners.setdefault(login, []).append(connection)
            if self.settings.chat_reconnect_rate and (
                self._rng.random() < self.settings.chat_reconnect_rate * elapsed / 60.0
            ):
                connection.send(":tmi.twitch.tv RECONNECT")
                connection.closing = True
                self._connections.discard(connection)
                connection.writer.close()
        sent_ms = int(now * 1000)
        minute = sent_ms - sent_ms % MINUTE_MS
        scale = self.settings.chat_rate_scale
        for login, connections in listeners.items():
            channel = self._channels[login]
            count = int(viewers[channel.index])
            if count < 0:
                continue  # offline channels are silent
            factor, hype, shout = self.schedule.chat_at(login, now)
            per_minute = 0.5 * max(count, 1) ** 0.9 * scale * factor
            channel.carry += per_minute * elapsed / 60.0
            n = int(channel.carry)
            channel.carry -= n
            if n:
                self._emit(channel, connections, n, (hype, shout), sent_ms, minute)

    def sample_lines(self, login: str, count: int, sent_ms: int) -> list[str]:
        """`count` lines of a channel's chat as the server would write them (benchmarks),
        without sending or counting them."""
        index = self.market.channel_of_login(login)
        if index is None:
            raise KeyError(login)
        channel = _Channel(self.market, index, self.settings.seed)
        return self._render(channel, count, CALM, sent_ms, LedgerEntry())[0]

    def _render(
        self, channel: _Channel, n: int, mood: Mood, sent_ms: int, entry: LedgerEntry
    ) -> tuple[list[str], list[str]]:
        """`n` tagged and untagged lines, counted into `entry`; `mood` is the share of
        hype messages and of shouted ones."""
        rng = channel.rng
        chatters = rng.choices(range(len(channel.chatter_ids)), channel.chatter_weights, k=n)
        hype_share, shout_share = mood
        tagged: list[str] = []
        plain: list[str] = []
        for chatter in chatters:
            subscribed = channel.chatter_subscribed[chatter]
            pool = channel.hype if rng.random() < hype_share else channel.normal
            half = len(pool) // 2
            body = pool[rng.randrange(half) + (half if subscribed else 0)]
            text = body.shouted_text if rng.random() < shout_share else body.text
            user = channel.chatter_ids[chatter]
            message = f":u{user}!u{user}@u{user}.tmi.twitch.tv PRIVMSG #{channel.login} :{text}"
            plain.append(message)
            tagged.append(
                f"@badge-info=;badges={'subscriber/12' if subscribed else ''};"
                f"color=#1E90FF;display-name=u{user};"
                f"{'emote-only=1;' if body.emote_only else ''}emotes={body.emotes_tag};"
                f"first-msg=0;flags=;id={uuid.UUID(int=rng.getrandbits(128))};mod=0;"
                f"returning-chatter=0;room-id={channel.room_id};"
                f"subscriber={int(subscribed)};tmi-sent-ts={sent_ms};turbo=0;"
                f"user-id={user};user-type= {message}"
            )
            entry.messages += 1
            entry.chatters.add(user)
            entry.free_uses += body.free_uses
            entry.paid_uses += body.paid_uses
            for emote_id, uses in body.uses:
                entry.emotes[emote_id] += uses
        return tagged, plain

    def _emit(
        self,
        channel: _Channel,
        connections: list[_Connection],
        n: int,
        mood: Mood,
        sent_ms: int,
        minute: int,
    ) -> None:
        connections = [c for c in connections if not c.closing]
        if not connections:
            return
        with self.lock:
            entry = self.ledger.get((channel.login, minute))
            if entry is None:
                entry = self.ledger[(channel.login, minute)] = LedgerEntry()
            tagged, plain = self._render(channel, n, mood, sent_ms, entry)
        # The ledger counts the lines once: every joined connection gets the same lines.
        payloads = {True: ("\r\n".join(tagged) + "\r\n").encode()}
        for connection in connections:
            if not connection.tags and False not in payloads:
                payloads[False] = ("\r\n".join(plain) + "\r\n").encode()
            connection.writer.write(payloads[connection.tags])
