"""What-to-stream factors against independent computations from raw viewer counts, and the
asker's inputs: bad ones get a problem named, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.advice import PRIOR_CHANNEL_SLOTS, Ask, demand_factors, directory_factors
from dashboard.metrics import snapshot_weights
from store import DIRECTORY_BINS, DirectoryCounts, audience_directory, viewers_up_to
from store._directory_counts import bin_of

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def counts_of(viewers: np.ndarray) -> np.ndarray:
    return np.bincount(bin_of(viewers), minlength=len(DIRECTORY_BINS))


def test_viewers_up_to_is_exact_to_ten_and_bounded_above_it() -> None:
    rng = np.random.default_rng(3)
    viewers = np.floor(rng.pareto(1.1, 4_000) * 2).astype(np.int64)
    counts = counts_of(viewers)
    for ceiling in range(11):
        channels, held = viewers_up_to(counts, ceiling)
        assert channels == (viewers <= ceiling).sum(), ceiling
        assert held == viewers[viewers <= ceiling].sum(), ceiling
    edges = np.array(DIRECTORY_BINS)
    lower = edges[bin_of(viewers)]
    upper = np.append(edges[1:] - 1, viewers.max())[bin_of(viewers)]
    for ceiling in (12, 20, 33, 100, 5_000):
        channels, held = viewers_up_to(counts, ceiling)
        # Between counting every channel of a bin that starts at or below the ceiling
        # at its bin's last count (cut at the ceiling), and only those of bins wholly
        # below the ceiling at their first.
        whole, touching = upper <= ceiling, lower <= ceiling
        assert whole.sum() <= channels <= touching.sum(), ceiling
        assert lower[whole].sum() <= held <= np.minimum(upper, ceiling)[touching].sum()
        assert lower[whole].sum() <= viewers[viewers <= ceiling].sum(), ceiling


def listings(rng: np.random.Generator) -> list[dict[str, np.ndarray]]:
    """Six slots of three games: "boosted" small channels draw 3×, "gone" leaves after
    two slots, "late" arrives at the fourth."""
    slots = []
    for s in range(6):
        games = ["big"] * 300 + ["boosted"] * 80 + (["gone"] * 40 if s < 2 else [])
        games += ["late"] * 30 if s >= 3 else []
        size = rng.pareto(1.0, len(games)) * 1.5
        boost = np.where(np.array(games) == "boosted", 3.0, 1.0)
        viewers = np.floor(size * boost).astype(np.int64)
        slots.append({"game": np.array(games), "viewers": viewers})
    return slots


def directory_of(slots: list[dict[str, np.ndarray]], audience: int) -> object:
    games = sorted({g for s in slots for g in s["game"]})
    days = []
    for i, s in enumerate(slots):
        counts = np.stack([counts_of(s["viewers"][s["game"] == g]) for g in games])
        days.append(
            DirectoryCounts(START, "*", [START + timedelta(minutes=30 * i)], games, counts[None])
        )
    return audience_directory(days, audience, lambda _: True)


@pytest.mark.parametrize("audience", [1, 3, 5])
def test_directory_factors_equal_a_count_over_the_raw_viewers(audience: int) -> None:
    slots = listings(np.random.default_rng(audience))
    factors = directory_factors(directory_of(slots, audience))  # type: ignore[arg-type]
    games = sorted({g for s in slots for g in s["game"]})
    assert list(factors.index) == games
    near_sum = {g: 0.0 for g in games}
    near_n = {g: 0 for g in games}
    for s in slots:
        near = s["viewers"] <= 2 * audience
        for g in games:
            mine = near & (s["game"] == g)
            near_sum[g] += float(s["viewers"][mine].sum())
            near_n[g] += int(mine.sum())
    market = sum(near_sum.values()) / sum(near_n.values())
    for g in games:
        positions = [1 + int((s["viewers"][s["game"] == g] > audience).sum()) for s in slots]
        live = [int((s["game"] == g).sum()) for s in slots]
        above = [(p - 1) / n for p, n in zip(positions, live, strict=True) if n]
        assert factors.loc[g, "position"] == np.median(positions), g
        assert factors.loc[g, "live"] == np.median(live), g
        assert factors.loc[g, "above_share"] == pytest.approx(np.median(above)), g
        assert factors.loc[g, "reach"] == pytest.approx(near_sum[g] / near_n[g]), g
        blended = (near_sum[g] + PRIOR_CHANNEL_SLOTS * market) / (near_n[g] + PRIOR_CHANNEL_SLOTS)
        assert factors.loc[g, "lift"] == pytest.approx(blended / market), g
    # The planted 3× game leads; the others sit near the market.
    assert factors["lift"].idxmax() == "boosted"
    assert factors.loc["boosted", "lift"] > 1.1 > 1.0 > factors.loc["big", "lift"]


def test_demand_factors_equal_a_direct_computation() -> None:
    slots = pd.date_range(START, periods=8 * 48, freq="30min")[::4]  # 2-hourly, 8 days
    weights = snapshot_weights(slots)
    rows = []
    for i, slot in enumerate(slots):
        rows.append({"slot": slot, "key": "steady", "viewers": 100.0, "channels": 10})
        rows.append({"slot": slot, "key": "growing", "viewers": 10.0 + i, "channels": 2})
        if i % 3 == 0:  # live at a third of the slots only
            rows.append({"slot": slot, "key": "patchy", "viewers": 60.0, "channels": 4})
    frame = pd.DataFrame(rows)
    got = demand_factors(frame, weights)
    total = weights.sum()
    for key in ("steady", "growing", "patchy"):
        mine = frame[frame["key"] == key].set_index("slot")
        viewers = (mine["viewers"] * weights).fillna(0.0)
        assert got.loc[key, "viewers"] == pytest.approx(viewers.sum() / total)
        half = len(slots) // 2
        early = viewers.reindex(slots[:half]).fillna(0).sum() / weights.iloc[:half].sum()
        later = viewers.reindex(slots[half:]).fillna(0).sum() / weights.iloc[half:].sum()
        assert got.loc[key, "trend"] == pytest.approx(later / early)
        daily = viewers.reindex(slots).fillna(0).groupby(slots.floor("D")).sum()
        daily = daily / weights.groupby(weights.index.floor("D")).sum()
        assert got.loc[key, "swing"] == pytest.approx(daily.std(ddof=0) / daily.mean())
    assert got.loc["steady", "swing"] == pytest.approx(0.0)
    assert got.loc["growing", "trend"] > 1.5
    assert got.loc["patchy", "channels"] == pytest.approx(4 / 3, rel=0.05)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"viewers": "0"}, "Usual viewers must be 1–100,000"),
        ({"viewers": "-3"}, "Usual viewers must be 1–100,000"),
        ({"viewers": "10000000"}, "Usual viewers must be 1–100,000"),
        ({"viewers": "<b>3</b>"}, "is not a whole number"),
        ({"from": "25"}, "From hour must be 0–23"),
        ({"days": ""}, "No day was chosen"),
        ({"days": "caturday"}, "No day was chosen"),
    ],
)
def test_a_bad_input_is_named_and_the_default_used(query: dict[str, str], problem: str) -> None:
    ask = Ask.from_query(query)
    assert any(problem in p for p in ask.problems), ask.problems
    assert ask == Ask()  # every field at its default


def test_good_inputs_are_taken_as_asked() -> None:
    ask = Ask.from_query({"viewers": "7", "from": "22", "to": "2", "days": "sat,mon"})
    assert (ask.audience, ask.start_hour, ask.end_hour, ask.days) == (7, 22, 2, ("mon", "sat"))
    assert not ask.problems
    assert ask.days_param == "mon,sat"
    assert Ask.from_query({"days": "weekend"}).days == ("sat", "sun")
    late_monday = datetime(2026, 11, 2, 23, tzinfo=UTC)
    assert ask.wants(late_monday, "UTC") and not ask.wants(late_monday, "Asia/Tokyo")
    assert not ask.wants(late_monday + timedelta(hours=4), "UTC")  # 03:00, past the hours
