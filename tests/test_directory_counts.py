"""Directory counts: live channels by game and viewers per slot, and the position of an
audience in a directory, against brute force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from dashboard.metrics import position_by_hour
from store import DIRECTORY_BINS, DirectoryCounts, channels_above
from store._directory_counts import bin_of

DAY = datetime(2026, 11, 30, tzinfo=UTC)


def counts_of(viewers: np.ndarray) -> np.ndarray:
    return np.bincount(bin_of(viewers), minlength=len(DIRECTORY_BINS))


def test_channels_above_is_exact_at_round_audiences_and_bounded_between_them() -> None:
    rng = np.random.default_rng(3)
    viewers = np.floor(rng.pareto(0.8, size=5_000) * 2).astype(np.int64)
    counts = counts_of(viewers)
    exact = [*range(11), 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000]
    for audience in exact:
        assert channels_above(counts, audience) == (viewers > audience).sum(), audience
    for audience in (12, 17, 33, 60, 120, 7_000, 20_000):
        # Between the counts above the round audiences either side of it.
        lower = max(a for a in [*exact, 10_000] if a <= audience)
        upper = min((a for a in [*exact, 10_000] if a >= audience), default=None)
        got = float(channels_above(counts, audience))
        assert got <= (viewers > lower).sum()
        if upper is not None:
            assert got >= (viewers > upper).sum()


def test_a_day_takes_slots_in_any_order_new_games_and_a_slot_written_again() -> None:
    slots = [DAY + timedelta(minutes=30 * i) for i in range(3)]
    rng = np.random.default_rng(8)
    written: dict[datetime, dict[str, np.ndarray]] = {}
    day = DirectoryCounts(DAY, "*", [], [], np.zeros((0, 0, len(DIRECTORY_BINS))))
    # Games come and go between slots; the middle slot lands last, the first twice.
    plan = [(slots[0], ["a", "b"]), (slots[2], ["c", "a"]), (slots[0], ["b"]), (slots[1], ["d"])]
    for slot, games in plan:
        per_game = {g: counts_of(rng.integers(0, 40, size=rng.integers(1, 30))) for g in games}
        written[slot] = per_game
        day = day.with_slot(slot, games, np.array([per_game[g] for g in games]))
    assert day.slots == slots
    assert sorted(day.game_ids) == ["a", "b", "c", "d"]
    for s, slot in enumerate(day.slots):
        for g, game in enumerate(day.game_ids):
            expected = written[slot].get(game, np.zeros(len(DIRECTORY_BINS)))
            assert day.counts[s, g].tolist() == expected.tolist(), (slot, game)
    # And back from a document.
    again = DirectoryCounts.from_document(day.to_document())
    assert again.slots == day.slots and again.game_ids == day.game_ids
    assert np.array_equal(again.counts, day.counts)


def test_position_by_hour_is_the_median_of_each_hours_positions_in_the_users_zone() -> None:
    rng = np.random.default_rng(21)
    slots = [DAY + timedelta(minutes=30 * i) for i in range(14 * 48)]  # two weeks
    listings = [rng.integers(0, 60, size=rng.integers(0, 40)) for _ in slots]
    counts = np.array([counts_of(v) for v in listings])
    cells = position_by_hour(slots, counts, 5, "America/New_York")
    rows = []
    for slot, viewers in zip(slots, listings, strict=True):
        local = pd.Timestamp(slot).tz_convert("America/New_York")
        rows.append((local.day_of_week, local.hour, 1 + int((viewers > 5).sum()), len(viewers)))
    brute = pd.DataFrame(rows, columns=["weekday", "hour", "position", "live"])
    by_cell = brute.groupby(["weekday", "hour"])
    for (weekday, hour), part in by_cell:
        assert cells["position"].loc[weekday, hour] == part["position"].median()
        assert cells["low"].loc[weekday, hour] == part["position"].quantile(0.25)
        assert cells["high"].loc[weekday, hour] == part["position"].quantile(0.75)
        assert cells["live"].loc[weekday, hour] == part["live"].median()
    assert cells["position"].notna().sum().sum() == len(by_cell) == 7 * 24
    empty = position_by_hour([], np.zeros((0, len(DIRECTORY_BINS))), 5, "UTC")
    assert empty["position"].isna().all().all()  # no data: blank, not position 1
