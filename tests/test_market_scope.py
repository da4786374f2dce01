"""The whole market: every live stream listed, the top N stored, the tail rolled up, and
the site's long-tail figures equal to a computation from the emulator's raw market."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import FROZEN_AT, EmulatorFactory, FerretDB, collector_settings
from dashboard.filters import Filters
from dashboard.loader import MarketData
from dashboard.market_tables import game_table
from dashboard.metrics import (
    MIN_CHANNELS,
    group_metrics,
    rankable_viewers_per_channel,
    snapshot_weights,
    tail_metrics,
    weekday_hour,
)
from dashboard.window import Window
from scheduler.app import build_collector
from slots import slot_key
from store import SnapshotBatch, Store, StoreReader, compute_rollups, histogram, schema

pytestmark = pytest.mark.integration
SLOT = FROZEN_AT
TOP_N = 150


def raw_market(emulator: Any) -> list[dict[str, Any]]:
    """The emulator's live streams, as it holds them (not as any client saw them)."""
    return list(emulator.app.extensions["emulator"].source.table().records)


def test_a_market_snapshot_lists_every_stream_stores_the_top_and_rolls_up_all(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    emulator = make_emulator(channels=30_000, quirk_short_page=0.1, quirk_last_page_cursor=1.0)
    settings = collector_settings(
        emulator.url,
        ferretdb.uri,
        database_name,
        tmp_path / "spool",
        snapshot_scope="market",
        snapshot_top_n=TOP_N,
        frames_top=0,
        frames_random=0,
        frames_non_game=0,
    )
    job = build_collector(settings, clock=lambda: FROZEN_AT)
    summary = job.collect(SLOT)
    job.close()
    live = raw_market(emulator)
    english = sum(r["language"] == "en" for r in live)
    assert summary.outcome == "stored" and len(live) > 10 * TOP_N
    # English went out in several chains, each far shorter than English alone would be
    assert summary.chains > len(settings.split_languages) and summary.longest_chain < english / 100

    stored = list(store.db[schema.STREAMS].find({"slot": SLOT}))
    top = sorted(live, key=lambda r: (-r["viewer_count"], r["id"]))[:TOP_N]
    assert {s["stream_id"] for s in stored} == {r["id"] for r in top}
    snapshot = store.db[schema.SNAPSHOTS].find_one({"_id": schema.snapshot_id(SLOT)})
    assert snapshot is not None and snapshot["mode"] == "market"
    assert snapshot["stream_count"] == TOP_N and snapshot["market_stream_count"] == len(live)

    frame = pd.DataFrame(live)
    rollups = {r["dimension"]: r for r in store.db[schema.ROLLUPS].find({"slot": SLOT})}
    by_language = frame.groupby("language")["viewer_count"].agg(["count", "sum"])
    assert {g["key"]: (g["channels"], g["viewers"]) for g in rollups["language"]["groups"]} == {
        k: (int(r["count"]), int(r["sum"])) for k, r in by_language.iterrows()
    }
    assert rollups["game"]["total_channels"] == len(live)
    assert len(rollups["channel"]["groups"]) == TOP_N  # only the stored streams
    assert {r["scope"] for r in rollups.values()} == {"market"}

    # What the site shows: channels live, the median channel and the share under 5 viewers
    holder = MarketData(StoreReader(ferretdb.uri, database_name), refresh_seconds=0)
    holder.refresh()
    view = holder.view()
    window = Window(SLOT, SLOT + timedelta(minutes=30))
    assert view.coverage(window) == "all live channels"
    totals = view.totals(window)
    assert totals["channels"].tolist() == [len(live)]
    assert totals["viewers"].tolist() == [int(frame["viewer_count"].sum())]
    tail = tail_metrics(view.histograms("language", window))
    for language, rows in frame.groupby("language"):
        counts = np.sort(rows["viewer_count"].to_numpy())
        median = counts[int(np.ceil(len(counts) / 2)) - 1]
        if median < 10:  # bins are one viewer wide below 10: the median is exact
            assert tail.loc[language, "median_viewers"] == median, language
        p90 = counts[int(np.ceil(0.9 * len(counts))) - 1]
        edge = max(e for e in histogram.VIEWER_BINS if e <= p90)  # its bin's lower edge
        assert tail.loc[language, "p90_viewers"] == edge, language
        assert tail.loc[language, "under_5_share"] == pytest.approx((counts < 5).mean())
    games = group_metrics(
        view.group_frame("game", window), snapshot_weights(view.window_slots(window))
    )
    ranked = rankable_viewers_per_channel(games)
    per_game = frame.groupby("game_id")["viewer_count"].agg(["count", "mean"])
    for game, row in per_game.iterrows():
        if row["count"] < MIN_CHANNELS:
            assert np.isnan(ranked[game]), game  # a fluke cannot lead the ranking
        else:
            assert ranked[game] == pytest.approx(row["mean"]), game

    # With a language filter, the games table's long-tail columns come from the directory
    # counts: equal to the raw listing of that language, game by game.
    for language in ("de", "ja"):
        table = game_table(view, window, Filters(language=language)).set_index("id")
        mine = frame[frame["language"] == language]
        assert len(mine) > 100
        for game, rows in mine.groupby("game_id"):
            counts = np.sort(rows["viewer_count"].to_numpy())
            median = counts[int(np.ceil(len(counts) / 2)) - 1]
            if median < 11:  # one viewer wide up to 10 (11 is an edge too)
                assert table.loc[game, "median_viewers"] == median, (language, game)
            assert table.loc[game, "under_5_share"] == pytest.approx((counts < 5).mean())
    view.reader.close()


def write_slot(store: Store, slot: datetime, streams: list[dict[str, Any]], top_n: int) -> None:
    ranked = sorted(streams, key=lambda s: -s["viewer_count"])
    docs = [
        {**s, "_id": f"{slot_key(slot)}/{s['stream_id']}", "slot": slot, "rank": i}
        for i, s in enumerate(ranked, 1)
    ]
    store.write_snapshot(
        SnapshotBatch(
            slot=slot,
            snapshot={"_id": schema.snapshot_id(slot), "slot": slot, "status": "complete"},
            streams=docs[:top_n],
            rollups=compute_rollups(
                slot, docs, lambda g: "Shooter", channel_limit=top_n, scope="market"
            ),
        )
    )


def stream(number: int, viewers: int) -> dict[str, Any]:
    return {
        "stream_id": str(number),
        "user_login": f"c{number}",
        "user_name": f"C{number}",
        "game_id": "g",
        "game_name": "G",
        "language": "en",
        "viewer_count": viewers,
    }


def test_the_best_hour_to_stream_is_the_least_crowded_not_the_peak(
    ferretdb: FerretDB, store: Store, database_name: str
) -> None:
    """At 20:00 the market peaks (the top streams are huge) but 500 small channels crowd it;
    at 10:00 fewer people watch, spread over few channels. Only the whole market shows it."""
    day = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday
    for hour, top_viewers, tail_count, tail_viewers in ((20, 1000, 500, 1), (10, 300, 10, 2)):
        for minutes in (0, 30):
            slot = day + timedelta(hours=hour, minutes=minutes)
            streams = [stream(i, top_viewers) for i in range(3)]
            streams += [stream(100 + i, tail_viewers) for i in range(tail_count)]
            write_slot(store, slot, streams, top_n=3)
    holder = MarketData(StoreReader(ferretdb.uri, database_name), refresh_seconds=0)
    holder.refresh()
    view = holder.view()
    window = Window(day, day + timedelta(days=1))
    slots = view.window_slots(window)
    matrix = weekday_hour(view.subject_frame(window, "all"), snapshot_weights(slots), "UTC")
    best = np.unravel_index(np.nanargmax(matrix.to_numpy()), matrix.shape)
    assert best == (0, 10)  # Monday 10:00: what the When-to-stream heat map shows
    frame = view.group_frame("genre", window)
    totals = frame.groupby(frame["slot"].dt.hour)["viewers"].sum()
    assert totals.idxmax() == 20  # the peak hour is another
    # the top streams alone would have named the peak hour instead
    top_only = weekday_hour(
        pd.DataFrame(
            {
                "slot": view.window_slots(window),
                "viewers": [3000 if s.hour == 20 else 900 for s in view.window_slots(window)],
                "channels": 3,
            }
        ),
        snapshot_weights(view.window_slots(window)),
        "UTC",
    )
    assert np.unravel_index(np.nanargmax(top_only.to_numpy()), top_only.shape) == (0, 20)
    view.reader.close()
