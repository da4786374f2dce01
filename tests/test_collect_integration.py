"""Acceptance of the collector: emulator over HTTP → collector → FerretDB over the wire."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import (
    FERRETDB_BIN,
    FROZEN_AT,
    EmulatorFactory,
    FerretDB,
    collector_settings,
    free_port,
)
from emulator.recordings import convert
from scheduler.app import build_collector
from scheduler.collect import Collector
from scheduler.replay import replay_recording
from settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from store import (
    SnapshotBatch,
    Store,
    channels_above,
    read_channel_listing,
    read_directory_counts,
    schema,
)
from twitch_client.errors import NetworkError

pytestmark = pytest.mark.integration
SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


CollectorFactory = Callable[..., Collector]


@pytest.fixture
def collector(ferretdb: FerretDB, database_name: str, tmp_path: Path) -> Iterator[CollectorFactory]:
    """Build collectors for a test emulator (by default on the test's database, spooling to
    the test's folder); close them afterwards."""
    built: list[Collector] = []

    def build(emulator_url: str, *, uri: str = "", database: str = "", **extra: Any) -> Collector:
        settings = collector_settings(
            emulator_url,
            uri or ferretdb.uri,
            database or database_name,
            tmp_path / "spool",
            **extra,
        )
        built.append(build_collector(settings))
        return built[-1]

    yield build
    for job in built:
        job.close()


def counts(store: Store) -> dict[str, int]:
    return {
        name: store.db[name].count_documents({})
        for name in (
            schema.SNAPSHOTS,
            schema.STREAMS,
            schema.ROLLUPS,
            schema.QUARANTINE,
            schema.GAMES,
        )
    }


def test_once_stores_a_snapshot_of_1000_distinct_streams_and_its_rollups(
    collector: CollectorFactory,
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    emulator = make_emulator()
    job = collector(emulator.url)
    written: list[SnapshotBatch] = []
    write = job.store.write_snapshot
    job.store.write_snapshot = lambda batch: (written.append(batch), write(batch))[1]  # type: ignore[method-assign]
    summary = job.collect(SLOT)
    assert summary.outcome == "stored" and summary.streams == 1000 and summary.pages == 10

    snapshot = store.db[schema.SNAPSHOTS].find_one({"_id": schema.snapshot_id(SLOT)})
    assert (
        snapshot is not None
        and snapshot["status"] == "complete"
        and snapshot["stream_count"] == 1000
    )
    streams = list(store.db[schema.STREAMS].find({"slot": SLOT}))
    assert len(streams) == 1000 and len({s["stream_id"] for s in streams}) == 1000
    assert sorted(s["rank"] for s in streams) == list(range(1, 1001))
    assert snapshot["viewer_count"] == sum(s["viewer_count"] for s in streams)

    rollups = {r["dimension"]: r for r in store.db[schema.ROLLUPS].find({"slot": SLOT})}
    assert set(rollups) == {
        "game",
        "genre",
        "language",
        "genre_language",
        "game_language",
        "channel",
        "game_tag",
        "language_tag",
    }
    frame = pd.DataFrame(streams)
    for dimension, column in (("game", "game_id"), ("language", "language")):
        want = frame.groupby(column)["viewer_count"].agg(["count", "sum"])
        got = {g["key"]: (g["channels"], g["viewers"]) for g in rollups[dimension]["groups"]}
        assert got == {k: (int(r["count"]), int(r["sum"])) for k, r in want.iterrows()}
    # genres came from the emulator's IGDB through the games step
    games = {g["_id"]: g for g in store.db[schema.GAMES].find()}
    assert set(frame["game_id"]) <= set(games)
    assert games["509658"]["primary_genre"] == schema.NON_GAME_GENRE  # Just Chatting
    assert games["32982"]["primary_genre"] == "Shooter"  # GTA V per the emulator's IGDB
    genre_viewers = {g["key"]: g["viewers"] for g in rollups["genre"]["groups"]}
    assert sum(genre_viewers.values()) == snapshot["viewer_count"]

    before = counts(store)
    again = job.collect(SLOT)
    assert again.outcome == "skipped" and counts(store) == before
    # writing the same snapshot again (as a spool replay would) duplicates nothing
    write(written[0])
    assert counts(store) == before


def test_faults_tokens_dying_and_malformed_records_still_give_a_complete_snapshot(
    collector: CollectorFactory,
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    emulator = make_emulator(
        error_rate=0.10,
        fault_429_wait_seconds=0.0,
        token_ttl_requests=4,
        malformed_rate=0.02,
        quirk_last_page_cursor=1.0,
        quirk_short_page=0.2,
        quirk_invalid_cursor=0.05,
    )
    job = collector(emulator.url, http_max_attempts=10)
    summary = job.collect(SLOT)
    stats = emulator.state.counters
    assert summary.outcome == "stored", summary
    assert summary.streams == 1000
    assert stats["tokens_died"] >= 2 and summary.retries > 0
    assert sum(stats[f"injected_{k}"] for k in ("429", "500", "503")) > 0

    streams = list(store.db[schema.STREAMS].find({"slot": SLOT}))
    assert len({s["stream_id"] for s in streams}) == 1000
    served_bad = set(emulator.state.malformed_served)
    assert served_bad, "the emulator should have served malformed records"
    quarantined = list(store.db[schema.QUARANTINE].find({"slot": SLOT}))

    def original_id(record: Any) -> str:
        raw = record[0] if isinstance(record, list) else record["id"]
        return str(raw)

    assert sorted(original_id(q["record"]) for q in quarantined) == sorted(served_bad)
    assert all(q["reason"] for q in quarantined)
    assert not served_bad & {s["stream_id"] for s in streams}


@pytest.fixture
def private_ferretdb(tmp_path: Path) -> Iterator[FerretDB]:
    server = FerretDB(tmp_path / "ferretdb", free_port(), binary=FERRETDB_BIN)
    server.start()
    yield server
    server.stop()


def test_a_snapshot_taken_while_mongodb_is_down_is_spooled_and_written_after_restart(
    collector: CollectorFactory,
    make_emulator: EmulatorFactory,
    private_ferretdb: FerretDB,
    tmp_path: Path,
) -> None:
    emulator = make_emulator()
    spool = tmp_path / "spool"  # where the collector fixture spools
    job = collector(emulator.url, uri=private_ferretdb.uri, database="outage")
    listing_then_outage = job.client.top_streams

    def list_and_stop_mongodb(limit: int | None) -> Any:
        listing = listing_then_outage(limit)
        private_ferretdb.stop()  # MongoDB dies in the middle of the run
        return listing

    job.client.top_streams = list_and_stop_mongodb  # type: ignore[method-assign]
    first = job.collect(SLOT)
    assert first.outcome == "spooled" and len(list(spool.glob("*.json"))) == 1

    private_ferretdb.start()
    job.client.top_streams = listing_then_outage  # type: ignore[method-assign]
    second = job.collect(SLOT + timedelta(minutes=30))
    assert second.outcome == "stored" and second.spool_flushed == 1
    assert list(spool.glob("*.json")) == []
    db = job.store.db
    assert {s["slot"] for s in db[schema.SNAPSHOTS].find()} == {SLOT, SLOT + timedelta(minutes=30)}
    assert db[schema.STREAMS].count_documents({"slot": SLOT}) == 1000
    assert db[schema.ROLLUPS].count_documents({"slot": SLOT}) == 8  # 6 dimensions, 2 of tags


def test_replay_of_a_real_recording_reproduces_its_snapshots_exactly(
    collector: CollectorFactory,
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    shared_data: Path,
) -> None:
    recording = tmp_path / "zfreedman.jsonl"
    convert("zfreedman", shared_data / "recorded", recording)
    emulator = make_emulator(
        replay_file=recording, quirk_short_page=0.1, quirk_last_page_cursor=1.0
    )
    job = collector(emulator.url)
    summaries = replay_recording(job, emulator.url)
    assert len(summaries) == 8 and all(s.outcome == "stored" for s in summaries)
    # A recording has no thumbnails: replay samples none (and tries none) although the
    # collector's frame policy is on.
    assert job.frame_policy is not None and job.frame_policy.enabled
    assert all(s.frames == s.frame_failures == 0 for s in summaries)
    assert store.db[schema.FRAME_FAILURES].count_documents({}) == 0

    # Independently from the CSV: group rows into crawls (< 2 min apart), keep each
    # channel's highest count per crawl.
    raw = pd.read_csv(
        shared_data / "recorded" / "zfreedman_2018_streams.csv", parse_dates=["created_at"]
    )
    raw = raw.sort_values(["created_at", "id"])
    raw["crawl"] = (raw["created_at"].diff() >= pd.Timedelta(minutes=2)).cumsum()
    raw["observed_at"] = raw.groupby("crawl")["created_at"].transform("min").dt.tz_localize("UTC")
    expected = raw.groupby(["observed_at", "streamer_id"])["current_viewers"].max()

    stored = pd.DataFrame(
        list(store.db[schema.STREAMS].find({}, {"slot": 1, "user_id": 1, "viewer_count": 1}))
    )
    stored["streamer_id"] = stored["user_id"].astype(int)
    got = stored.set_index(["slot", "streamer_id"])["viewer_count"].sort_index()
    got.index = got.index.set_names(["observed_at", "streamer_id"])
    pd.testing.assert_series_equal(got, expected.sort_index(), check_names=False, check_dtype=False)
    snapshots = {s["slot"]: s["stream_count"] for s in store.db[schema.SNAPSHOTS].find()}
    assert snapshots == expected.groupby(level=0).size().to_dict()

    # Directory ranks, straight from the file: per crawl and category, 1 + the channels
    # with strictly more viewers.
    best = raw.sort_values("current_viewers").groupby(["observed_at", "streamer_id"]).last()
    ranks = best.groupby(["observed_at", "category_id"])["current_viewers"].rank(
        method="min", ascending=False
    )
    for slot, crawl in ranks.groupby(level=0):
        listing = read_channel_listing(store.db, slot)
        got_ranks = listing.set_index(listing["user_id"].astype(int))["game_rank"]
        want = crawl.droplevel(0).astype(int)
        pd.testing.assert_series_equal(
            got_ranks.sort_index(), want.sort_index(), check_names=False, check_dtype=False
        )

    # Directory positions, straight from the file: per crawl and category, 1 + the
    # channels with more than V viewers.
    crawls = {day.slots[i]: (day, i) for day in read_directory_counts(
        store.db, best.index.get_level_values(0).min(), datetime(2018, 3, 20, tzinfo=UTC)
    ) for i in range(len(day.slots))}  # fmt: skip
    assert set(crawls) == set(best.index.get_level_values(0))
    for (slot, category), rows in best.groupby(["observed_at", "category_id"]):
        day, row = crawls[slot]
        column = day.game_ids.index(str(category))
        for viewers in (0, 5, 50, 100, 1000):
            above = int((rows["current_viewers"] > viewers).sum())
            assert channels_above(day.counts[row, column], viewers) == above, (slot, category)


def test_all_mode_lists_every_live_stream(
    collector: CollectorFactory,
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    # A frozen clock: stream ids change when a channel's local day rolls over, which on a
    # slow machine could happen between the listing and the check below.
    emulator = make_emulator(
        channels=2500,
        always_live=True,
        quirk_short_page=0.1,
        quirk_last_page_cursor=1.0,
        frozen_at=FROZEN_AT,
    )
    job = collector(emulator.url, all_streams_concurrency=4)
    summary = job.collect(SLOT, mode="all")
    assert summary.outcome == "stored"
    live = {r["id"] for r in emulator.app.extensions["emulator"].source.table().records}
    stored = {
        s["stream_id"] for s in store.db[schema.STREAMS].find({"slot": SLOT}, {"stream_id": 1})
    }
    assert stored == live and len(stored) == 2500


def test_summary_line_is_json(
    collector: CollectorFactory,
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    job = collector(make_emulator().url)
    line = job.collect(SLOT, limit=50).line()
    fields = json.loads(line.removeprefix("snapshot "))
    assert {"streams", "pages", "requests", "retries", "quarantined", "seconds"} <= set(fields)
    assert fields["streams"] == 50


def test_an_unreachable_igdb_costs_one_attempt_a_run_and_the_snapshot_is_stored(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Real credentials with only OAuth and Helix overridden (another mock, a proxy):
    IGDB is not where they point, and it must not hold the snapshot up."""
    emulator = make_emulator()
    settings = collector_settings(
        emulator.url,
        ferretdb.uri,
        database_name,
        tmp_path / "spool",
        twitch_client_id=EMULATOR_CLIENT_ID,
        twitch_client_secret=EMULATOR_CLIENT_SECRET,
        twitch_oauth_url=f"{emulator.url}/oauth2",
        twitch_helix_url=f"{emulator.url}/helix",
        igdb_url=f"http://127.0.0.1:{free_port()}/v4",
        snapshot_top_n=100,
        frames_top=0,
        frames_random=0,
        frames_non_game=0,
    )
    job = build_collector(settings, clock=lambda: FROZEN_AT)
    with caplog.at_level(logging.WARNING, logger="scheduler.games"):
        summary = job.collect(FROZEN_AT)
    assert summary.outcome == "stored" and summary.new_games > 0
    assert job.client.stats.network_errors == 1 and summary.retries == 0
    assert caplog.text.count("IGDB genres unavailable this run") == 1
    requests_before = job.client.stats.requests
    with pytest.raises(NetworkError, match="IGDB unreachable this run"):
        job.client.igdb_genres(["1942"])  # the circuit is open: nothing is sent
    assert job.client.stats.requests == requests_before
    job.client.reset_stats()  # the next run tries IGDB again
    with pytest.raises(NetworkError):
        job.client.igdb_genres(["1942"])
    assert job.client.stats.requests == 1
    job.close()
