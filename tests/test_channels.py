"""Every listed channel stored per slot: directory ranks, the day's names, the spool, and
a whole emulated market read back equal to the emulator's raw listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import FROZEN_AT, EmulatorFactory, FerretDB, collector_settings
from scheduler.app import build_collector
from slots import day_of
from store import (
    ChannelListing,
    ChannelWriter,
    SnapshotBatch,
    Store,
    StreamDocument,
    channel_collection,
    channel_slot_id,
    directory_ranks,
    read_channel_history,
    read_channel_listing,
    read_channels_state,
    read_day_channels,
    schema,
    snapshot_document,
    stored_channel_days,
)

SLOT = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def stream(
    user: str, viewers: int, game: str = "g1", language: str = "en", **extra: Any
) -> StreamDocument:
    document: dict[str, Any] = {
        "_id": f"{user}-s",
        "slot": SLOT,
        "stream_id": f"{user}-s",
        "rank": 0,
        "user_id": f"id-{user}",
        "user_login": user,
        "user_name": user.upper(),
        "game_id": game,
        "game_name": f"Game {game}",
        "language": language,
        "title": "",
        "viewer_count": viewers,
        "started_at": SLOT - timedelta(hours=1),
        "tags": ["English"],
        "is_mature": False,
        "thumbnail_url": "",
        **extra,
    }
    return document  # type: ignore[return-value]


def brute_ranks(directory: list[object], viewers: list[int]) -> list[int]:
    """1 + the streams of the same directory with strictly more viewers, by a double loop."""
    return [
        1 + sum(d == mine and v > count for d, v in zip(directory, viewers, strict=True))
        for mine, count in zip(directory, viewers, strict=True)
    ]


def test_directory_ranks_equal_a_double_loop_with_ties_and_many_directories() -> None:
    rng = np.random.default_rng(3)
    directory = rng.integers(0, 7, 400)
    viewers = rng.integers(0, 12, 400)  # many ties
    viewers[:3] = 10_000_000  # the largest count the client accepts
    ranks = directory_ranks(directory, viewers)
    assert ranks.tolist() == brute_ranks(directory.tolist(), viewers.tolist())
    assert directory_ranks(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []


def test_a_listing_keeps_one_row_per_channel_with_its_language_rank_and_tags() -> None:
    listing = ChannelListing.from_streams(
        SLOT,
        [
            stream("big", 900, tags=["English", "FPS"]),
            stream("mid", 40, language="de"),
            stream("small", 2, language="de"),
            stream("mid", 38, language="de"),  # the same channel again, on a later page
            stream("<b>x</b>", 2, game="", tags=["a\x1eb"]),
        ],
    )
    assert listing.logins == ["big", "mid", "small", "<b>x</b>"]
    assert listing.viewers.tolist() == [900, 40, 2, 2]
    assert listing.game_rank.tolist() == [1, 2, 3, 1]
    assert listing.language_rank.tolist() == [1, 1, 2, 1]
    assert listing.tags_of(0) == ["English", "FPS"] and listing.tags_of(3) == ["a b"]
    assert listing.started_at.tolist() == [int((SLOT - timedelta(hours=1)).timestamp())] * 4


def test_a_spooled_batch_brings_its_listing_back_and_refuses_a_broken_one() -> None:
    listing = ChannelListing.from_streams(SLOT, [stream("a", 5), stream("b", 7, game="g2")])
    snapshot = snapshot_document(
        SLOT, started_at=SLOT, finished_at=SLOT, status=schema.COMPLETE, mode="market",
        level=schema.STREAM_LEVEL, top_n=1, streams=[], listed=[], pages=1, requests=1,
        retries=0, quarantined=0, quarantine_share=0.0, degraded=False, end_reason="end",
    )  # fmt: skip
    batch = SnapshotBatch(slot=SLOT, snapshot=snapshot, channels=listing)
    back = SnapshotBatch.from_json(batch.to_json())
    assert back.channels is not None
    assert back.channels.logins == ["a", "b"] and back.channels.game_rank.tolist() == [1, 1]
    broken = batch.to_json().replace('"game_ids": ["g1", "g2"]', '"game_ids": ["g1"]')
    assert broken != batch.to_json()
    with pytest.raises(ValueError, match="game outside game_ids"):
        SnapshotBatch.from_json(broken)


@pytest.mark.integration
def test_every_listed_channel_reads_back_equal_to_the_emulators_raw_market(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    later = FROZEN_AT + timedelta(hours=3)  # channels come and go, games change
    next_day = FROZEN_AT + timedelta(days=1)  # its slot regroups the first day by channel
    raw: dict[datetime, list[dict[str, Any]]] = {}
    for slot in (FROZEN_AT, later, next_day):
        emulator = make_emulator(channels=30_000, frozen_at=slot, quirk_short_page=0.1)
        settings = collector_settings(
            emulator.url, ferretdb.uri, database_name, tmp_path / "spool",
            snapshot_scope="market", snapshot_top_n=100,
            frames_top=0, frames_random=0, frames_non_game=0,
        )  # fmt: skip
        job = build_collector(settings, clock=lambda slot=slot: slot)  # type: ignore[misc]
        assert job.collect(slot).outcome == "stored"
        job.close()
        raw[slot] = list(emulator.app.extensions["emulator"].source.table().records)

    by_slot = {}
    for slot, records in raw.items():
        expected = pd.DataFrame(records)
        expected["game_rank"] = (
            expected.groupby("game_id")["viewer_count"].rank(method="min", ascending=False)
        ).astype(int)
        expected["language_rank"] = (
            expected.groupby(["game_id", "language"])["viewer_count"]
            .rank(method="min", ascending=False)
            .astype(int)
        )
        stored = read_channel_listing(store.db, slot).set_index("user_id")
        expected = expected.set_index("user_id")
        assert len(stored) == len(expected) > 2_000  # far beyond the 100 stored in full
        assert set(stored.index) == set(expected.index)
        joined = stored.join(expected, suffixes=("", "_raw"))
        assert (joined["login"] == joined["user_login"]).all()
        assert (joined["name"] == joined["user_name"]).all()
        assert (joined["viewers"] == joined["viewer_count"]).all()
        assert (joined["game_id"] == joined["game_id_raw"]).all()
        assert (joined["language"] == joined["language_raw"]).all()
        assert (joined["started_at"] == pd.to_datetime(joined["started_at_raw"], utc=True)).all()
        assert (joined["tags"] == joined["tags_raw"]).all()
        assert (joined["game_rank"] == joined["game_rank_raw"]).all()
        assert (joined["language_rank"] == joined["language_rank_raw"]).all()
        small = joined[joined["viewers"] <= 2].iloc[0]  # a channel no top list has
        assert small["game_rank"] > 100
        by_slot[slot] = expected

    # One day, two slots: the second slot named only the channels the first had not.
    names = read_day_channels(store.db, FROZEN_AT)
    assert names.parts == 2
    first_day = {r["user_id"] for slot in (FROZEN_AT, later) for r in raw[slot]}
    assert len(names.user_ids) == len(first_day)
    assert stored_channel_days(store.db, schema.CHANNEL_SLOTS) == [
        day_of(FROZEN_AT),
        day_of(next_day),
    ]

    # A channel's history: the first day from its regrouped documents, the second from
    # the slot itself; each row equal to the raw listing of its slot.
    state = read_channels_state(store.db)
    assert state.is_compacted(FROZEN_AT) and not state.is_compacted(next_day)
    everywhere = set.intersection(*(set(e.index) for e in by_slot.values()))
    small = min(everywhere, key=lambda u: (by_slot[FROZEN_AT].loc[u, "viewer_count"], u))
    for user_id in (small, max(everywhere), next(iter(set(by_slot[later].index) - everywhere))):
        history = read_channel_history(store.db, user_id, FROZEN_AT, next_day + timedelta(days=1))
        seen = [slot for slot, e in by_slot.items() if user_id in e.index]
        assert history["slot"].tolist() == [pd.Timestamp(s) for s in seen]
        for row, slot in zip(history.itertuples(), seen, strict=True):
            raw_row = by_slot[slot].loc[user_id]
            assert (row.login, row.viewers, row.game_id, row.language) == (
                raw_row["user_login"], raw_row["viewer_count"], raw_row["game_id"],
                raw_row["language"],
            )  # fmt: skip
            assert (row.game_rank, row.language_rank) == (
                raw_row["game_rank"], raw_row["language_rank"]
            )  # fmt: skip
            assert row.started_at == pd.Timestamp(raw_row["started_at"])
            assert row.tags == raw_row["tags"]
    assert read_channel_history(store.db, "no-such-user", FROZEN_AT, next_day).empty


@pytest.mark.integration
def test_chunks_read_back_whole_a_torn_rewrite_is_refused_and_old_days_are_pruned(
    store: Store,
) -> None:
    writer = ChannelWriter(store.db, chunk_rows=2)
    day_one = [stream(f"c{i}", 10 - i, game=f"g{i % 2}") for i in range(5)]
    written = writer.write(ChannelListing.from_streams(SLOT, day_one))
    assert written.chunk_ids == [channel_slot_id(SLOT, c) for c in range(3)]
    assert written.names_id is not None
    listing = read_channel_listing(store.db, SLOT)
    assert listing["login"].tolist() == [f"c{i}" for i in range(5)]
    assert listing["game_rank"].tolist() == [1, 1, 2, 2, 3]

    # A rewrite that died after its first chunk: chunk 0 is new, 1 and 2 are old.
    later = ChannelListing.from_streams(SLOT, day_one[:3])
    first_chunk = ChannelWriter(store.db, chunk_rows=5)
    first_chunk.write(later)  # one chunk that says the slot has one
    assert len(read_channel_listing(store.db, SLOT)) == 3
    store.db[channel_collection(schema.CHANNEL_SLOTS, SLOT)].update_one(
        {"_id": channel_slot_id(SLOT, 0)}, {"$set": {"chunks": 3}}
    )
    assert read_channel_listing(store.db, SLOT).empty  # chunks of two writes: not mixed

    next_day = SLOT + timedelta(days=1)
    writer.write(ChannelListing.from_streams(next_day, day_one[:1]))
    assert store.prune_channel_slots(next_day - timedelta(hours=1)) == 1
    assert read_channel_listing(store.db, SLOT).empty
    assert read_day_channels(store.db, SLOT).parts == 0
    assert read_channel_listing(store.db, next_day)["login"].tolist() == ["c0"]
    assert read_channels_state(store.db).days() == [day_of(next_day)]
    for base in (schema.CHANNEL_SLOTS, schema.CHANNEL_NAMES):
        assert stored_channel_days(store.db, base) == [day_of(next_day)]


@pytest.mark.integration
def test_a_channel_that_changes_game_language_and_tags_within_a_day_reads_back_each_slot(
    store: Store,
) -> None:
    first = [stream("a", 5, game="g1"), stream("b", 3, game="g1")]
    later = SLOT + timedelta(minutes=30)
    second = [
        stream("a", 7, game="g9", language="de", tags=["Deutsch", "Speedrun"]),
        stream("b", 3, game="g1", started_at=later),  # a new session
        stream("c", 1, game="g9"),
    ]
    for slot, streams in ((SLOT, first), (later, second)):
        store.channels.write(ChannelListing.from_streams(slot, streams))
    one = read_channel_listing(store.db, SLOT).set_index("login")
    two = read_channel_listing(store.db, later).set_index("login")
    assert one.loc["a", "game_id"] == "g1" and one.loc["a", "tags"] == ["English"]
    assert two.loc["a", ["game_id", "language"]].tolist() == ["g9", "de"]
    assert two.loc["a", "tags"] == ["Deutsch", "Speedrun"]
    assert two.loc["b", "started_at"] == pd.Timestamp(later)
    assert one.loc["b", "started_at"] == pd.Timestamp(SLOT - timedelta(hours=1))
    assert two["game_rank"].to_dict() == {"a": 1, "b": 1, "c": 2}
    assert read_day_channels(store.db, SLOT).parts == 2
