"""The dashboard's data layer over FerretDB: what it shows equals a computation from the raw
streams stored in the same database; new snapshots and rebuilt rollups are picked up."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from test_dashboard_metrics import GENRE, SLOTS, raw_streams, reference_per_slot, reference_weights

from conftest import FerretDB
from dashboard.cache import ResultCache
from dashboard.components import page
from dashboard.filters import Filters
from dashboard.loader import MarketData
from dashboard.metrics import gap_points, group_metrics, snapshot_weights, viewer_series
from dashboard.state import set_market
from dashboard.window import Window
from slots import slot_key
from store import SnapshotBatch, Store, StoreReader, compute_rollups, schema

pytestmark = pytest.mark.integration


def write(store: Store, docs: list[dict[str, Any]], slots: list[datetime]) -> None:
    for game, genre in GENRE.items():
        store.db[schema.GAMES].update_one(
            {"_id": game}, {"$set": {"name": f"Game {game}", "primary_genre": genre}}, upsert=True
        )
    for slot in slots:
        streams = [
            {**d, "_id": f"{slot_key(slot)}/{d['stream_id']}"} for d in docs if d["slot"] == slot
        ]
        unique = list({s["_id"]: s for s in streams}.values())
        store.write_snapshot(
            SnapshotBatch(
                slot=slot,
                snapshot={"_id": schema.snapshot_id(slot), "slot": slot, "status": "complete"},
                streams=unique,
                rollups=compute_rollups(slot, unique, GENRE.__getitem__),
            )
        )


def market(ferretdb: FerretDB, database_name: str) -> MarketData:
    data = MarketData(StoreReader(ferretdb.uri, database_name), refresh_seconds=0)
    data.refresh()
    return data


def history_reads(data: MarketData) -> list[tuple[str, str]]:
    """Record every (dimension, day) the data layer reads from now on."""
    reads: list[tuple[str, str]] = []
    by_id, by_dimension = data.reader.history_documents, data.reader.history_dimension

    def record(found: list[Any]) -> list[Any]:
        reads.extend((h.dimension, h.day.strftime("%Y-%m-%d")) for h in found)
        return found

    data.reader.history_documents = lambda ids: record(by_id(ids))  # type: ignore[method-assign]
    data.reader.history_dimension = lambda d, since=None: record(by_dimension(d, since))  # type: ignore[method-assign]
    return reads


def test_figures_equal_a_computation_from_the_stored_raw_streams(
    ferretdb: FerretDB, store: Store, database_name: str
) -> None:
    write(store, raw_streams(), SLOTS)
    data = market(ferretdb, database_name).view()
    window = Window(SLOTS[0], SLOTS[-1] + timedelta(minutes=30))
    assert list(data.window_slots(window).to_pydatetime()) == SLOTS

    stored = list(store.db[schema.STREAMS].find({}, {"_id": 0}))  # the raw streams, read back
    weights = reference_weights(SLOTS)
    for by, key in (("genre", "genre"), ("game", "game_id"), ("language", "language")):
        metrics = group_metrics(
            data.group_frame(by, window), snapshot_weights(data.window_slots(window))
        )
        per_slot = reference_per_slot(stored, key)
        for group in {g for _, g in per_slot}:
            watched = sum(per_slot.get((s, group), (0, 0))[0] * weights[s] for s in SLOTS)
            assert metrics.loc[group, "hours_watched"] == pytest.approx(watched), (by, group)

    # frames from the loader feed the charts (categorical storage must not leak out)
    series = viewer_series(
        data.group_frame("game", window),
        data.window_slots(window),
        gap_points(data.window_slots(window), window.start, window.end),
        ["g1"],
    )
    assert list(series.columns) == ["g1", "Other"]

    # per-channel rows (streamer page, concentration) equal the stored streams
    login = stored[0]["user_login"]
    mine = {(d["slot"], d["viewer_count"]) for d in stored if d["user_login"] == login}
    rows = data.channel_rows(window, login=login)
    assert {(r.slot.to_pydatetime(), r.viewers) for r in rows.itertuples()} == mine

    # one game's frame, alone, equals its rows of every game's frame
    for language in ("", "es"):
        everything = data.group_frame("game", window, language=language)
        alone = data.game_frame("g1", window, language=language)
        expected = everything[everything["key"] == "g1"].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone.reset_index(drop=True), expected, check_dtype=False)
    assert data.game_frame("no such game", window).empty

    # the leaderboard's sums per channel, and a game's daily averages, from the raw streams
    totals = data.channel_totals(window).set_index("login")
    for login in {d["user_login"] for d in stored}:
        seen = [d for d in stored if d["user_login"] == login]
        assert totals.loc[login, "hours_live"] == pytest.approx(
            sum(weights[d["slot"]] for d in seen)
        )
        assert totals.loc[login, "hours_watched"] == pytest.approx(
            sum(d["viewer_count"] * weights[d["slot"]] for d in seen)
        )
        assert totals.loc[login, "peak_viewers"] == max(d["viewer_count"] for d in seen)
        hours: dict[str, float] = {}
        for d in seen:
            hours[d["game_id"]] = hours.get(d["game_id"], 0.0) + weights[d["slot"]]
        assert hours[totals.loc[login, "main_game"]] == max(hours.values())
    daily = data.daily("game", "g1").set_index("day")
    per_slot = reference_per_slot(stored, "game_id")
    for day, row in daily.iterrows():
        slots = [s for s in SLOTS if s.date() == day.date()]
        assert row["hours"] == pytest.approx(sum(weights[s] for s in slots))
        assert row["hours_watched"] == pytest.approx(
            sum(per_slot.get((s, "g1"), (0, 0))[0] * weights[s] for s in slots)
        )

    # filters: Shooter streams in Spanish only
    spanish = [d for d in stored if d["language"] == "es" and GENRE[d["game_id"]] == "Shooter"]
    per_slot = reference_per_slot(spanish, "game_id")
    games = group_metrics(
        data.group_frame("game", window, language="es", genre="Shooter"), snapshot_weights(SLOTS)
    )
    assert set(games.index) == {g for _, g in per_slot}
    for game in games.index:
        assert games.loc[game, "avg_viewers"] == pytest.approx(
            sum(per_slot.get((s, game), (0, 0))[0] * weights[s] for s in SLOTS)
            / sum(weights.values())
        )
    data.reader.close()


def test_new_snapshots_are_fetched_incrementally_and_rebuilds_reload(
    ferretdb: FerretDB, store: Store, database_name: str
) -> None:
    docs = raw_streams()
    earlier = [s - timedelta(days=1) for s in SLOTS[:3]]  # a day before, not touched later
    write(store, [{**d, "slot": d["slot"] - timedelta(days=1)} for d in docs], earlier)
    write(store, docs, SLOTS[:-2])
    holder = market(ferretdb, database_name)
    assert len(holder.view().slots) == len(SLOTS) - 2 + 3
    reads = history_reads(holder)
    old_view = holder.view()

    write(store, docs, SLOTS[-2:])  # two more half-hour slots
    assert holder.refresh()
    data = holder.view()
    assert list(data.slots.to_pydatetime()) == earlier + SLOTS
    assert {day for _, day in reads} == {"2026-11-16"}  # only the day that changed is read
    assert len(old_view.slots) == len(SLOTS) - 2 + 3  # a view never changes under a request
    assert not holder.refresh()  # nothing new: nothing read
    frame = data.group_frame("genre", Window(SLOTS[-1], SLOTS[-1] + timedelta(minutes=30)))
    latest = reference_per_slot([d for d in docs if d["slot"] == SLOTS[-1]], "genre")
    assert dict(zip(frame["key"], frame["viewers"], strict=True)) == {
        g: v for (_, g), (v, _) in latest.items()
    }

    # genres learned later: the rebuilt day is read again, and only it
    reads.clear()
    store.db[schema.GAMES].update_one({"_id": "g3"}, {"$set": {"primary_genre": "Strategy"}})
    store.rebuild_rollups(SLOTS[0], SLOTS[1])  # several slots in one pass
    assert holder.refresh()
    data = holder.view()
    assert reads and {day for _, day in reads} == {"2026-11-16"}
    for slot in SLOTS[:2]:
        rebuilt = data.group_frame("genre", Window(slot, slot + timedelta(minutes=30)))
        assert "Strategy" in set(rebuilt["key"]) and "Puzzle" not in set(rebuilt["key"])
        want = reference_per_slot([d for d in docs if d["slot"] == slot], "genre")
        assert sum(rebuilt["viewers"]) == sum(v for (_, _), (v, _) in want.items())
    data.reader.close()


def test_an_empty_database_has_no_data_and_no_error(
    ferretdb: FerretDB, store: Store, database_name: str
) -> None:
    holder = market(ferretdb, database_name)
    data = holder.view()
    assert holder.loaded and data.newest_slot() is None
    now = datetime.now(UTC)
    assert data.group_frame("genre", Window(now - timedelta(days=1), now)).empty
    data.reader.close()


def test_pandas_frames_use_utc(ferretdb: FerretDB, store: Store, database_name: str) -> None:
    write(store, raw_streams(), SLOTS[:3])
    data = market(ferretdb, database_name).view()
    window = Window(SLOTS[0], SLOTS[3])
    assert str(data.group_frame("genre", window)["slot"].dt.tz) == "UTC"
    assert str(data.channel_rows(window)["slot"].dt.tz) == "UTC"
    assert isinstance(data.newest_slot(), pd.Timestamp)
    data.reader.close()


def test_requests_during_a_reload_are_answered_from_the_old_data_without_waiting(
    ferretdb: FerretDB, store: Store, database_name: str
) -> None:
    docs = raw_streams()
    write(store, docs, SLOTS)
    holder = market(ferretdb, database_name)
    set_market(holder)
    old = holder.view()
    window = Window(SLOTS[0], SLOTS[-1] + timedelta(minutes=30))
    before = group_metrics(old.group_frame("genre", window), snapshot_weights(old.slots))

    # A rebuild, whose reload is held mid-read until the burst of requests is over.
    gate, reading = threading.Event(), threading.Event()
    original = holder.reader.history_documents

    def slow(ids: list[str]) -> Any:
        reading.set()
        assert gate.wait(timeout=120), "the test never released the reload"
        return original(ids)

    holder.reader.history_documents = slow  # type: ignore[method-assign]
    store.db[schema.GAMES].update_one({"_id": "g3"}, {"$set": {"primary_genre": "Strategy"}})
    store.rebuild_rollups(*SLOTS)
    reload = threading.Thread(target=holder.refresh)
    reload.start()
    assert reading.wait(timeout=60)

    def request(number: int) -> tuple[int, pd.DataFrame]:
        # the path every page takes: components.page → the current view
        body = page("Overview", {}, lambda ctx: [ctx.data.version])
        assert "No data" not in str(body)
        view = holder.view()
        filters = Filters(genre="Shooter" if number % 2 else "")
        frame = view.group_frame("genre", window, genre=filters.genre)
        return view.version, frame

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(request, range(40)))  # would hang if requests waited
    assert reload.is_alive()  # the reload was still held while all of them were answered
    assert {version for version, _ in answers} == {old.version}
    gate.set()
    reload.join(timeout=120)
    new = holder.view()
    assert new.version == old.version + 1
    after = group_metrics(new.group_frame("genre", window), snapshot_weights(new.slots))
    assert "Strategy" in after.index and "Strategy" not in before.index
    assert "Puzzle" in before.index and "Puzzle" not in after.index
    assert old.group_frame("genre", window).equals(old.group_frame("genre", window))
    holder.reader.close()


def test_the_result_cache_is_bounded_by_bytes_and_keeps_the_newest() -> None:
    cache = ResultCache(max_bytes=1_000_000)
    frames = [pd.DataFrame({"x": range(12_500)}) for _ in range(40)]  # ~100 kB each
    for number, frame in enumerate(frames):
        assert cache.get(("frame", number), lambda f=frame: f) is frame  # type: ignore[misc]
    assert cache.bytes <= 1_000_000 and 5 <= len(cache) <= 10
    computed: list[int] = []
    cache.get(("frame", 39), lambda: computed.append(39) or frames[0])
    cache.get(("frame", 0), lambda: computed.append(0) or frames[0])
    assert computed == [0]  # the newest is kept, the oldest was evicted
    huge = pd.DataFrame({"x": range(1_000_000)})
    assert (
        cache.get("huge", lambda: huge) is huge and "huge" not in cache._cache
    )  # served, not kept


def test_the_result_cache_counts_bytes_by_their_length_and_answers_what_it_holds() -> None:
    cache = ResultCache(max_bytes=10_000)
    for number in range(5):
        cache.put(f"frame{number}", bytes(3_000))
    assert cache.bytes <= 10_000 and len(cache) == 3  # 3 × (3,000 + overhead) fit
    assert set(cache.known(["frame0", "frame3", "frame4", "nope"])) == {"frame3", "frame4"}


def test_a_game_the_catalogue_has_not_looked_up_is_shown_with_its_listed_name(
    ferretdb: FerretDB, store: Store, database_name: str
) -> None:
    from dashboard.market_tables import game_table

    docs = [
        {**d, "game_name": "<b>Brand New</b> & Co" if d["game_id"] == "g1" else d["game_name"]}
        for d in raw_streams()
    ]
    write(store, docs, SLOTS)
    store.db[schema.GAMES].delete_one({"_id": "g1"})  # listed, never looked up
    holder = market(ferretdb, database_name)
    data = holder.view()
    holder.reader.close()
    assert data.game_name("g1") == "<b>Brand New</b> & Co"
    assert data.game_name("g2") == "Game g2"  # the catalogue's name where it has one
    window = Window(SLOTS[0], SLOTS[-1] + timedelta(minutes=30))
    table = game_table(data, window, Filters()).set_index("id")
    assert table.loc["g1", "game"] == "<b>Brand New</b> & Co"
    assert not table["game"].str.fullmatch(r"g\d").any()
