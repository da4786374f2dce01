"""The chat daemon's schedule and sharding, with a recording store (no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chat.daemon import ChatDaemon, in_shard
from chat.irc import ChatMessage
from settings import Settings
from slots import DEFAULT_CADENCE, Cadence
from store import StoreUnavailable

SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class RecordingStore:
    def __init__(self) -> None:
        self.built: list[tuple[datetime, bool]] = []
        self.minutes: dict[datetime, list[dict[str, Any]]] = {}
        self.down = False
        self.pruned: list[datetime] = []
        self.order: list[tuple[str, datetime]] = []  # what was written: live copy or minute

    def build_rollups(
        self, slot: datetime, end: datetime, shards: Sequence[str], *, complete: bool
    ) -> list[Any]:
        self.built.append((slot, end, complete))
        return []

    def prune_minutes(self, before: datetime, now: datetime | None = None) -> int:
        self.pruned.append(before)
        return 0

    def read_minute(self, minute: datetime, shard: str) -> dict[str, Any] | None:
        return None

    def write_live(self, minute: datetime, shard: str, channels: Any, names: Any) -> None:
        if self.down:
            raise StoreUnavailable("MongoDB unreachable")
        self.order.append(("live", minute))

    def write_minute(
        self, minute: datetime, shard: str, run: str, channels: Any, names: Any, live: bool = True
    ) -> None:
        if self.down:
            raise StoreUnavailable("MongoDB unreachable")
        if live:
            self.order.append(("live", minute))
        self.order.append(("minute", minute))
        self.minutes[minute] = list(channels)


def _daemon(
    tmp_path: Path, store: RecordingStore, now: datetime = SLOT, **extra: Any
) -> ChatDaemon:
    settings = Settings(_env_file=None, spool_dir=tmp_path / "spool", **extra)  # type: ignore[call-arg]
    return ChatDaemon(
        settings,
        store,  # type: ignore[arg-type]
        None,
        channels=lambda: [],
        clock=lambda: now.timestamp(),
    )


def test_next_slot_follows_the_snapshot_minutes() -> None:
    assert DEFAULT_CADENCE.next_slot(SLOT) == SLOT + timedelta(minutes=30)
    assert DEFAULT_CADENCE.next_slot(SLOT + timedelta(minutes=30)) == SLOT + timedelta(hours=1)
    assert Cadence((0,)).next_slot(SLOT) == SLOT + timedelta(hours=1)
    assert Cadence((0, 15, 45)).next_slot(SLOT) == SLOT + timedelta(minutes=15)


def test_a_finished_slot_is_rolled_up_once_and_the_running_one_every_five_minutes(
    tmp_path: Path,
) -> None:
    store = RecordingStore()
    daemon = _daemon(tmp_path, store)
    half = timedelta(minutes=30)
    after = SLOT + half + timedelta(seconds=91)  # past the 90 s grace
    daemon.roll_up_due(after)
    daemon.roll_up_due(after + timedelta(minutes=1))
    daemon.roll_up_due(after + timedelta(minutes=6))
    assert store.built == [
        (SLOT, SLOT + half, True),
        (SLOT + half, SLOT + 2 * half, False),
        (SLOT + half, SLOT + 2 * half, False),
    ]
    assert store.pruned == [after - timedelta(days=7)]


def test_hourly_snapshots_roll_up_an_hour_of_chat(tmp_path: Path) -> None:
    store = RecordingStore()
    daemon = _daemon(tmp_path, store, snapshot_minutes="0", snapshot_misfire_grace_seconds=60)
    daemon.roll_up_due(SLOT + timedelta(hours=1, minutes=2))
    hour = timedelta(hours=1)
    assert store.built == [(SLOT, SLOT + hour, True), (SLOT + hour, SLOT + 2 * hour, False)]


def test_shards_split_every_channel_exactly_once() -> None:
    logins = [f"channel{i}" for i in range(1_000)]
    parts = [{c for c in logins if in_shard(c, i, 3)} for i in range(3)]
    assert sum(len(p) for p in parts) == len(logins)
    assert set().union(*parts) == set(logins)
    assert all(len(p) > 250 for p in parts)


def _message(minute: datetime, channel: str = "a") -> ChatMessage:
    return ChatMessage(
        channel, "1", "u1", "hi", int(minute.timestamp() * 1000), False, False, (), ()
    )


def test_minutes_survive_a_store_outage_and_old_ones_are_spooled(tmp_path: Path) -> None:
    store = RecordingStore()
    daemon = _daemon(tmp_path, store, SLOT + timedelta(minutes=10), chat_max_pending_minutes=2)
    for m in range(5):
        daemon.counts.add(_message(SLOT + timedelta(minutes=m)))
    store.down = True
    assert asyncio.run(daemon.flush()) == 0
    # More complete minutes than may wait in memory: they went to the spool, none lost.
    spooled = sorted((tmp_path / "spool" / "chat").glob("*.json"))
    assert len(spooled) == 5 and daemon.counts.open_minutes() == []
    store.down = False
    asyncio.run(daemon.flush())
    assert sorted(store.minutes) == [SLOT + timedelta(minutes=m) for m in range(5)]
    assert all(store.minutes[m][0]["messages"] == 1 for m in store.minutes)
    assert list((tmp_path / "spool" / "chat").glob("*.json")) == []


def test_a_short_outage_keeps_minutes_in_memory_until_written(tmp_path: Path) -> None:
    store = RecordingStore()
    daemon = _daemon(tmp_path, store, SLOT + timedelta(minutes=3))
    daemon.counts.add(_message(SLOT))
    store.down = True
    asyncio.run(daemon.flush())
    assert daemon.counts.open_minutes() == [int(SLOT.timestamp() * 1000)]
    store.down = False
    assert asyncio.run(daemon.flush()) == 1
    assert store.minutes[SLOT][0]["messages"] == 1 and daemon.counts.open_minutes() == []


class RunStore(RecordingStore):
    """Keeps each minute as written, with the run that wrote it."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[datetime, dict[str, Any]] = {}

    def read_minute(self, minute: datetime, shard: str) -> dict[str, Any] | None:
        if self.down:
            raise StoreUnavailable("MongoDB unreachable")
        return self.documents.get(minute)

    def write_minute(
        self, minute: datetime, shard: str, run: str, channels: Any, names: Any, live: bool = True
    ) -> None:
        super().write_minute(minute, shard, run, channels, names, live)
        self.documents[minute] = {"run": run, "channels": list(channels)}


def _messages(store: RunStore, minute: datetime) -> dict[str, int]:
    return {e["channel"]: e["messages"] for e in store.documents[minute]["channels"]}


def test_the_final_flush_with_the_store_gone_spools_and_the_next_run_writes_it(
    tmp_path: Path,
) -> None:
    store = RunStore()
    first = _daemon(tmp_path, store, SLOT + timedelta(seconds=30))
    first.counts.add(_message(SLOT, "a"))
    assert asyncio.run(first.flush()) == 1  # written while open: a=1
    for _ in range(2):
        first.counts.add(_message(SLOT, "a"))
    first.counts.add(_message(SLOT + timedelta(minutes=1), "b"))
    store.down = True  # the store stops with everything else
    assert asyncio.run(first.flush(final=True)) == 0
    assert len(list((tmp_path / "spool" / "chat").glob("*.json"))) == 2
    assert _messages(store, SLOT) == {"a": 1}

    store.down = False
    second = _daemon(tmp_path, store, SLOT + timedelta(minutes=5))
    asyncio.run(second.flush())
    assert _messages(store, SLOT) == {"a": 3}
    assert _messages(store, SLOT + timedelta(minutes=1)) == {"b": 1}
    assert list((tmp_path / "spool" / "chat").glob("*.json")) == []


def test_a_spooled_minute_of_this_run_only_adds_to_what_earlier_runs_stored_once(
    tmp_path: Path,
) -> None:
    store = RunStore()
    earlier = _daemon(tmp_path, store, SLOT + timedelta(seconds=30))
    for channel in ("a", "a", "c"):
        earlier.counts.add(_message(SLOT, channel))
    asyncio.run(earlier.flush())  # a=2, c=1 from a run that then stopped
    assert _messages(store, SLOT) == {"a": 2, "c": 1}

    later = _daemon(tmp_path, store, SLOT + timedelta(seconds=50))
    later.counts.add(_message(SLOT, "a"))
    later.counts.add(_message(SLOT, "b"))
    store.down = True  # it never read the earlier counts: it spools its own
    asyncio.run(later.flush(final=True))
    spooled = list((tmp_path / "spool" / "chat").glob("*.json"))
    assert len(spooled) == 1
    kept = spooled[0].read_bytes()

    store.down = False
    again = _daemon(tmp_path, store, SLOT + timedelta(minutes=5))
    asyncio.run(again.flush())
    assert _messages(store, SLOT) == {"a": 3, "b": 1, "c": 1}
    # Written, then stopped before the file was removed: replaying it again adds nothing.
    spooled[0].write_bytes(kept)
    asyncio.run(again.flush())
    assert _messages(store, SLOT) == {"a": 3, "b": 1, "c": 1}
    assert list((tmp_path / "spool" / "chat").glob("*.json")) == []


def test_a_minute_unchanged_since_written_is_not_written_again(tmp_path: Path) -> None:
    writes: list[datetime] = []

    class CountingStore(RecordingStore):
        def write_minute(
            self, minute: datetime, shard: str, run: str, channels: Any, names: Any,
            live: bool = True,
        ) -> None:  # fmt: skip
            super().write_minute(minute, shard, run, channels, names)
            writes.append(minute)

    store = CountingStore()
    now = [SLOT + timedelta(seconds=30)]
    settings = Settings(_env_file=None, spool_dir=tmp_path / "spool")  # type: ignore[call-arg]
    daemon = ChatDaemon(
        settings,
        store,
        None,
        channels=lambda: [],
        clock=lambda: now[0].timestamp(),  # type: ignore[arg-type]
    )
    daemon.counts.add(_message(SLOT))
    asyncio.run(daemon.flush())
    asyncio.run(daemon.flush())
    assert writes == [SLOT]
    daemon.counts.add(_message(SLOT))  # a change: written again
    asyncio.run(daemon.flush())
    assert writes == [SLOT, SLOT] and store.minutes[SLOT][0]["messages"] == 2
    now[0] = SLOT + timedelta(minutes=2)  # complete and unchanged: forgotten, not rewritten
    asyncio.run(daemon.flush())
    assert writes == [SLOT, SLOT] and daemon.counts.open_minutes() == []


def test_every_open_minutes_live_copy_is_written_before_any_minute_document(
    tmp_path: Path,
) -> None:
    store = RecordingStore()
    # The first minute still open (its late lines may come), the second running.
    daemon = _daemon(tmp_path, store, SLOT + timedelta(minutes=1, seconds=5))
    later = SLOT + timedelta(minutes=1)
    daemon.counts.add(_message(SLOT))
    daemon.counts.add(_message(later))
    asyncio.run(daemon.flush())
    assert store.order == [("live", SLOT), ("live", later), ("minute", SLOT), ("minute", later)]
