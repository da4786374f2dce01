"""An asyncio Twitch IRC reader: joins channels, keeps them joined, counts what they say.

Plain asyncio rather than an IRC library: the reader needs only a handful of commands
(CAP, NICK, JOIN, PART, PING/PONG, RECONNECT, PRIVMSG) and must parse tens of thousands
of lines a second on one core, which the object-per-event libraries (irc, pydle,
twitchio) are not built for. One reader is one connection; channel sets are sharded
across processes for more.

It reconnects (with backoff) on RECONNECT, a closed socket, or six silent minutes (Twitch
pings every five), and rejoins every channel; counts live in :class:`MinuteCounts`
outside the connection, so no minute's counts are lost with it.

Reading and parsing are two tasks: the socket is drained as fast as bytes arrive into a
backlog the parser works through, so a busy machine never makes Twitch cut the reader off
for reading too slowly. When the backlog stays past `shed_backlog_bytes` for
`shed_after_seconds`, the reader parts the least-watched quarter of its channels (logged;
fewer channels are then marked as read) and, after `REGROW_SECONDS` of keeping up, takes
a tenth back at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chat.counts import MINUTE_MS, MinuteCounts
from chat.errors import IrcParseError
from chat.irc import chat_message, parse_line, parse_privmsg

log = logging.getLogger(__name__)

SILENCE_SECONDS = 360.0
JOIN_CONFIRM_SECONDS = 15.0
HEALTHY_SECONDS = 60.0  # a connection that lasted this long resets the backoff
READ_SIZE = 1 << 20  # the most taken from the socket at once: all it holds, mostly
PARSE_SIZE = 1 << 16  # the most parsed before the socket is read again
# Unparsed bytes at which the least-watched channels are parted: about a second of the top
# 1,000 channels' chat at their peak, more than a pause (a flush, a collection) leaves.
SHED_BACKLOG_BYTES = 16 << 20
CALM_BACKLOG_BYTES = 256 << 10  # below this the reader is keeping up
SHED_SHARE = 0.25  # of the channels read, parted at once
# A backlog past that size for this long is a reader that cannot keep up, not a pause (the
# first joins and emote lists, say); parts take effect over seconds, so cuts are this far
# apart too.
SHED_AFTER_SECONDS = 10.0
REGROW_SECONDS = 300.0  # keeping up this long: a tenth more channels are joined
DRAIN_SECONDS = 2.0  # on stop, the backlog is parsed for at most this long


@dataclass
class ReaderStats:
    lines: int = 0
    messages: int = 0
    bad_lines: int = 0
    connections: int = 0
    reconnects: int = 0
    join_notices: int = 0
    bytes: int = 0
    sheds: int = 0  # times the least-watched channels were parted to keep up
    backlog_bytes: int = 0  # read, not parsed yet


@dataclass
class _Session:
    writer: asyncio.StreamWriter
    joined: set[str] = field(default_factory=set)
    pending: dict[str, float] = field(default_factory=dict)  # channel → when JOIN was sent
    join_times: list[float] = field(default_factory=list)
    backlog: deque[bytes] = field(default_factory=deque)  # read, not parsed yet
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    read_done: bool = False


class ChatReader:
    """Reads the chat of `wanted` channels from `url` (`irc://` or `ircs://host:port`)."""

    def __init__(
        self,
        url: str,
        counts: MinuteCounts,
        *,
        joins_per_10s: int = 20,
        nick: str = "",
        token: str = "",
        clock: Callable[[], float] = time.time,
        shed_backlog_bytes: int = SHED_BACKLOG_BYTES,
        shed_after_seconds: float = SHED_AFTER_SECONDS,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("irc", "ircs") or not parts.hostname:
            raise ValueError(f"chat URL must be irc://host:port or ircs://host:port, not {url!r}")
        self.host = parts.hostname
        self.tls = parts.scheme == "ircs"
        self.port = parts.port or (6697 if self.tls else 6667)
        self.counts = counts
        self.joins_per_10s = joins_per_10s
        # Anonymous reading: `justinfan<digits>` needs no token.
        self.nick = nick or f"justinfan{random.randint(10_000, 99_999)}"
        self._token = token
        self._clock = clock
        self.shed_backlog_bytes = shed_backlog_bytes
        self.shed_after_seconds = shed_after_seconds
        self.wanted: set[str] = set()
        self._priority: list[str] = []  # the wanted channels, the one to keep longest first
        self.capacity: int | None = None  # how many of them are read while shedding
        self._capacity_changed = 0.0  # monotonic time of the last cut or regrowth
        self._behind_since: float | None = None  # since when the backlog is past the bar
        self.room_ids: dict[str, str] = {}
        self.stats = ReaderStats()
        self.connected = asyncio.Event()
        self._session: _Session | None = None
        self._skew_ms = 0  # Twitch's clock minus ours, from the newest message

    def follow(self, channels: Iterable[str]) -> None:
        """Read these channels from now on (joins and parts follow within seconds), in
        order of priority: when the reader cannot keep up, the last ones are parted first."""
        self._priority = list(dict.fromkeys(c.lower().lstrip("#") for c in channels))
        self.wanted = set(self._priority)

    def targets(self) -> set[str]:
        """The wanted channels the reader joins now: all of them unless it is shedding."""
        if self.capacity is None:
            return set(self.wanted)
        return set(self._priority[: self.capacity])

    @property
    def joined(self) -> set[str]:
        return set(self._session.joined) if self._session else set()

    def server_now_ms(self) -> int:
        """Twitch's clock as the newest message showed it (ours until one arrives)."""
        return int(self._clock() * 1000) + self._skew_ms

    def server_minute(self) -> int:
        now = self.server_now_ms()
        return now - now % MINUTE_MS

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set."""
        backoff = 1.0
        while not stop.is_set():
            began = time.monotonic()
            try:
                await self._connect_and_read(stop)
                backoff = 1.0
            except (TimeoutError, OSError, ConnectionError) as error:
                if time.monotonic() - began > HEALTHY_SECONDS:
                    backoff = 1.0  # it had been working: a new failure, not a streak of them
                log.warning("chat connection lost (%s); reconnecting in %.0f s", error, backoff)
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 60.0)
            if not stop.is_set():
                self.stats.reconnects += 1

    async def _connect_and_read(self, stop: asyncio.Event) -> None:
        context = ssl.create_default_context() if self.tls else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=context, limit=READ_SIZE), 15
        )
        session = self._session = _Session(writer)
        self.stats.connections += 1
        self._send(session, "CAP REQ :twitch.tv/tags twitch.tv/commands")
        if self._token:
            self._send(session, f"PASS oauth:{self._token}")
        self._send(session, f"NICK {self.nick}")
        self.connected.set()
        upkeep = asyncio.create_task(self._upkeep(session, stop))
        parsing = asyncio.create_task(self._parse(session))
        reading = asyncio.create_task(self._read(reader, session, stop))
        try:
            await asyncio.wait({reading, parsing}, return_when="FIRST_COMPLETED")
            if parsing.done():  # RECONNECT (or a fault): the caller connects again
                reading.cancel()
                parsing.result()
                return
            session.read_done = True
            session.arrived.set()
            # What was read is counted (within bounds when stopping) before the reading
            # task's outcome (a lost connection) is raised.
            await asyncio.wait({parsing}, timeout=DRAIN_SECONDS if stop.is_set() else None)
            reading.result()
        finally:
            for task in (upkeep, parsing, reading):
                task.cancel()
            self.stats.backlog_bytes = 0
            self.connected.clear()
            self._session = None
            writer.close()

    async def _read(
        self, reader: asyncio.StreamReader, session: _Session, stop: asyncio.Event
    ) -> None:
        """Move bytes from the socket to the backlog until stopped or disconnected."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                reading = asyncio.ensure_future(reader.read(READ_SIZE))
                done, _ = await asyncio.wait(
                    {reading, stopping}, timeout=SILENCE_SECONDS, return_when="FIRST_COMPLETED"
                )
                if reading not in done:
                    reading.cancel()
                    if stopping in done:
                        return
                    raise TimeoutError(f"no line for {SILENCE_SECONDS:.0f} s")
                data = reading.result()
                if not data:
                    raise ConnectionError("server closed the connection")
                self.stats.bytes += len(data)
                session.backlog.append(data)
                self.stats.backlog_bytes += len(data)
                session.arrived.set()
                if self.stats.backlog_bytes > self.shed_backlog_bytes:
                    self._shed(session)
        finally:
            stopping.cancel()

    async def _parse(self, session: _Session) -> None:
        """Count the backlog's lines, a read at a time, letting the socket be read between
        reads; returns on RECONNECT or once the connection is over and the backlog empty."""
        pending = b""
        while True:
            if not session.backlog:
                if session.read_done:
                    return
                session.arrived.clear()
                await session.arrived.wait()
                continue
            data = session.backlog.popleft()
            if len(data) > PARSE_SIZE:
                data, rest = data[:PARSE_SIZE], data[PARSE_SIZE:]
                session.backlog.appendleft(rest)
            self.stats.backlog_bytes -= len(data)
            if self.stats.backlog_bytes <= self.shed_backlog_bytes:
                self._behind_since = None
            buffer = pending + data
            cut = buffer.rfind(b"\r\n")
            if cut < 0:
                pending = buffer
                continue
            # CRLF is ASCII, so the cut never splits a UTF-8 character: one decode a read.
            pending = buffer[cut + 2 :]
            lines = buffer[:cut].decode("utf-8", "replace").split("\r\n")
            if self._handle(lines, session):
                return
            await asyncio.sleep(0)

    def _shed(self, session: _Session) -> None:
        """Part the least-watched quarter of the channels read, once the backlog has been
        past the bar for `shed_after_seconds`."""
        now = time.monotonic()
        if self._behind_since is None:
            self._behind_since = now
        if now - self._behind_since < self.shed_after_seconds:
            return
        read = len(self.targets() & session.joined) or len(session.joined)
        if read <= 1:
            return
        self.capacity = max(1, int(read * (1 - SHED_SHARE)))
        self._capacity_changed = self._behind_since = now
        self.stats.sheds += 1
        log.warning(
            "chat: reading too slowly (%.1f MB behind): reading the top %d of %d channels",
            self.stats.backlog_bytes / 2**20,
            self.capacity,
            len(self.wanted),
        )

    def _regrow(self) -> None:
        """After keeping up for a while, join a tenth more of the wanted channels."""
        if self.capacity is None or self.stats.backlog_bytes > CALM_BACKLOG_BYTES:
            return
        now = time.monotonic()
        if now - self._capacity_changed < REGROW_SECONDS:
            return
        self.capacity += max(1, self.capacity // 10)
        self._capacity_changed = now
        if self.capacity >= len(self.wanted):
            self.capacity = None
            log.info("chat: keeping up again: reading all %d channels", len(self.wanted))

    def _handle(self, lines: list[str], session: _Session) -> bool:
        """Count the PRIVMSGs, answer the rest; True when the server asks to reconnect."""
        add = self.counts.add
        newest = 0
        messages = 0
        reconnect = False
        for line in lines:
            if not line:
                continue
            # Nearly every line is a tagged PRIVMSG: the fast path takes those; any other
            # line (an untagged PRIVMSG included) goes through the general parser.
            message = parse_privmsg(line)
            parsed = None
            if message is None:
                try:
                    parsed = parse_line(line)
                except IrcParseError:
                    self.stats.bad_lines += 1
                    continue
                message = chat_message(parsed)
            if message is not None:
                add(message)
                messages += 1
                newest = message.sent_ms
                continue
            assert parsed is not None
            self.stats.lines += 1
            command = parsed.command
            if command == "PING":
                self._send(session, f"PONG :{parsed.trailing or 'tmi.twitch.tv'}")
            elif command == "RECONNECT":
                reconnect = True  # after the stats of the lines before it are kept
                break
            elif command in ("JOIN", "PART") and parsed.params:
                channel = parsed.params[0].lstrip("#")
                if parsed.prefix.partition("!")[0] == self.nick:
                    session.pending.pop(channel, None)
                    if command == "JOIN":
                        session.joined.add(channel)
                    else:
                        session.joined.discard(channel)
            elif command == "ROOMSTATE" and parsed.params:
                room = parsed.tags.get("room-id")
                if room:
                    self.room_ids[parsed.params[0].lstrip("#")] = room
            elif command == "NOTICE" and parsed.params:
                channel = parsed.params[0].lstrip("#")
                if channel in session.pending:  # a refused JOIN is retried later
                    self.stats.join_notices += 1
                    session.pending.pop(channel, None)
                elif channel == "*":  # about the connection (a login failure, say)
                    log.warning("chat server notice: %s", parsed.trailing)
        self.stats.lines += messages
        self.stats.messages += messages
        if newest:
            self._skew_ms = newest - int(self._clock() * 1000)
        return reconnect

    async def _upkeep(self, session: _Session, stop: asyncio.Event) -> None:
        """Join what is wanted and part what is not, within the JOIN rate limit; note which
        channels were listened to in each minute."""
        while not stop.is_set():
            self._regrow()
            targets = self.targets()
            now = time.monotonic()
            session.join_times = [t for t in session.join_times if now - t < 10.0]
            for channel, sent in list(session.pending.items()):
                if now - sent > JOIN_CONFIRM_SECONDS:
                    del session.pending[channel]
            for channel in sorted(targets - session.joined - session.pending.keys()):
                if len(session.join_times) >= self.joins_per_10s:
                    break
                self._send(session, f"JOIN #{channel}")
                session.pending[channel] = now
                session.join_times.append(now)
            for channel in sorted(session.joined - targets):
                self._send(session, f"PART #{channel}")
                session.joined.discard(channel)
            self.counts.listening(self.server_minute(), session.joined)
            await sleep_or_stop(stop, 0.5)

    def _send(self, session: _Session, line: str) -> None:
        session.writer.write(line.encode() + b"\r\n")


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
