"""Rising games: a game taking a growing share of live channels is flagged, with since
when; daily cycles, market-wide swings, audience swings and new tiny games are not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.rising import GameSeries, rising_at, rising_games

START = pd.Timestamp("2026-11-01", tz="UTC")
SLOTS = pd.date_range(START, periods=14 * 48, freq="30min")
SURGE = START + pd.Timedelta(days=10)


def market(rng: np.random.Generator) -> pd.DataFrame:
    """Two weeks of 30 steady games (a daily cycle, the whole market doubling on day 11,
    noise), one whose share of channels triples from day 10, one that appears on day 11,
    one whose audience alone jumps, one new game too small to matter."""
    rows = []
    for slot in SLOTS:
        hour = slot.hour + slot.minute / 60
        cycle = 0.6 + 0.4 * np.cos((hour - 20) / 24 * 2 * np.pi)
        market_size = 2.0 if slot >= START + pd.Timedelta(days=11) else 1.0
        for game in range(30):
            channels = rng.poisson(200 * cycle * market_size)
            viewers = channels * 10 * (4.0 if game == 7 and slot >= SURGE else 1.0)
            rows.append((slot, f"g{game}", channels, viewers))
        into = (slot - SURGE) / pd.Timedelta(days=2)
        surge = 1.0 + 2.0 * float(np.clip(into, 0, 1))
        channels = rng.poisson(200 * cycle * market_size * surge)
        rows.append((slot, "surging", channels, channels * 12 * surge))
        if slot >= START + pd.Timedelta(days=11):
            rows.append((slot, "launch", rng.poisson(60 * cycle), rng.poisson(600 * cycle)))
            rows.append((slot, "tiny", 1, 3))
    return pd.DataFrame(rows, columns=["slot", "key", "channels", "viewers"])


def test_a_surge_and_a_launch_are_flagged_and_nothing_else() -> None:
    series = GameSeries.from_frame(market(np.random.default_rng(4)))
    end = START + pd.Timedelta(days=14)
    rises = {r.game: r for r in rising_games(series, end)}
    assert set(rises) == {"surging", "launch"}
    assert rises["launch"].ratio == float("inf") and rises["launch"].usual_share == 0
    assert rises["surging"].ratio >= 2
    # Flagged from when its share had doubled (about a day into the surge), not before.
    assert SURGE + pd.Timedelta(hours=12) <= rises["surging"].since <= SURGE + pd.Timedelta(days=2)
    assert rises["launch"].since <= START + pd.Timedelta(days=11, hours=1)
    # Before the surge, at every hour of a day, nothing rises.
    for hour in range(24):
        assert rising_at(series, START + pd.Timedelta(days=9, hours=hour)) == {}


def test_shares_are_of_the_slots_in_the_window_only() -> None:
    frame = pd.DataFrame(
        [
            (START, "a", 3, 30),
            (START, "b", 1, 10),
            (START + pd.Timedelta(hours=7), "a", 1, 5),
            (START + pd.Timedelta(hours=7), "b", 1, 15),
        ],
        columns=["slot", "key", "channels", "viewers"],
    )
    series = GameSeries.from_frame(frame)
    channels, viewers = series.shares(START, START + pd.Timedelta(hours=6))
    assert channels.tolist() == [0.75, 0.25] and viewers.tolist() == [0.75, 0.25]
    channels, viewers = series.shares(START, START + pd.Timedelta(hours=8))
    assert channels.tolist() == [4 / 6, 2 / 6] and viewers.tolist() == [35 / 60, 25 / 60]
    assert not series.covers(START + pd.Timedelta(hours=1), START + pd.Timedelta(hours=6))


def test_without_a_day_before_nothing_is_new() -> None:
    """The first hours of a history have no same hours before: every game would be
    "new"; none is flagged until a day before is stored."""
    frame = market(np.random.default_rng(5))
    first_day = frame[frame["slot"] < START + pd.Timedelta(days=1)]
    series = GameSeries.from_frame(first_day)
    assert rising_games(series, START + pd.Timedelta(hours=20)) == []
    two_days = GameSeries.from_frame(frame[frame["slot"] < START + pd.Timedelta(days=2)])
    assert rising_at(two_days, START + pd.Timedelta(days=1, hours=20)) == {}  # steady games
