"""Nothing lost, nothing fake: writes interrupted midway, overlapping writers, a peer mock's
records, degraded snapshots and the CDN override, over FerretDB and real HTTP servers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from peer_mock import PeerMock
from test_scheduler_process import environment

from conftest import FROZEN_AT, EmulatorFactory, FerretDB, collector_settings, free_port
from dashboard.components import PageContext, data_health, status_notices
from dashboard.filters import Filters
from dashboard.loader import MarketData
from scheduler.app import build_collector
from scheduler.collect import Collector
from slots import slot_key
from store import (
    TAG_DIMENSIONS,
    Store,
    StoreReader,
    StoreUnavailable,
    read_history,
    schema,
    set_phase_hook,
)

pytestmark = pytest.mark.integration
SLOT = FROZEN_AT


class Crash(BaseException):
    """Stands for the process dying: nothing in the collector catches a BaseException."""


@pytest.fixture
def reader(ferretdb: FerretDB, database_name: str) -> Iterator[StoreReader]:
    opened = StoreReader(ferretdb.uri, database_name)
    yield opened
    opened.close()


@pytest.fixture
def crash_at() -> Iterator[Any]:
    def arm(step: str) -> None:
        def hook(name: str, _slot: datetime) -> None:
            if name == step:
                raise Crash(step)

        set_phase_hook(hook)

    yield arm
    set_phase_hook(None)


def frozen_collector(
    make_emulator: EmulatorFactory, ferretdb: FerretDB, database: str, tmp: Path, **extra: Any
) -> tuple[Collector, str]:
    emulator = make_emulator(frozen_at=FROZEN_AT, **extra)
    no_frames = {"frames_top": 0, "frames_random": 0, "frames_non_game": 0}
    settings = collector_settings(
        emulator.url, ferretdb.uri, database, tmp / "spool", snapshot_top_n=300, **no_frames
    )
    return build_collector(settings, clock=lambda: FROZEN_AT), emulator.url


def move_clock(emulator_url: str, to: datetime) -> None:
    requests.post(f"{emulator_url}/_emulator/clock", json={"at": to.isoformat()}, timeout=10)


def assert_one_consistent_observation(store: Store, slot: datetime) -> None:
    """The slot's streams are one listing: as many as the snapshot says, the top of the
    market its rollups add up (stored channels in the channel rollup, every listed stream in
    the others)."""
    snapshot = store.db[schema.SNAPSHOTS].find_one({"_id": schema.snapshot_id(slot)})
    assert snapshot is not None and snapshot["status"] == schema.COMPLETE
    streams = list(store.db[schema.STREAMS].find({"slot": slot}))
    assert len(streams) == snapshot["stream_count"]
    assert len({s["stream_id"] for s in streams}) == len(streams)
    viewers = sum(s["viewer_count"] for s in streams)
    assert viewers == snapshot["viewer_count"]
    market = snapshot["market_viewer_count"]
    assert market >= viewers and snapshot["market_stream_count"] >= len(streams)
    for rollup in store.db[schema.ROLLUPS].find({"slot": slot}):
        assert rollup["total_viewers"] == market, rollup["dimension"]
        if rollup["dimension"] in TAG_DIMENSIONS:
            continue  # a stream counts once per tag it has
        summed = sum(g["viewers"] for g in rollup["groups"])
        assert summed == (viewers if rollup["dimension"] == "channel" else market), rollup[
            "dimension"
        ]


@pytest.mark.parametrize("step", ["streams", "rollup:genre", "rollup:channel", "publish"])
def test_a_slot_rewritten_after_a_crash_holds_only_the_second_observation(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    crash_at: Any,
    step: str,
) -> None:
    job, emulator_url = frozen_collector(make_emulator, ferretdb, database_name, tmp_path)
    crash_at(step)
    with pytest.raises(Crash):
        job.collect(SLOT)
    crashed = store.db[schema.SNAPSHOTS].find_one({"_id": schema.snapshot_id(SLOT)})
    assert crashed is not None and crashed["status"] == schema.WRITING  # not published
    assert not job.store.is_collected(SLOT)

    set_phase_hook(None)
    move_clock(emulator_url, FROZEN_AT + timedelta(minutes=47))  # another market
    second = job.collect(SLOT)
    job.close()
    assert second.outcome == "stored"
    assert_one_consistent_observation(store, SLOT)


@pytest.mark.parametrize("step", ["history", "announce"])
def test_a_slot_published_by_a_writer_that_died_before_announcing_it_is_announced(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    crash_at: Any,
    reader: StoreReader,
    step: str,
) -> None:
    job, _ = frozen_collector(make_emulator, ferretdb, database_name, tmp_path)
    crash_at(step)
    with pytest.raises(Crash):
        job.collect(SLOT)
    set_phase_hook(None)
    state = reader.rollup_state()
    assert state.newest_slot is None  # published, readers never told
    assert job.collect(SLOT).outcome == "skipped"  # the next run keeps it and tells them
    job.close()
    state = reader.rollup_state()
    assert state.newest_slot == SLOT
    history = read_history(store.db, "genre", SLOT, SLOT + timedelta(minutes=30))
    rollup = store.db[schema.ROLLUPS].find_one({"_id": f"{slot_key(SLOT)}/genre"})
    assert rollup is not None
    assert dict(zip(history["key"], history["viewers"], strict=True)) == {
        g["key"]: g["viewers"] for g in rollup["groups"]
    }


def test_readers_never_see_a_slot_whose_write_did_not_finish(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    crash_at: Any,
    reader: StoreReader,
) -> None:
    job, _ = frozen_collector(make_emulator, ferretdb, database_name, tmp_path)
    assert job.collect(SLOT).outcome == "stored"
    data = MarketData(reader, refresh_seconds=0)
    data.refresh()
    crash_at("rollup:channel")  # five of the six rollups are written
    later = SLOT + timedelta(minutes=30)
    with pytest.raises(Crash):
        job.collect(later)
    set_phase_hook(None)

    fresh = MarketData(reader, refresh_seconds=0)
    fresh.refresh()  # a full load, as at dashboard start
    assert list(fresh.view().slots.to_pydatetime()) == [SLOT]
    data.refresh()  # an incremental catch-up
    assert list(data.view().slots.to_pydatetime()) == [SLOT]
    health = data_health(reader.rollup_state(), later)
    assert health["newest_snapshot"] == SLOT.isoformat()

    assert job.collect(later).outcome == "stored"  # the next try publishes it
    data.refresh()
    assert list(data.view().slots.to_pydatetime()) == [SLOT, later]
    job.close()


def test_two_overlapping_once_runs_store_one_observation(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    emulator = make_emulator(latency_ms=20)
    slot = SLOT.isoformat()

    def once(folder: str) -> subprocess.CompletedProcess[str]:
        # Different spool folders and working directories: the lock is the database's.
        work = tmp_path / folder
        work.mkdir()
        return subprocess.run(
            [sys.executable, "-m", "scheduler", "once", "--slot", slot],
            cwd=work,
            env=environment(emulator.url, ferretdb.uri, database_name, work),
            capture_output=True,
            text=True,
            timeout=120,
        )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(once, ["a", "b"]))
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-2000:] for r in results]
    outcomes = sorted(r.stderr.split('"outcome":"', 1)[1].split('"', 1)[0] for r in results)
    assert outcomes == ["skipped", "stored"]
    assert_one_consistent_observation(store, SLOT)


@pytest.fixture
def peer_mock() -> Iterator[PeerMock]:
    mock = PeerMock().start()
    yield mock
    mock.stop()


def peer_settings(
    mock: PeerMock, ferretdb: FerretDB, database: str, tmp: Path, **extra: Any
) -> Any:
    values: dict[str, Any] = {
        "twitch_client_id": "peerclient",
        "twitch_client_secret": "peersecret",
        "twitch_oauth_url": f"{mock.url}/oauth2",
        "twitch_helix_url": f"{mock.url}/helix",
        "igdb_url": f"{mock.url}/v4",
        "frames_top": 0,
        "frames_random": 0,
        "frames_non_game": 0,
        **extra,
    }
    return collector_settings(mock.url, ferretdb.uri, database, tmp / "spool", **values)


def test_a_peer_mock_page_with_uuid_ids_is_stored_whole(
    peer_mock: PeerMock, ferretdb: FerretDB, store: Store, database_name: str, tmp_path: Path
) -> None:
    job = build_collector(peer_settings(peer_mock, ferretdb, database_name, tmp_path))
    summary = job.collect(SLOT)
    job.close()
    assert summary.outcome == "stored" and not summary.degraded
    assert summary.streams == len(peer_mock.records) == 12 and summary.quarantined == 0
    stored = {s["stream_id"] for s in store.db[schema.STREAMS].find({"slot": SLOT})}
    assert stored == {r["id"] for r in peer_mock.records}
    assert_one_consistent_observation(store, SLOT)


def test_repeated_bad_records_count_once_and_many_make_the_snapshot_degraded(
    peer_mock: PeerMock,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    reader: StoreReader,
) -> None:
    broken = {**peer_mock.records[0], "id": "b1", "viewer_count": "lots"}
    peer_mock.records += [broken, dict(broken)]  # one bad record, sent twice
    job = build_collector(peer_settings(peer_mock, ferretdb, database_name, tmp_path))
    summary = job.collect(SLOT)
    snapshot = store.db[schema.SNAPSHOTS].find_one({"_id": schema.snapshot_id(SLOT)})
    assert snapshot is not None and snapshot["quarantined"] == summary.quarantined == 1
    assert snapshot["quarantine_share"] == round(1 / 13, 4) and snapshot["degraded"]  # 7.7 %
    assert snapshot["status"] == schema.COMPLETE  # stored, shown, and flagged
    assert data_health(reader.rollup_state(), SLOT)["status"] == "degraded"
    holder = MarketData(reader, refresh_seconds=0)
    holder.refresh()
    data = holder.view()
    assert data.newest_degraded
    window = Filters().window_for(data.newest_slot())
    banner = status_notices(PageContext(Filters(), data, window, data.window_slots(window)))
    assert any("is degraded" in str(note.children) for note in banner)

    peer_mock.records = peer_mock.records[:-2]
    healthy = job.collect(SLOT + timedelta(minutes=30))
    job.close()
    assert not healthy.degraded
    assert data_health(reader.rollup_state(), SLOT + timedelta(minutes=30))["status"] == "ok"


def test_once_exits_3_on_a_degraded_snapshot(
    make_emulator: EmulatorFactory, ferretdb: FerretDB, database_name: str, tmp_path: Path
) -> None:
    emulator = make_emulator(malformed_rate=0.3)
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "once", "--slot", SLOT.isoformat()],
        cwd=tmp_path,
        env=environment(emulator.url, ferretdb.uri, database_name, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr[-2000:]
    assert "WARNING" in result.stderr and "is degraded" in result.stderr


def test_twitch_cdn_url_replaces_the_thumbnail_host(
    peer_mock: PeerMock, ferretdb: FerretDB, store: Store, database_name: str, tmp_path: Path
) -> None:
    # The page's thumbnails name Twitch's CDN, which tests may not reach: every one of them
    # must be fetched from the override instead.
    settings = peer_settings(
        peer_mock,
        ferretdb,
        database_name,
        tmp_path,
        frames_top=3,
        twitch_cdn_url=f"{peer_mock.url}/mirror/",
    )
    job = build_collector(settings, clock=lambda: FROZEN_AT)
    summary = job.collect(SLOT)
    job.close()
    assert summary.frames == 3 and summary.frame_failures == 0
    fetched = sorted(r.path for r in peer_mock.requests if r.path.endswith(".jpg"))
    assert fetched == [
        f"/mirror/previews-ttv/live_user_peer_user_{i}-320x180.jpg" for i in range(3)
    ]


def scheduler_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("variables", "args", "wanted"),
    [
        ({"SNAPSHOT_TOP_N": "abc"}, ["once"], "SNAPSHOT_TOP_N: Input should be a valid integer"),
        ({"SNAPSHOT_MINUTES": "61"}, ["once", "--slot", "2026-11-22T08:00Z"], "SNAPSHOT_MINUTES"),
        ({"MONGODB_URI": "garbage"}, ["once"], "MONGODB_URI: not a MongoDB connection string"),
        ({"MONGODB_DB": "genre radar/$x"}, ["once"], "MONGODB_DB: must be 1 to 63 bytes"),
        ({"SPOOL_DIR": "{tmp}/a-file/spool"}, ["once"], "SPOOL_DIR: cannot write in"),
        ({"SPOOL_DIR": "{tmp}/a-file/spool"}, ["flush-spool"], "SPOOL_DIR: cannot write in"),
    ],
)
def test_bad_settings_give_one_line_each_and_exit_2(
    tmp_path: Path, variables: dict[str, str], args: list[str], wanted: str
) -> None:
    env = environment("http://127.0.0.1:9", "mongodb://127.0.0.1:9/", "x", tmp_path)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    variables = {k: v.format(tmp=tmp_path) for k, v in variables.items()}
    result = scheduler_cli(args, {**env, **variables}, tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()  # one problem, one line
    assert line.startswith("scheduler: ") and wanted in line
    assert "Traceback" not in result.stderr and not (tmp_path / "spool").exists()


def test_a_client_id_without_a_secret_sends_nothing(peer_mock: PeerMock, tmp_path: Path) -> None:
    env = environment(peer_mock.url, "mongodb://127.0.0.1:9/", "x", tmp_path)
    env.update(TWITCH_CLIENT_ID="realclient", TWITCH_OAUTH_URL=f"{peer_mock.url}/oauth2")
    result = scheduler_cli(["once"], env, tmp_path)
    assert result.returncode == 2 and "TWITCH_CLIENT_SECRET is not" in result.stderr
    assert peer_mock.requests == []  # no token request, with a placeholder secret or any


def test_an_unreachable_database_at_start_is_an_error_not_a_spool(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = make_emulator()
    env = environment(emulator.url, f"mongodb://127.0.0.1:{free_port()}/", "x", tmp_path)
    env["MONGODB_TIMEOUT_MS"] = "500"
    result = scheduler_cli(["once"], env, tmp_path)
    assert result.returncode == 1 and "cannot start" in result.stderr
    assert not list((tmp_path / "spool").glob("*.json"))


def test_flush_spool_writes_the_good_files_and_rejects_a_truncated_one(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    job, _ = frozen_collector(make_emulator, ferretdb, database_name, tmp_path)
    slots = [SLOT, SLOT + timedelta(minutes=30), SLOT + timedelta(hours=1)]
    listing = job.client.top_streams(50)
    paths = [job.spool.put(job._batch(s, "top", 50, listing, FROZEN_AT)) for s in slots]
    job.close()
    paths[0].write_bytes(paths[0].read_bytes()[:1000])  # the oldest is truncated
    (tmp_path / "spool" / "tmpcrash.partial").write_text("{", encoding="utf-8")

    env = environment("http://127.0.0.1:9", ferretdb.uri, database_name, tmp_path)
    result = scheduler_cli(["flush-spool"], env, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "unreadable" in result.stderr and "JSONDecodeError" in result.stderr
    assert {s["slot"] for s in store.db[schema.SNAPSHOTS].find()} == set(slots[1:])
    assert list((tmp_path / "spool").glob("*.json")) == []
    assert list((tmp_path / "spool").glob("*.partial")) == []
    assert [p.name for p in (tmp_path / "spool" / "rejected").glob("*.json")] == [paths[0].name]


def test_schema_1_snapshot_documents_get_their_string_id_at_start(
    store: Store, reader: StoreReader
) -> None:
    old = {"_id": SLOT, "slot": SLOT, "status": "complete", "schema_version": 1}
    store.db[schema.SNAPSHOTS].insert_one(old)
    assert store.migrate_snapshot_ids() == 1
    (moved,) = store.db[schema.SNAPSHOTS].find()
    assert moved["_id"] == "2026-11-22T08:00:00Z" and moved["slot"] == SLOT
    assert store.is_collected(SLOT) and reader.published_slots() == {SLOT}
    assert store.migrate_snapshot_ids() == 0


def assert_history_whole(store: Store, reader: StoreReader, newest: datetime) -> None:
    """Every dimension's day history holds exactly the published slots, and readers are
    told of the newest."""
    assert store.history_gaps() == []
    state = reader.rollup_state()
    assert state.newest_slot == newest
    assert not state.history_pending


@pytest.mark.parametrize("step", ["history:game", "history:language", "history:channel"])
@pytest.mark.parametrize("stored_first", ["earlier", "later"])
def test_a_slot_whose_history_write_was_interrupted_is_whole_after_the_next_run(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    crash_at: Any,
    reader: StoreReader,
    step: str,
    stored_first: str,
) -> None:
    job, _ = frozen_collector(make_emulator, ferretdb, database_name, tmp_path)
    other = SLOT - timedelta(minutes=30) if stored_first == "earlier" else SLOT + timedelta(hours=1)
    assert job.collect(other).outcome == "stored"
    crash_at(step)
    with pytest.raises(Crash):
        job.collect(SLOT)
    set_phase_hook(None)
    assert store.history_gaps() != []  # the slot is published, its history is not whole

    # A run of another slot repairs it; so does a re-run of the slot itself.
    later = SLOT + timedelta(minutes=30)
    assert job.collect(later).outcome == "stored"
    assert_history_whole(store, reader, max(later, other))
    assert job.collect(SLOT).outcome == "skipped"
    job.close()
    assert_history_whole(store, reader, max(later, other))
    language = read_history(store.db, "language", SLOT, later)
    rollup = store.db[schema.ROLLUPS].find_one({"_id": f"{slot_key(SLOT)}/language"})
    assert rollup is not None
    assert dict(zip(language["key"], language["viewers"], strict=True)) == {
        g["key"]: g["viewers"] for g in rollup["groups"] if g["channels"]
    }


def test_an_outage_at_the_history_writes_is_spooled_and_repaired_by_the_flush(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    reader: StoreReader,
) -> None:
    job, _ = frozen_collector(make_emulator, ferretdb, database_name, tmp_path)
    assert job.collect(SLOT - timedelta(minutes=30)).outcome == "stored"

    def outage(name: str, _slot: datetime) -> None:
        if name == "history:language":
            raise StoreUnavailable("MongoDB unreachable (test)")

    set_phase_hook(outage)
    try:
        assert job.collect(SLOT).outcome == "spooled"
    finally:
        set_phase_hook(None)
    assert len(job.spool.pending()) == 1
    assert job.flush_spool() == 0  # the stored slot wins; its history is rebuilt
    job.close()
    assert job.spool.pending() == []
    assert_history_whole(store, reader, SLOT)


def test_spool_entries_that_cannot_be_used_are_moved_aside_and_the_rest_written(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    job, _ = frozen_collector(make_emulator, ferretdb, database_name, tmp_path)
    spool = tmp_path / "spool"
    listing = job.client.top_streams(50)
    slots = [SLOT + timedelta(minutes=30 * i) for i in range(5)]
    good = job.spool.put(job._batch(slots[4], "top", 50, listing, FROZEN_AT))
    text = good.read_text(encoding="utf-8")
    batch = json.loads(text)

    def spooled(name: str, change: Any) -> None:
        edited = json.loads(text)
        change(edited)
        (spool / name).write_text(json.dumps(edited), encoding="utf-8")

    spooled("2026-11-22T080000Z.json", lambda b: b["rollups"][0].pop("dimension"))
    spooled("2026-11-22T083000Z.json", lambda b: b["streams"][0].update(viewer_count="lots"))
    spooled("2026-11-22T090000Z.json", lambda b: b["streams"][0].update({"$where": 1}))
    spooled("2026-11-22T093000Z.json", lambda b: b["streams"][1].update(viewer_count=2**63))
    (spool / "2026-11-22T07-a-directory.json").mkdir()
    (spool / "2026-11-22T07-a-broken-link.json").symlink_to(spool / "nowhere")
    assert len(batch["streams"]) == 50 and len(job.spool.pending()) == 7

    summary = job.collect(slots[4] + timedelta(minutes=30))
    job.close()
    assert summary.outcome == "stored" and summary.spool_flushed == 1
    assert job.spool.pending() == []
    assert {s["slot"] for s in store.db[schema.SNAPSHOTS].find()} == {
        slots[4],
        slots[4] + timedelta(minutes=30),
    }
    reasons = {
        p.name: p.with_name(p.name + ".reason").read_text(encoding="utf-8")
        for p in (spool / "rejected").glob("*.json")
    }
    assert len(reasons) == 6
    assert "dimension" in reasons["2026-11-22T080000Z.json"]
    assert "viewer_count" in reasons["2026-11-22T083000Z.json"]
    assert "'$where'" in reasons["2026-11-22T090000Z.json"]
    assert "out of range" in reasons["2026-11-22T093000Z.json"]
    assert "IsADirectoryError" in reasons["2026-11-22T07-a-directory.json"]
    assert "FileNotFoundError" in reasons["2026-11-22T07-a-broken-link.json"]
