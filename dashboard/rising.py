"""Rising games: games drawing a growing share of the market, flagged early.

A game's channels and viewers follow the daily cycle and the whole market's ups and
downs; its **share** of all live channels (and of all viewers) removes the market's, and
comparing the same hours of the day removes its own. At each evaluation instant t, a game
rises when its share of channels over the last `WINDOW` is well above its usual share
(the median of its shares over the same hours on each of the 7 days before), and its
share of viewers has grown too: streamers move to a game before its audience peaks, and
requiring both keeps one big channel's visit or one audience's swing from raising a
flag. A game with no usual share (new to the market or to those hours) rises once it
holds `MIN_SHARE` of live channels. Without a day before stored, nothing is flagged. Definitions in
`docs/metrics.md`; `bench/advisor.py` scores the detector on the emulator's planted
launches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from dashboard.view import MarketView
from dashboard.window import Window

DAY = pd.Timedelta(days=1)
WINDOW = pd.Timedelta(hours=6)
BASELINE_DAYS = 7
CHANNEL_RISE = 2.0  # current share of channels ≥ this × usual share
VIEWER_RISE = 1.3  # and current share of viewers ≥ this × usual share
MIN_SHARE = 0.0003  # of live channels over the window: about 27 of 90,000


@dataclass(frozen=True)
class Rise:
    game: str
    since: pd.Timestamp  # first evaluation of the current run of flags
    channel_share: float  # over the last WINDOW
    usual_share: float  # median share over the same hours of the 7 days before (0: none)
    ratio: float  # channel_share / usual_share (inf: new)


@dataclass(frozen=True)
class GameSeries:
    """Channels and viewers per slot and game, summed cumulatively so that any window's
    totals cost one lookup."""

    slots: np.ndarray  # datetime64[ns], UTC, sorted
    games: list[str]
    channels: np.ndarray  # (slots + 1) × games, cumulative
    viewers: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> GameSeries:
        """From per-slot rows `slot`, `key`, `channels`, `viewers` (`group_frame`)."""
        channels = frame.pivot_table("channels", "slot", "key", aggfunc="sum", fill_value=0)
        viewers = frame.pivot_table("viewers", "slot", "key", aggfunc="sum", fill_value=0)
        viewers = viewers.reindex(index=channels.index, columns=channels.columns, fill_value=0)
        zero = np.zeros((1, channels.shape[1]))
        return cls(
            slots=pd.DatetimeIndex(channels.index).tz_convert("UTC").as_unit("ns").to_numpy(),
            games=[str(g) for g in channels.columns],
            channels=np.vstack([zero, np.cumsum(channels.to_numpy(dtype=float), axis=0)]),
            viewers=np.vstack([zero, np.cumsum(viewers.to_numpy(dtype=float), axis=0)]),
        )

    def shares(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        """Each game's share of channels and of viewers over the slots in [start, end)."""
        bounds = np.searchsorted(self.slots, _utc([start, end]))
        channels = self.channels[bounds[1]] - self.channels[bounds[0]]
        viewers = self.viewers[bounds[1]] - self.viewers[bounds[0]]
        return channels / max(channels.sum(), 1.0), viewers / max(viewers.sum(), 1.0)

    def covers(self, start: pd.Timestamp, end: pd.Timestamp) -> bool:
        bounds = np.searchsorted(self.slots, _utc([start, end]))
        return bool(bounds[1] > bounds[0])


def _utc(moments: list[pd.Timestamp]) -> np.ndarray:
    return pd.DatetimeIndex(moments).tz_convert("UTC").as_unit("ns").to_numpy()


def rising_at(series: GameSeries, at: pd.Timestamp) -> dict[str, tuple[float, float, float]]:
    """The games rising at `at`: game → (channel share, usual share, ratio)."""
    if not series.covers(at - WINDOW, at):
        return {}
    now_channels, now_viewers = series.shares(at - WINDOW, at)
    before = [
        series.shares(at - WINDOW - k * DAY, at - k * DAY)
        for k in range(1, BASELINE_DAYS + 1)
        if series.covers(at - WINDOW - k * DAY, at - k * DAY)
    ]
    if not before:  # no day before to compare with: every game would look new
        return {}
    usual_channels = np.median([b[0] for b in before], axis=0)
    usual_viewers = np.median([b[1] for b in before], axis=0)
    has_usual = usual_channels > 0
    flagged = (now_channels >= MIN_SHARE) & (
        ~has_usual
        | (
            (now_channels >= CHANNEL_RISE * usual_channels)
            & (now_viewers >= VIEWER_RISE * usual_viewers)
        )
    )
    return {
        series.games[i]: (
            float(now_channels[i]),
            float(usual_channels[i]),
            float(now_channels[i] / usual_channels[i]) if has_usual[i] else float("inf"),
        )
        for i in np.flatnonzero(flagged)
    }


STEP = pd.Timedelta(hours=1)  # how finely "since when" is traced back


def rising_games(series: GameSeries, now: pd.Timestamp, step: pd.Timedelta = STEP) -> list[Rise]:
    """The games rising at `now`, each with since when (traced back every `step` over the
    last week, while it stayed flagged), biggest rise first."""
    current = rising_at(series, now)
    since = dict.fromkeys(current, now)
    open_games = set(current)
    at = now - step
    while open_games and at > now - BASELINE_DAYS * DAY:
        open_games &= set(rising_at(series, at))
        for game in open_games:
            since[game] = at
        at -= step
    rises = [Rise(game, since[game], *values) for game, values in current.items()]
    return sorted(rises, key=lambda r: (-r.ratio, -r.channel_share, r.game))


def rising_now(data: MarketView, language: str = "") -> tuple[Window | None, list[Rise]]:
    """The games rising at the newest snapshot (over the week and a day before it), in
    one language or all; the window read, None when nothing is stored."""
    newest = data.newest_slot()
    if newest is None:
        return None, []
    end = (newest + data.cadence.interval).to_pydatetime()
    window = Window(end - timedelta(days=BASELINE_DAYS + 1), end)

    def build() -> list[Rise]:
        frame = data.group_frame("game", window, language=language)
        if frame.empty:
            return []
        return rising_games(GameSeries.from_frame(frame), pd.Timestamp(end))

    return window, data.memo(("rising", window, language), build)
