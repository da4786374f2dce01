"""The compact history against the per-snapshot rollups it is built from."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import FerretDB
from slots import slot_key
from store import (
    DayHistory,
    SnapshotBatch,
    Store,
    compute_rollups,
    histogram,
    read_dimension,
    read_histograms,
    read_history,
    schema,
)

DAY = datetime(2026, 11, 21, tzinfo=UTC)
# Slots over two days, written out of order (a spooled slot arrives late).
SLOTS = [DAY + timedelta(hours=h) for h in (20, 21.5, 23.5, 24, 25, 22)]
GENRES = {"g1": "Shooter", "g2": "Puzzle", "g3": "Shooter"}


def streams_of(slot: datetime, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for rank, channel in enumerate(rng.sample(range(80), 50), 1):
        game = ["g1", "g2", "g3", "g4"][channel % 4]
        rows.append(
            {
                "_id": f"{slot_key(slot)}/{channel}",
                "slot": slot,
                "stream_id": str(channel),
                "user_login": f"user{channel}",
                "user_name": f"User{channel}",
                "game_id": game,
                "game_name": f"Game {game}",
                "language": rng.choice(["en", "de", "es"]),
                "viewer_count": int(rng.paretovariate(0.9)) - 1,
                "rank": rank,
            }
        )
    rows.sort(key=lambda r: -r["viewer_count"])
    return [{**r, "rank": i} for i, r in enumerate(rows, 1)]


def rollups_of(slot: datetime, seed: int) -> list[dict[str, Any]]:
    return compute_rollups(
        slot, streams_of(slot, seed), lambda g: GENRES.get(g, "Unknown"), channel_limit=30
    )


def write_one(store: Store, slot: datetime, seed: int) -> None:
    store.write_snapshot(
        SnapshotBatch(
            slot=slot,
            snapshot={"_id": schema.snapshot_id(slot), "slot": slot, "status": "complete"},
            streams=streams_of(slot, seed)[:30],
            rollups=rollups_of(slot, seed),
        )
    )


def write_all(store: Store) -> None:
    for seed, slot in enumerate(SLOTS):
        write_one(store, slot, seed)


def from_rollups(dimension: str) -> pd.DataFrame:
    rows = [
        {
            "slot": pd.Timestamp(r["slot"]),
            "key": g["key"],
            "channels": g["channels"],
            "viewers": g["viewers"],
        }
        for seed, slot in enumerate(SLOTS)
        for r in rollups_of(slot, seed)
        if r["dimension"] == dimension
        for g in r["groups"]
    ]
    return pd.DataFrame(rows).sort_values(["slot", "key"]).reset_index(drop=True)


@pytest.mark.integration
@pytest.mark.parametrize("dimension", ["game", "genre", "language", "game_language", "channel"])
def test_read_history_equals_the_rollups(store: Store, dimension: str) -> None:
    write_all(store)
    frame = read_history(store.db, dimension, DAY, DAY + timedelta(days=2))
    got = frame[["slot", "key", "channels", "viewers"]].sort_values(["slot", "key"])
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), from_rollups(dimension), check_dtype=False
    )
    days = [h.day for h in read_dimension(store.db, dimension)]
    assert days == [DAY, DAY + timedelta(days=1)]
    assert store.db.list_collection_names(
        filter={"name": {"$regex": f"^history_{dimension}_[0-9]{{6}}$"}}
    ) == [f"history_{dimension}_202611"]
    if dimension == "channel":  # who streamed what, at which rank
        stored = {
            (s["slot"], s["user_login"]): (s["game_id"], s["rank"])
            for seed, slot in enumerate(SLOTS)
            for s in streams_of(slot, seed)[:30]
        }
        assert {
            (r.slot.to_pydatetime(), r.key): (r.game_id, r.rank) for r in frame.itertuples()
        } == stored


@pytest.mark.integration
def test_day_histograms_sum_the_slots_and_a_window_reads_whole_days(store: Store) -> None:
    write_all(store)
    counts = read_histograms(
        store.db, "genre", DAY + timedelta(hours=23), DAY + timedelta(hours=23.5)
    )
    first_day = [
        s
        for seed, slot in enumerate(SLOTS)
        if slot < DAY + timedelta(days=1)
        for s in streams_of(slot, seed)
    ]
    shooters = [s["viewer_count"] for s in first_day if GENRES.get(s["game_id"]) == "Shooter"]
    assert list(counts.loc["Shooter"]) == list(histogram.histogram(shooters))
    with pytest.raises(ValueError, match="no histograms"):
        read_histograms(store.db, "game_language", DAY, DAY + timedelta(days=1))


@pytest.mark.integration
def test_a_database_without_history_gets_it_built(store: Store) -> None:
    write_all(store)
    before = read_history(store.db, "genre_language", DAY, DAY + timedelta(days=2))
    for name in store.db.list_collection_names():
        if name.startswith("history_"):
            store.db.drop_collection(name)
    store.db[schema.META].update_one(
        {"_id": schema.ROLLUP_STATE_ID}, {"$unset": {"history_days": ""}}
    )
    assert store.ensure_history() == 2 and store.ensure_history() == 0
    after = read_history(store.db, "genre_language", DAY, DAY + timedelta(days=2))
    pd.testing.assert_frame_equal(before, after)


def test_adding_slots_out_of_order_equals_building_the_day_at_once() -> None:
    day_slots = [(seed, slot) for seed, slot in enumerate(SLOTS) if slot < DAY + timedelta(days=1)]
    for dimension in ("game", "channel"):
        pairs = [
            ("stream", next(r for r in rollups_of(slot, seed) if r["dimension"] == dimension))
            for seed, slot in day_slots
        ]
        whole = DayHistory.from_rollups(DAY, dimension, pairs)
        grown = DayHistory.from_rollups(DAY, dimension, pairs[:1])
        for pair in pairs[1:]:
            grown = grown.with_slot(*pair)
        assert grown.slots == sorted(slot for _, slot in day_slots)
        pd.testing.assert_frame_equal(
            grown.frame().sort_values(["slot", "key"]).reset_index(drop=True),
            whole.frame().sort_values(["slot", "key"]).reset_index(drop=True),
        )
        if whole.histogram is not None and grown.histogram is not None:
            order = [grown.keys.index(k) for k in whole.keys]
            assert np.array_equal(grown.histogram[order], whole.histogram)
        round_trip = DayHistory.from_document(whole.to_document(DAY))
        pd.testing.assert_frame_equal(round_trip.frame(), whole.frame())
        with pytest.raises(ValueError, match="already"):
            whole.with_slot(*pairs[0])


def test_an_empty_key_and_empty_names_survive_the_round_trip() -> None:
    """Streams with no category have game id "": a day whose only key is "" is one key."""
    rollup = {
        "slot": DAY,
        "groups": [{"key": "", "channels": 2, "viewers": 9}],
        "total_channels": 2,
        "total_viewers": 9,
    }
    day = DayHistory.from_rollups(DAY, "language", [("stream", rollup)])
    back = DayHistory.from_document(day.to_document(DAY))
    assert back.keys == [""] and back.names == [""] and back.channels.tolist() == [[2]]
    empty = DayHistory.from_document(DayHistory.from_rollups(DAY, "genre", []).to_document(DAY))
    assert empty.keys == [] and empty.channels.shape == (0, 0)


@pytest.mark.integration
def test_a_day_rebuilt_by_another_writer_is_read_again_before_the_next_slot(
    store: Store, ferretdb: FerretDB, database_name: str
) -> None:
    first, second = SLOTS[0], SLOTS[1]  # the same day
    write_one(store, first, 0)
    learned = {**GENRES, "g4": "Racing"}  # the genre of g4 is learned after the first slot
    store.db[schema.GAMES].insert_many(
        [{"_id": g, "name": f"Game {g}", "primary_genre": genre} for g, genre in learned.items()]
    )
    labeller = Store(ferretdb.uri, database_name)  # another process's store
    labeller.rebuild_rollups(first)
    labeller.close()
    write_one(store, second, 1)  # this store wrote the day last before the rebuild
    genres = read_history(store.db, "genre", first, first + timedelta(minutes=1))
    assert "Racing" in set(genres["key"]) and "Unknown" not in set(genres["key"])
    both = read_history(store.db, "genre", first, second + timedelta(minutes=1))
    assert sorted(set(both["slot"])) == [pd.Timestamp(first), pd.Timestamp(second)]


@pytest.mark.integration
def test_a_bulk_import_writes_the_same_history_once_a_day(
    store: Store, ferretdb: FerretDB, database_name: str
) -> None:
    ordered = sorted(SLOTS)
    for seed, slot in enumerate(ordered):
        write_one(store, slot, seed)
    other = Store(ferretdb.uri, f"{database_name}_bulk")
    try:
        saved: list[str] = []
        save = other._save_history
        other._save_history = lambda h: (saved.append(h.dimension), save(h))[1]  # type: ignore[method-assign]
        with other.bulk_history():
            for seed, slot in enumerate(ordered):
                write_one(other, slot, seed)
                if slot == ordered[1]:  # mid-day: not written yet, so not announced either
                    state = other.db[schema.META].find_one({"_id": schema.ROLLUP_STATE_ID})
                    assert state is not None and "history_days" not in state
        assert len(saved) == 2 * 6  # two days, six dimensions, once each
        for dimension in ("genre", "channel", "game_language"):
            pd.testing.assert_frame_equal(
                read_history(other.db, dimension, DAY, DAY + timedelta(days=2)),
                read_history(store.db, dimension, DAY, DAY + timedelta(days=2)),
            )
        state = other.db[schema.META].find_one({"_id": schema.ROLLUP_STATE_ID})
        assert state is not None and sorted(state["history_days"]) == ["2026-11-21", "2026-11-22"]
    finally:
        other.db.client.drop_database(f"{database_name}_bulk")
        other.close()
