"""Structure planted in the simulated market, with its truth, so advice can be checked.

A real market's structure is unknown; the emulator's is planted and can be asked for:
- **launches**: every `LAUNCH_EVERY_DAYS` a new category appears, rises for a few days to
  a peak, then settles at a fraction of it (and is gone for over a week before its name is
  reused);
- **small-channel games**: in some games the small channels draw more (or fewer) viewers
  than the game's size suggests;
- **late games**: some games' viewers watch late (their daily peak is hours after the
  usual evening), while their streamers keep their usual hours;
- **quiet noise**: every game's audience wobbles from day to day, so not every rise is a
  launch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DAY = 86_400.0
# Launch i starts at LAUNCH_EPOCH + i * LAUNCH_EVERY_DAYS days (+ up to a day), with the
# i % LAUNCH_SLOTS-th launch category. A launch is gone LAUNCH_EVERY_DAYS before its
# category is reused: longer than a week, so the reused name starts as new as a real one.
LAUNCH_EPOCH = 1_735_689_600.0  # 2025-01-01 UTC
LAUNCH_EVERY_DAYS = 9
LAUNCH_SLOTS = 8
LAUNCH_LIFE_DAYS = LAUNCH_EVERY_DAYS * (LAUNCH_SLOTS - 1)
LAUNCH_NAMES = (
    "Skyforge Odyssey", "Ember Protocol", "Hollowmere", "Tidebreaker",
    "Null Sector", "Quill & Crown", "Starfall Tactics", "Gravewind",
)  # fmt: skip
# Small channels (peak audience under this) in these games draw this many times what
# their size alone would give them.
SMALL_CHANNEL_AUDIENCE = 50.0
SMALL_CHANNEL_GAMES = {
    "Stardew Valley": 2.5,
    "Chess": 2.5,
    "Hollow Knight": 2.5,
    "Phasmophobia": 2.0,
    "VALORANT": 0.4,
    "Fortnite": 0.4,
    "League of Legends": 0.5,
}
# These games' viewers peak this many hours after the usual 21:00 local.
LATE_GAMES = {"Escape from Tarkov": 6.0, "Rust": 5.0, "Dead by Daylight": 4.0}
DAILY_NOISE = 0.12  # standard deviation of a game's day-to-day log audience


@dataclass(frozen=True)
class Launch:
    """One planted launch: its category rises from `start` to `peak`, then settles."""

    number: int
    category: int  # index into Market.categories
    start: float
    peak: float
    peak_share: float  # share of live channels playing it at its peak
    settled_share: float

    def share(self, t: float | np.ndarray) -> np.ndarray:
        """Share of live channels playing the launch at `t` (0 outside its life)."""
        t = np.asarray(t, dtype=np.float64)
        rising = self.peak_share * np.clip((t - self.start) / (self.peak - self.start), 0, 1) ** 2
        after = np.maximum(t - self.peak, 0.0) / (2 * DAY)
        settling = self.settled_share + (self.peak_share - self.settled_share) * np.exp(-after)
        share = np.where(t < self.peak, rising, settling)
        # It fades over its last two days, before the category is reused.
        end = self.start + LAUNCH_LIFE_DAYS * DAY
        share = share * np.clip((end - t) / (2 * DAY), 0, 1)
        return np.where(t < self.start, 0.0, share)


def launches(first_category: int, seed: int, start: float, end: float) -> list[Launch]:
    """Every launch alive at some instant of [start, end)."""
    first = math.floor((start - LAUNCH_EPOCH) / (LAUNCH_EVERY_DAYS * DAY)) - LAUNCH_SLOTS
    last = math.floor((end - LAUNCH_EPOCH) / (LAUNCH_EVERY_DAYS * DAY))
    found = []
    for number in range(max(first, 0), last + 1):
        rng = np.random.default_rng([seed, number])
        begin = LAUNCH_EPOCH + number * LAUNCH_EVERY_DAYS * DAY + float(rng.uniform(0, DAY))
        peak_share = float(rng.uniform(0.004, 0.02))
        launch = Launch(
            number=number,
            category=first_category + number % LAUNCH_SLOTS,
            start=begin,
            peak=begin + float(rng.uniform(2.0, 4.0)) * DAY,
            peak_share=peak_share,
            settled_share=peak_share * float(rng.uniform(0.2, 0.4)),
        )
        if launch.start < end and launch.start + LAUNCH_LIFE_DAYS * DAY > start:
            found.append(launch)
    return found
