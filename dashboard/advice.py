"""What to stream: every game seen from a new streamer's seat — their language, their
hours, their usual viewers — with each factor shown, not folded into a hidden score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from dashboard.filters import Filters
from dashboard.metrics import AUDIENCES, MIN_CHANNELS, snapshot_weights
from dashboard.rising import rising_now
from dashboard.view import MarketView
from dashboard.window import Window
from store import ALL_LANGUAGES

DAYS = {"all": range(7), "weekdays": range(5), "weekend": range(5, 7)}
FIELDS = [
    "id", "game", "genre", "position", "above_share", "live", "viewers",
    "viewers_per_place", "viewers_per_channel", "rising",
]  # fmt: skip


@dataclass(frozen=True)
class Ask:
    """Who asks: usual viewers, and the hours they can stream (local, [start, end),
    wrapping past midnight; start = end: all day) on which days."""

    audience: int = 3
    start_hour: int = 18
    end_hour: int = 23
    days: str = "all"

    @classmethod
    def from_query(cls, query: dict[str, object]) -> Ask:
        def number(name: str, default: int, allowed: range | tuple[int, ...]) -> int:
            try:
                value = int(str(query.get(name, default)))
            except ValueError:
                return default
            return value if value in allowed else default

        days = str(query.get("days", "all"))
        return cls(
            audience=number("viewers", 3, AUDIENCES),
            start_hour=number("from", 18, range(24)),
            end_hour=number("to", 23, range(24)),
            days=days if days in DAYS else "all",
        )

    def wants(self, slot: datetime, timezone: str) -> bool:
        local = pd.Timestamp(slot).tz_convert(timezone)
        if local.day_of_week not in DAYS[self.days]:
            return False
        if self.start_hour == self.end_hour:
            return True
        if self.start_hour < self.end_hour:
            return self.start_hour <= local.hour < self.end_hour
        return local.hour >= self.start_hour or local.hour < self.end_hour


def what_to_stream(data: MarketView, window: Window, filters: Filters, ask: Ask) -> pd.DataFrame:
    """One row per game live in the asked hours, best first by viewers per place."""

    def build() -> pd.DataFrame:
        language = filters.language or ALL_LANGUAGES
        slots, games, positions, live = data.reader.directory_positions(
            window.start, window.end, language, ask.audience, lambda s: ask.wants(s, filters.tz)
        )
        if not slots or not games:
            return pd.DataFrame(columns=FIELDS)
        seen = live.sum(axis=0) > 0  # live at some asked slot
        positions, live = positions[:, seen], live[:, seen]
        with np.errstate(invalid="ignore", divide="ignore"):
            above = np.where(live > 0, (positions - 1) / live, np.nan)
        table = pd.DataFrame(
            {
                "id": np.array(games, dtype=object)[seen],
                "position": np.median(positions, axis=0),
                "above_share": np.nanmedian(above, axis=0),
                "live": np.median(live, axis=0),
            }
        )
        wanted = pd.DatetimeIndex(slots)
        weights = snapshot_weights(wanted, data.cadence)
        frame = data.group_frame("game", window, language=filters.language)
        frame = frame[frame["slot"].isin(wanted)]
        w = frame["slot"].map(weights).fillna(0.0)
        total = float(weights.sum()) or 1.0
        per_game = (
            frame.assign(vw=frame["viewers"] * w, cw=frame["channels"] * w)
            .groupby("key")[["vw", "cw"]]
            .sum()
        )
        table = table.set_index("id").join(per_game)
        table["viewers"] = table["vw"].fillna(0.0) / total
        avg_channels = table["cw"].fillna(0.0) / total
        table["viewers_per_channel"] = (table["viewers"] / avg_channels).where(
            avg_channels >= MIN_CHANNELS
        )
        table["viewers_per_place"] = table["viewers"] / table["position"]
        rising = {r.game for r in rising_now(data, filters.language)[1]}
        table["rising"] = [g in rising for g in table.index]
        table["game"] = [data.game_name(g) for g in table.index]
        table["genre"] = [data.genre_of_game(g) for g in table.index]
        if filters.genre:
            table = table[table["genre"] == filters.genre]
        table = table.reset_index().sort_values(
            ["viewers_per_place", "id"], ascending=[False, True]
        )
        return table[FIELDS].reset_index(drop=True)

    return data.memo(("what-to-stream", window, filters, ask), build)
