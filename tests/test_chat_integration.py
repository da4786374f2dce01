"""The chat reader against the emulator's IRC server, storing into FerretDB over the wire."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import requests

from chat.counts import MinuteCounts
from chat.daemon import ChatDaemon, in_shard
from chat.irc import ChatMessage
from chat.reader import ChatReader
from emulator.server import EmulatorServer
from scheduler.app import build_collector
from settings import Settings
from store import ChatStore, Store, read_chat_rollup
from store.schema import CHAT_MINUTES, EMOTES
from tests.conftest import FROZEN_AT, EmulatorFactory, collector_settings
from twitch_client import TwitchClient

CHANNELS = 12
# The chat's clock: five minutes into the tests' slot, so its minutes belong to that slot.
CHAT_START = FROZEN_AT.timestamp() + 300


def _emulator(make_emulator: EmulatorFactory) -> EmulatorServer:
    return make_emulator(
        chat_rate_scale=3.0,
        clock_offset_seconds=CHAT_START - time.time(),
        chat_joins_per_10s=200,
    )


def _top_logins(emulator: EmulatorServer, count: int) -> list[str]:
    market = emulator.state.source
    live = market.live_arrays(market.now())
    order = np.argsort(-live.viewers, kind="stable")[:count]
    return [market.login_of(int(i)) for i in live.channel[order]]


def _settings(emulator: EmulatorServer, store: Store, tmp_path: Path, **extra: Any) -> Settings:
    host, port = store.db.client.address or ("127.0.0.1", 27017)
    return collector_settings(
        emulator.url,
        f"mongodb://{host}:{port}/",
        store.db.name,
        tmp_path / "spool",
        chat_irc_url=emulator.chat_url,
        chat_joins_per_10s=200,
        chat_flush_seconds=0.5,
        chat_follow_seconds=0.5,
        chat_topics="worldcup,patch",
        **extra,
    )


def _sent(emulator: EmulatorServer) -> dict[str, Any]:
    response = requests.get(f"{emulator.url}/_emulator/chat/sent", timeout=10)
    response.raise_for_status()
    return dict(response.json())


def _control(emulator: EmulatorServer, action: str) -> dict[str, Any]:
    response = requests.post(f"{emulator.url}/_emulator/chat/{action}", timeout=10)
    response.raise_for_status()
    return dict(response.json())


async def _until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def _known_catalogue(daemon: ChatDaemon, emulator: EmulatorServer) -> None:
    """Every emote list fetched before the first message, so free/paid is exact."""
    market = emulator.state.source
    logins = _top_logins(emulator, CHANNELS)
    rooms = {login: market.user_id_of(market.channel_of_login(login)) for login in logins}
    assert daemon.refresh_emotes(["", *logins], rooms) == len(logins) + 1


async def _read(daemons: list[ChatDaemon], emulator: EmulatorServer, *, disconnect: bool) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(d.run(stop)) for d in daemons]
    wanted = sum(len(d.mine(_top_logins(emulator, CHANNELS))) for d in daemons)
    await _until(lambda: sum(len(d.reader.joined) for d in daemons) == wanted, "joins")
    await _until(lambda: sum(d.reader.stats.messages for d in daemons) > 300, "messages")
    if disconnect:
        assert _control(emulator, "reconnect")["reconnected"] == len(daemons)
        await _until(lambda: all(d.reader.stats.connections >= 2 for d in daemons), "reconnect")
        await _until(lambda: sum(len(d.reader.joined) for d in daemons) == wanted, "rejoins")
        before = sum(d.reader.stats.messages for d in daemons)
        await _until(lambda: sum(d.reader.stats.messages for d in daemons) > before + 300, "more")
    _control(emulator, "pause")
    # Everything the server wrote has been read before the readers stop.
    total = _sent(emulator)["messages"]
    await _until(lambda: sum(d.reader.stats.messages for d in daemons) == total, "the last lines")
    stop.set()
    await asyncio.gather(*tasks)


def _stored(store: Store) -> dict[tuple[str, int], dict[str, Any]]:
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for document in store.db[CHAT_MINUTES].find():
        minute = int(document["minute"].timestamp() * 1000)
        # A document names exactly the emotes it counts (each was seen in a message).
        used = {
            e
            for entry in document["channels"]
            for e in [*entry["free_emotes"], *entry["paid_emotes"]]
        }
        assert set(document["emote_names"]) == used
        for entry in document["channels"]:
            key = (entry["channel"], minute)
            assert key not in rows, f"{key} stored by two readers"
            if entry["messages"]:
                rows[key] = entry
    return rows


def _assert_equal_to_ledger(
    store: Store, emulator: EmulatorServer
) -> dict[tuple[str, int], dict[str, Any]]:
    sent = _sent(emulator)["minutes"]
    stored = _stored(store)
    assert set(stored) == {(row["channel"], row["minute_ms"]) for row in sent}
    for row in sent:
        entry = stored[(row["channel"], row["minute_ms"])]
        assert entry["messages"] == row["messages"]
        assert entry["chatters"] == row["chatters"]
        assert entry["free_emote_uses"] == row["free_emote_uses"]
        assert entry["paid_emote_uses"] == row["paid_emote_uses"]
        assert {**entry["free_emotes"], **entry["paid_emotes"]} == row["emotes"]
    return stored


def test_reader_stores_per_minute_counts_equal_to_what_was_sent_across_a_disconnect(
    make_emulator: EmulatorFactory, store: Store, tmp_path: Path
) -> None:
    emulator = _emulator(make_emulator)
    settings = _settings(emulator, store, tmp_path)
    client = TwitchClient(settings)
    daemon = ChatDaemon(
        settings, ChatStore(store.db), client, channels=lambda: _top_logins(emulator, CHANNELS)
    )
    _known_catalogue(daemon, emulator)
    asyncio.run(_read([daemon], emulator, disconnect=True))
    assert daemon.reader.stats.reconnects >= 1
    stored = _assert_equal_to_ledger(store, emulator)
    assert sum(e["messages"] for e in stored.values()) == _sent(emulator)["messages"]
    # Counts only: no message text and no chatter id is stored.
    document = store.db[CHAT_MINUTES].find_one()
    assert document is not None and "text" not in str(document.keys())
    # The emote lists the reader fetched are in the catalogue.
    assert store.db[EMOTES].count_documents({"paid": False, "type": "global"}) >= 30
    assert store.db[EMOTES].count_documents({"paid": True}) > 0


def test_two_readers_split_the_channels_and_rollups_merge_them(
    make_emulator: EmulatorFactory, store: Store, tmp_path: Path
) -> None:
    emulator = _emulator(make_emulator)
    collect = collector_settings(
        emulator.url,
        _settings(emulator, store, tmp_path).mongodb_uri,
        store.db.name,
        tmp_path / "spool",
        frames_top=0,
        frames_random=0,
        frames_non_game=0,
    )
    collector = build_collector(collect, clock=lambda: FROZEN_AT)
    collector.collect(FROZEN_AT)
    collector.close()
    daemons = []
    for shard in (0, 1):
        settings = _settings(emulator, store, tmp_path, chat_shards=2, chat_shard=shard)
        client = TwitchClient(settings)
        daemon = ChatDaemon(
            settings, ChatStore(store.db), client, channels=lambda: _top_logins(emulator, CHANNELS)
        )
        _known_catalogue(daemon, emulator)
        daemons.append(daemon)
    asyncio.run(_read(daemons, emulator, disconnect=False))
    mine = [set(d.mine(_top_logins(emulator, CHANNELS))) for d in daemons]
    assert mine[0] and mine[1] and not mine[0] & mine[1]
    assert mine[0] | mine[1] == set(_top_logins(emulator, CHANNELS))
    assert all(in_shard(c, i, 2) for i, part in enumerate(mine) for c in part)
    stored = _assert_equal_to_ledger(store, emulator)

    documents = ChatStore(store.db).build_rollups(
        FROZEN_AT, FROZEN_AT + timedelta(minutes=30), daemons[0].shards
    )
    assert [d["dimension"] for d in documents] == ["all", "channel", "game", "genre", "language"]
    # Independently: each channel's game and viewers from the stored streams of the slot.
    streams = {s["user_login"]: s for s in store.db["streams"].find({"slot": FROZEN_AT})}
    minutes: dict[str, int] = defaultdict(int)
    messages: dict[str, int] = defaultdict(int)
    for (channel, _), entry in stored.items():
        messages[channel] += entry["messages"]
    for document in store.db[CHAT_MINUTES].find():
        for entry in document["channels"]:
            minutes[entry["channel"]] += 1
    by_game: dict[str, dict[str, int]] = defaultdict(lambda: {"messages": 0, "viewer_minutes": 0})
    for channel, count in messages.items():
        stream = streams[channel]
        by_game[stream["game_id"]]["messages"] += count
    for channel, count in minutes.items():
        by_game[streams[channel]["game_id"]]["viewer_minutes"] += (
            streams[channel]["viewer_count"] * count
        )
    rollup = read_chat_rollup(store.db, FROZEN_AT, "game")
    assert rollup is not None
    groups = {g["key"]: g for g in rollup["groups"]}
    assert {
        k: {"messages": g["messages"], "viewer_minutes": g["viewer_minutes"]}
        for k, g in groups.items()
    } == dict(by_game)
    assert store.db["meta"].find_one({"_id": "chat"})["newest_slot"] == FROZEN_AT
    assert datetime.now(UTC) > FROZEN_AT
    _assert_live_view_equals_ledger(store, emulator, daemons[0].shards)


def _assert_live_view_equals_ledger(
    store: Store, emulator: EmulatorServer, shards: list[str]
) -> None:
    """The Chat page's live figures, read over the wire from both shards' minutes, equal
    the emulator's ledger."""
    from dashboard.chat_live import NOW_MINUTES, ChatLive
    from store import StoreReader

    sent = _sent(emulator)["minutes"]
    newest = max(row["minute_ms"] for row in sent)
    now = datetime.fromtimestamp(newest / 1000 + 30, UTC)
    host, port = store.db.client.address or ("127.0.0.1", 27017)
    reader = StoreReader(f"mongodb://{host}:{port}/", store.db.name)
    try:
        live = ChatLive(reader, shards, clock=lambda: now).current()
    finally:
        reader.close()
    per_minute = live.per_minute().dropna(subset=["messages"])
    expected: dict[datetime, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in sent:
        sums = expected[datetime.fromtimestamp(row["minute_ms"] / 1000, UTC)]
        sums[0] += row["messages"]
        sums[1] += row["free_emote_uses"]
        sums[2] += row["paid_emote_uses"]
    shown = per_minute[["messages", "free", "paid"]].astype(int)
    assert {m: list(v) for m, v in zip(shown.index, shown.to_numpy().tolist(), strict=True)} == (
        dict(expected)
    )
    since = newest - (NOW_MINUTES - 1) * 60_000
    recent = [row for row in sent if row["minute_ms"] >= since]
    uses: dict[str, int] = defaultdict(int)
    for row in recent:
        uses[row["channel"]] += row["free_emote_uses"] + row["paid_emote_uses"]
    top = live.top_channels(5)
    assert (
        list(zip(top["channel"], top["uses"], strict=True))
        == sorted(uses.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    )
    first = str(top["channel"].iloc[0])
    emotes: dict[str, int] = defaultdict(int)
    for row in recent:
        if row["channel"] == first:
            for emote, count in row["emotes"].items():
                emotes[emote] += count
    shown_emotes = live.channel_emotes(first, count=len(emotes) + 1)
    assert dict(zip(shown_emotes["emote"], shown_emotes["uses"], strict=True)) == emotes


def test_chat_not_read_is_not_shown_as_zeros_and_a_part_read_says_how_much(
    store: Store, ferretdb: Any
) -> None:
    from dashboard.chat_data import ChatData
    from store import StoreReader
    from store.schema import CHAT_ROLLUPS

    chat = ChatStore(store.db)
    unread, partly = FROZEN_AT, FROZEN_AT + timedelta(minutes=30)
    entry = {"channel": "someone", "messages": 4, "chatters": 2, "emotes": {"25": 3}}
    for minute in range(3):  # the reader was cut off after three minutes
        chat.write_minute(partly + timedelta(minutes=minute), "0of1", "run", [entry], {})
    assert chat.build_rollups(unread, partly, ["0of1"]) == []
    documents = chat.build_rollups(partly, partly + timedelta(minutes=30), ["0of1"])
    assert store.db[CHAT_ROLLUPS].count_documents({"slot": unread}) == 0
    everything = documents[0]
    assert everything["minutes_read"] == 3 and everything["minutes_in_slot"] == 30
    assert everything["complete"] is False
    assert everything["groups"][0]["messages"] == 12  # the minutes read, no more

    reader = StoreReader(ferretdb.uri, store.db.name)
    try:
        data = ChatData(reader)
        nothing = data.window(unread, partly)
        assert nothing.slots == []  # the page says "No chat was read", not "0 messages"
        some = data.window(unread, partly + timedelta(minutes=30))
        assert some.slots == [partly]
        assert (some.minutes_read, some.minutes_in_slots) == (3, 30)
    finally:
        reader.close()


def test_the_live_views_copy_of_a_minute_reads_back_equal_and_is_kept_two_hours(
    store: Store, ferretdb: Any
) -> None:
    from store import LIVE_KEEP, StoreReader
    from store.schema import CHAT_LIVE

    chat = ChatStore(store.db)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    entries: list[Any] = [
        {"channel": "<b>a</b>", "messages": 9, "free_emote_uses": 3, "paid_emote_uses": 2,
         "free_emotes": {"25": 3}, "paid_emotes": {"a_p1": 2}},
        {"channel": "b", "messages": 0, "free_emote_uses": 0, "paid_emote_uses": 0,
         "free_emotes": {}, "paid_emotes": {}},
        {"channel": "c", "messages": 4, "free_emote_uses": 5, "paid_emote_uses": 0,
         "free_emotes": {"25": 1, "88": 4}, "paid_emotes": {}},
    ]  # fmt: skip
    old, recent = now - LIVE_KEEP - timedelta(minutes=1), now - timedelta(minutes=1)
    for minute in (old, recent):
        chat.write_minute(minute, "0of1", "run", entries, {"25": "Kappa", "a_p1": "<i>x</i>"})
    reader = StoreReader(ferretdb.uri, store.db.name)
    try:
        (counts,) = reader.chat_live([recent], ["0of1"])
        assert (counts.minute, counts.shard) == (recent, "0of1")
        assert list(counts.channels) == ["<b>a</b>", "b", "c"]
        assert list(counts.messages) == [9, 0, 4]
        assert (list(counts.free), list(counts.paid)) == ([3, 0, 5], [2, 0, 0])
        pairs = {
            (str(counts.channels[c]), str(e), bool(p), int(u))
            for c, e, p, u in zip(
                counts.pair_channel, counts.pair_emote, counts.pair_paid, counts.pair_uses,
                strict=True,
            )
        }  # fmt: skip
        assert pairs == {
            ("<b>a</b>", "25", False, 3), ("<b>a</b>", "a_p1", True, 2),
            ("c", "25", False, 1), ("c", "88", False, 4),
        }  # fmt: skip
        assert counts.names == {"25": "Kappa", "a_p1": "<i>x</i>"}

        chat.prune_minutes(now - timedelta(days=7), now)
        assert reader.chat_live([old, recent], ["0of1"])[0].minute == recent
        assert store.db[CHAT_LIVE].count_documents({}) == 1
        assert store.db[CHAT_MINUTES].count_documents({}) == 2  # the record is kept 7 days
    finally:
        reader.close()


def test_a_chat_day_has_a_collection_of_its_own_and_one_written_before_still_reads(
    store: Store,
) -> None:
    from store import ChatDay, read_chat_day
    from store._chat import chat_day_collection
    from store.schema import CHAT_DAYS

    chat = ChatStore(store.db)
    day = datetime(2026, 11, 22, tzinfo=UTC)
    group = {"key": "g1", "name": "<b>Game</b>", "minutes": 30, "messages": 12,
             "emotes": {"25": 3}}  # fmt: skip
    rollup: Any = {"groups": [group], "emote_names": {"25": "Kappa"}, "paid_emotes": []}
    written = ChatDay.empty(day, "game").with_slot(day, rollup)
    chat.save_day(written, day)
    assert store.db[chat_day_collection(day, "game")].count_documents({}) == 1
    assert CHAT_DAYS not in store.db.list_collection_names()
    found = read_chat_day(store.db, day, "game")
    assert found is not None and found.numbers.tolist() == written.numbers.tolist()
    assert found.labels == ["<b>Game</b>"] and found.emote_names == {"25": "Kappa"}
    emotes_only = read_chat_day(store.db, day, "game", ("emotes",))
    assert emotes_only is not None and emotes_only.emotes.tolist() == written.emotes.tolist()
    assert len(emotes_only.numbers) == 0 and len(written.numbers) == 1

    before = day - timedelta(days=1)  # a day stored when all days shared one collection
    store.db[CHAT_DAYS].insert_one(dict(ChatDay.empty(before, "game").with_slot(before, rollup)
                                        .to_document(before)))  # fmt: skip
    earlier = read_chat_day(store.db, before, "game")
    assert earlier is not None and earlier.numbers.tolist() == found.numbers.tolist()
    assert read_chat_day(store.db, before - timedelta(days=1), "game") is None


class _SlowCounts(MinuteCounts):
    """Counts that cost `seconds` of CPU per message: a reader on a busy machine."""

    def __init__(self, seconds: float) -> None:
        super().__init__(lambda _emote_id, _channel: "free")
        self.seconds = seconds

    def add(self, message: ChatMessage) -> int:
        end = time.perf_counter() + self.seconds
        while time.perf_counter() < end:
            pass
        return super().add(message)


def test_a_reader_that_cannot_keep_up_parts_the_least_watched_channels_and_counts_the_rest(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(
        chat_rate_scale=6.0,
        clock_offset_seconds=CHAT_START - time.time(),
        chat_joins_per_10s=200,
    )
    priority = _top_logins(emulator, 40)
    counts = _SlowCounts(0.001)  # at most ~1,000 messages a second: less than is sent
    reader = ChatReader(
        emulator.chat_url,
        counts,
        joins_per_10s=200,
        shed_backlog_bytes=256 << 10,
        shed_after_seconds=1.0,
    )
    reader.follow(priority)

    async def read() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(reader.run(stop))
        await _until(lambda: reader.stats.sheds >= 2, "the reader to shed channels", 90)
        # Until it keeps up, it may part more: the channels read are the top ones.
        await _until(lambda: reader.joined == set(priority[: reader.capacity]), "the parts", 30)
        before = reader.stats.messages
        await _until(lambda: reader.stats.messages > before + 500, "counting to go on", 30)
        _control(emulator, "pause")
        sent = _sent(emulator)["messages"]
        await _until(lambda: reader.stats.messages == sent, "the backlog to be counted", 90)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(read())
    # Never cut off for reading too slowly: one connection throughout.
    assert reader.stats.connections == 1 and reader.stats.reconnects == 0
    assert reader.capacity is not None and reader.capacity < len(priority)
    # Every line the server wrote was counted, for the parted channels as for the others.
    counted: dict[str, int] = defaultdict(int)
    for minute in counts.open_minutes():
        for entry in counts.entries(minute):
            counted[str(entry["channel"])] += int(entry["messages"])
    ledger: dict[str, int] = defaultdict(int)
    for row in _sent(emulator)["minutes"]:
        ledger[row["channel"]] += row["messages"]
    assert dict(counted) == dict(ledger)
    parted = set(priority) - set(priority[: reader.capacity])
    assert parted and all(ledger[c] > 0 for c in parted)
