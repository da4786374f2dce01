"""Every metric against an independent computation from raw stream documents.

The reference side is deliberately naive Python (loops and dicts, no shared helpers): it
reads metrics.md literally. Snapshots have gaps (one of 90 minutes, one beyond `max_gap`),
and the last snapshot weighs the nominal cadence.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboard import figures
from dashboard.metrics import (
    channel_concentration,
    gap_points,
    group_metrics,
    growth,
    snapshot_weights,
    viewer_series,
    weekday_hour,
)
from store import compute_rollups

T0 = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # a Monday
HALF = timedelta(minutes=30)
# 0, 0:30, 1:00, [gap] 2:30, 3:00, [long gap] 9:00, 9:30 … and the last
OFFSETS = [0, 1, 2, 5, 6, 18, 19, 20, 21, 22, 40, 41]
SLOTS = [T0 + i * HALF for i in OFFSETS]
GENRE = {"g1": "Shooter", "g2": "Shooter", "g3": "Puzzle", "jc": "Non-game"}


def raw_streams(seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for slot in SLOTS:
        for channel in rng.sample(range(60), 35):
            game = ["g1", "g2", "g3", "jc"][channel % 4]
            docs.append(
                {
                    "slot": slot,
                    "stream_id": f"{channel}-{slot:%d%H%M}",
                    "user_login": f"c{channel}",
                    "game_id": game,
                    "game_name": game,
                    "language": ["en", "es"][channel % 2],
                    "viewer_count": rng.randint(0, 500) * (3 if channel < 5 else 1),
                }
            )
        docs.append(dict(docs[-1]))  # a duplicate record of one stream: must count once
    return docs


def reference_weights(slots: list[datetime]) -> dict[datetime, float]:
    ordered = sorted(set(slots))
    weights = {}
    for i, slot in enumerate(ordered):
        hours = 0.5 if i == len(ordered) - 1 else (ordered[i + 1] - slot).total_seconds() / 3600
        weights[slot] = min(hours, 1.0)
    return weights


def reference_per_slot(
    docs: list[dict[str, Any]], key: str
) -> dict[tuple[datetime, str], tuple[int, int]]:
    seen: set[tuple[datetime, str]] = set()
    viewers: dict[tuple[datetime, str], int] = defaultdict(int)
    channels: dict[tuple[datetime, str], int] = defaultdict(int)
    for doc in docs:
        if (doc["slot"], doc["stream_id"]) in seen:
            continue
        seen.add((doc["slot"], doc["stream_id"]))
        group = GENRE[doc["game_id"]] if key == "genre" else doc[key]
        viewers[(doc["slot"], group)] += doc["viewer_count"]
        channels[(doc["slot"], group)] += 1
    return {k: (viewers[k], channels[k]) for k in viewers}


def product_frame(docs: list[dict[str, Any]], dimension: str) -> pd.DataFrame:
    """What the dashboard computes from: the stored rollups of each snapshot."""
    rows = []
    for slot in SLOTS:
        for rollup in compute_rollups(
            slot, [d for d in docs if d["slot"] == slot], GENRE.__getitem__
        ):
            if rollup["dimension"] == dimension:
                rows += [
                    {
                        "slot": pd.Timestamp(slot),
                        "key": g["key"],
                        "viewers": g["viewers"],
                        "channels": g["channels"],
                    }
                    for g in rollup["groups"]
                ]
    return pd.DataFrame(rows)


def test_weights_cap_gaps_and_give_the_last_snapshot_the_cadence() -> None:
    weights = snapshot_weights(SLOTS)
    assert dict(
        zip(weights.index.to_pydatetime(), weights.to_numpy(), strict=True)
    ) == reference_weights(SLOTS)
    assert (
        weights.iloc[-1] == 0.5 and weights.iloc[2] == 1.0
    )  # 1:00 → 2:30 is capped at max_gap = 1 h
    assert snapshot_weights([]).empty


@pytest.mark.parametrize("dimension", ["game", "genre", "language"])
def test_group_metrics_match_the_definitions(dimension: str) -> None:
    docs = raw_streams()
    metrics = group_metrics(product_frame(docs, dimension), snapshot_weights(SLOTS))
    key = {"game": "game_id", "genre": "genre", "language": "language"}[dimension]
    per_slot = reference_per_slot(docs, key)
    weights = reference_weights(SLOTS)
    total_hours = sum(weights.values())
    groups = {g for _, g in per_slot}
    hours_all = sum(per_slot[(s, g)][0] * weights[s] for (s, g) in per_slot)
    assert set(metrics.index) == groups
    for group in groups:
        watched = sum(per_slot.get((s, group), (0, 0))[0] * weights[s] for s in SLOTS)
        streamed = sum(per_slot.get((s, group), (0, 0))[1] * weights[s] for s in SLOTS)
        peak_slot = max(SLOTS, key=lambda s: (per_slot.get((s, group), (0, 0))[0], -s.timestamp()))
        row = metrics.loc[group]
        assert row["hours_watched"] == pytest.approx(watched)
        assert row["hours_streamed"] == pytest.approx(streamed)
        assert row["avg_viewers"] == pytest.approx(watched / total_hours)
        assert row["avg_channels"] == pytest.approx(streamed / total_hours)
        assert row["viewers_per_channel"] == pytest.approx(watched / streamed)
        assert row["share"] == pytest.approx(watched / hours_all)
        assert row["peak_viewers"] == per_slot[(peak_slot, group)][0]
        assert row["peak_at"] == pd.Timestamp(peak_slot)
        assert row["peak_channels"] == max(per_slot.get((s, group), (0, 0))[1] for s in SLOTS)
    assert metrics["share"].sum() == pytest.approx(1.0)
    assert list(metrics["hours_watched"]) == sorted(metrics["hours_watched"], reverse=True)


def test_averages_are_time_weighted_not_summed() -> None:
    # Two snapshots 30 min apart with 100 and 300 viewers: average 200, not 400.
    frame = pd.DataFrame(
        {
            "slot": pd.to_datetime([SLOTS[0], SLOTS[1]]),
            "key": ["x", "x"],
            "viewers": [100, 300],
            "channels": [1, 1],
        }
    )
    metrics = group_metrics(frame, snapshot_weights(SLOTS[:2]))
    assert metrics.loc["x", "avg_viewers"] == pytest.approx(200)
    assert metrics.loc["x", "hours_watched"] == pytest.approx(100 * 0.5 + 300 * 0.5)


def test_growth_against_the_previous_window() -> None:
    result = growth(pd.Series({"a": 150.0, "b": 10.0, "c": 5.0}), pd.Series({"a": 100.0, "b": 0.0}))
    assert result["a"] == pytest.approx(0.5) and pd.isna(result["b"]) and pd.isna(result["c"])


def test_viewer_series_shows_gaps_and_zeros_and_groups_the_rest() -> None:
    docs = raw_streams()
    frame = product_frame(docs, "game")
    slots = pd.DatetimeIndex(SLOTS)
    holes = gap_points(slots, SLOTS[0], SLOTS[-1] + HALF)
    # 1:00 → 2:30, 3:00 → 9:00 and 11:00 → 20:00 are longer than the max_gap: one point each
    assert list(holes) == [
        pd.Timestamp(T0 + HALF * (a + b) / 2) for a, b in ((2, 5), (6, 18), (22, 40))
    ]
    series = viewer_series(frame, slots, holes, ["g1"])
    per_slot = reference_per_slot(docs, "game_id")
    assert list(series.columns) == ["g1", "Other"]
    assert len(series) == len(SLOTS) + 3
    for slot in series.index:
        if slot.to_pydatetime() in SLOTS:
            s = slot.to_pydatetime()
            assert series.loc[slot, "g1"] == per_slot.get((s, "g1"), (0, 0))[0]
            others = sum(per_slot.get((s, g), (0, 0))[0] for g in ("g2", "g3", "jc"))
            assert series.loc[slot, "Other"] == others
        else:
            assert series.loc[slot].isna().all()  # a missing snapshot is a gap, never 0
    area = figures.stacked_area(series, "viewers")
    shaded = [t for t in area.data if t.name == "no data"]
    assert len(shaded) == 1 and not area.layout.shapes and not area.layout.annotations
    starts = [x for i, x in enumerate(shaded[0].x) if i % 6 == 0]
    assert [pd.Timestamp(x) for x in starts] == [
        pd.Timestamp(T0 + HALF * a).tz_localize(None) for a in (2, 6, 22)
    ]


def test_snapshots_every_16_minutes_off_the_half_hours_show_no_gap() -> None:
    start = T0 + timedelta(minutes=7)
    slots = pd.DatetimeIndex([start + timedelta(minutes=16 * i) for i in range(689)])
    assert len(gap_points(slots, slots[0], slots[-1] + HALF)) == 0
    frame = pd.DataFrame({"slot": slots, "key": "a", "viewers": 10, "channels": 1})
    series = viewer_series(frame, slots, gap_points(slots, slots[0], slots[-1] + HALF), ["a"])
    area = figures.stacked_area(series, "viewers")
    assert [t.name for t in area.data] == ["a"] and not area.layout.shapes
    # A real outage in that recording is one gap, however many half hours it spans.
    holed = slots.delete(range(100, 300))
    assert len(gap_points(holed, holed[0], holed[-1] + HALF)) == 1


def test_weekday_hour_heat_map_is_a_time_weighted_ratio_in_the_chosen_zone() -> None:
    docs = [d for d in raw_streams() if GENRE[d["game_id"]] == "Shooter"]
    frame = product_frame(docs, "genre")
    zone = "America/Sao_Paulo"
    matrix = weekday_hour(frame, snapshot_weights(SLOTS), zone)
    per_slot = reference_per_slot(docs, "genre")
    weights = reference_weights(SLOTS)
    cells: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for slot in SLOTS:
        local = slot.astimezone(ZoneInfo(zone))
        viewers, channels = per_slot.get((slot, "Shooter"), (0, 0))
        cells[(local.weekday(), local.hour)][0] += viewers * weights[slot]
        cells[(local.weekday(), local.hour)][1] += channels * weights[slot]
    for (day, hour), (vw, cw) in cells.items():
        assert matrix.loc[day, hour] == pytest.approx(vw / cw)
    assert matrix.notna().sum().sum() == len(cells)
    assert matrix.loc[6, 21] == pytest.approx(
        cells[(6, 21)][0] / cells[(6, 21)][1]
    )  # Sunday evening in São Paulo


def test_channel_concentration_matches_a_direct_count() -> None:
    docs = [d for d in raw_streams() if d["game_id"] == "g1"]
    streams = pd.DataFrame(docs).drop_duplicates(["slot", "stream_id"])
    streams["slot"] = pd.to_datetime(streams["slot"], utc=True)
    result = channel_concentration(streams, snapshot_weights(SLOTS))
    weights = reference_weights(SLOTS)
    per_channel: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for d in {(d["slot"], d["stream_id"]): d for d in docs}.values():
        per_channel[d["user_login"]][0] += d["viewer_count"] * weights[d["slot"]]
        per_channel[d["user_login"]][1] += weights[d["slot"]]
    ranked = sorted(per_channel.values(), key=lambda v: -v[0])
    total = sum(v[0] for v in ranked)
    for n in (1, 3, 5, 10):
        assert result[f"top_{n}_share"] == pytest.approx(sum(v[0] for v in ranked[:n]) / total)
    assert result["channels"] == len(ranked)


def test_a_single_snapshot_weighs_the_cadence_and_has_no_growth_baseline() -> None:
    frame = pd.DataFrame(
        {
            "slot": pd.to_datetime([SLOTS[0]] * 2),
            "key": ["a", "b"],
            "viewers": [30, 10],
            "channels": [3, 1],
        }
    )
    metrics = group_metrics(frame, snapshot_weights(SLOTS[:1]))
    assert metrics.loc["a", "hours_watched"] == pytest.approx(15.0)  # 30 viewers × 0.5 h
    assert metrics.loc["a", "avg_viewers"] == pytest.approx(30.0)
    assert metrics.loc["a", "viewers_per_channel"] == pytest.approx(10.0)
    assert metrics["share"].to_dict() == pytest.approx({"a": 0.75, "b": 0.25})
    assert growth(metrics["avg_viewers"], pd.Series(dtype=float)).isna().all()
