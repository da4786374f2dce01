"""What to stream: every game seen from a new streamer's seat — their language, their
hours, their usual viewers — with each factor shown beside the one score games are
ranked by.

The score is the **small-channel lift**: in a game, the channels with at most twice
the asker's viewers average some number of viewers in the asked hours; the lift is
that average over the same figure for the whole market (blended with the market's
own until enough such channels were seen). A lift of 2 says channels the asker's
size draw twice what they draw elsewhere. `bench/advisor.py` scores this ranking
against the next week's realised viewers of channels near the asked size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from dashboard.directory_days import audience_directory
from dashboard.filters import Filters
from dashboard.metrics import MIN_CHANNELS, snapshot_weights
from dashboard.rising import rising_now
from dashboard.view import MarketView
from dashboard.window import Window
from store import ALL_LANGUAGES, AudienceDirectory
from store.schema import UNKNOWN_GENRE

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {"all": WEEKDAYS, "weekdays": WEEKDAYS[:5], "weekend": WEEKDAYS[5:]}
MAX_AUDIENCE = 100_000
# Channel-slots of the market's small-channel average that a game's own is blended
# with: a game with few channels near the asked size scores near the market (lift 1).
PRIOR_CHANNEL_SLOTS = 200.0
FIELDS = [
    "id", "game", "genre", "lift", "reach", "position", "above_share", "live",
    "viewers", "viewers_per_channel", "trend", "swing", "rising", "liked",
]  # fmt: skip


@dataclass(frozen=True)
class Ask:
    """Who asks: usual viewers, and the hours they can stream (local, [start, end),
    wrapping past midnight; start = end: all day) on which weekdays. `problems` says
    what in the query could not be used (its default was taken instead)."""

    audience: int = 3
    start_hour: int = 0
    end_hour: int = 0
    days: tuple[str, ...] = WEEKDAYS
    liked: tuple[str, ...] = ()  # game ids: the table keeps these and their genres' games
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: Mapping[str, object]) -> Ask:
        problems: list[str] = []

        def number(name: str, default: int, low: int, high: int, what: str) -> int:
            raw = str(query.get(name, default)).strip()
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{what} {raw[:20]!r} is not a whole number; {default} is used.")
                return default
            if not low <= value <= high:
                problems.append(f"{what} must be {low}–{high:,}; {default} is used.")
                return default
            return value

        audience = number("viewers", 3, 1, MAX_AUDIENCE, "Usual viewers")
        start = number("from", 0, 0, 23, "From hour")
        end = number("to", 0, 0, 23, "To hour")
        raw_days = str(query.get("days", "all")).strip().lower()
        days = DAY_SETS.get(raw_days) or tuple(
            d for d in WEEKDAYS if d in {part.strip() for part in raw_days.split(",")}
        )
        if not days:
            problems.append("No day was chosen; every day is used.")
            days = WEEKDAYS
        liked = tuple(sorted({g.strip() for g in str(query.get("like", "")).split(",")} - {""}))
        return cls(audience, start, end, days, liked, tuple(problems))

    @property
    def hours(self) -> str:
        """The asked hours in words."""
        if self.start_hour == self.end_hour:
            return "at any hour"
        return f"{self.start_hour:02d}:00–{self.end_hour:02d}:00"

    @property
    def days_param(self) -> str:
        """The days as the URL says them."""
        named = {v: k for k, v in DAY_SETS.items()}
        return named.get(self.days, ",".join(self.days))

    def wants(self, slot: datetime, timezone: str) -> bool:
        local = pd.Timestamp(slot).tz_convert(timezone)
        if WEEKDAYS[local.day_of_week] not in self.days:
            return False
        if self.start_hour == self.end_hour:
            return True
        if self.start_hour < self.end_hour:
            return self.start_hour <= local.hour < self.end_hour
        return local.hour >= self.start_hour or local.hour < self.end_hour


def asked_directory(
    data: MarketView, window: Window, filters: Filters, ask: Ask
) -> AudienceDirectory:
    """The directory as the asker sees it, at their hours (in their zone) and days."""
    return audience_directory(
        data,
        window,
        filters.language or ALL_LANGUAGES,
        ask.audience,
        (filters.tz, ask.start_hour, ask.end_hour, ask.days),
        lambda slot: ask.wants(slot, filters.tz),
    )


def directory_factors(directory: AudienceDirectory) -> pd.DataFrame:
    """Per game live at some slot of `directory`: median position and share of the
    directory above, median live channels, `reach` (average viewers of the live
    channels with at most twice the audience) and `lift` (reach over the market's,
    blended with the market's over `PRIOR_CHANNEL_SLOTS`). Indexed by game id."""
    seen = directory.live.sum(axis=0) > 0
    live, position = directory.live[:, seen], directory.position[:, seen]
    near = directory.near[:, seen].sum(axis=0)
    near_viewers = directory.near_viewers[:, seen].sum(axis=0)
    market = near_viewers.sum() / near.sum() if near.sum() > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        above = np.where(live > 0, (position - 1) / live, np.nan)
        reach = np.where(near > 0, near_viewers / near, np.nan)
        blended = (near_viewers + PRIOR_CHANNEL_SLOTS * market) / (near + PRIOR_CHANNEL_SLOTS)
    return pd.DataFrame(
        {
            "position": np.median(position, axis=0),
            "above_share": np.nanmedian(above, axis=0),
            "live": np.median(live, axis=0),
            "reach": reach,
            "lift": blended / market if market > 0 else np.nan,
        },
        index=pd.Index(np.array(directory.games, dtype=object)[seen], name="id"),
    )


def demand_factors(frame: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """Per game, from its per-slot viewers and channels (`group_frame` rows of the asked
    slots) and each slot's hours (`weights`): average `viewers` and `channels` over the
    asked hours, `trend` (average viewers in the later half of the slots ÷ the earlier
    half) and `swing` (spread of the game's daily average viewers ÷ their mean)."""
    total = float(weights.sum())
    if frame.empty or total <= 0:
        return pd.DataFrame(columns=["viewers", "channels", "trend", "swing"])
    w = frame["slot"].map(weights).fillna(0.0)
    frame = frame.assign(vw=frame["viewers"] * w, cw=frame["channels"] * w)
    sums = frame.groupby("key")[["vw", "cw"]].sum()
    middle = weights.index[len(weights) // 2]
    halves = [weights.index < middle, weights.index >= middle]
    later = frame["slot"] >= middle
    half_viewers = [
        frame[part].groupby("key")["vw"].sum() / float(weights[mask].sum())
        for part, mask in ((~later, halves[0]), (later, halves[1]))
    ]
    day_of = frame["slot"].dt.floor("D")
    day_hours = weights.groupby(weights.index.floor("D")).sum()
    daily = (frame.groupby(["key", day_of])["vw"].sum().unstack(fill_value=0.0) / day_hours).fillna(
        0.0
    )
    result = pd.DataFrame(
        {
            "viewers": sums["vw"] / total,
            "channels": sums["cw"] / total,
            "trend": half_viewers[1].reindex(sums.index).fillna(0.0)
            / half_viewers[0].reindex(sums.index),
            "swing": daily.std(axis=1, ddof=0) / daily.mean(axis=1)
            if daily.shape[1] > 1
            else np.nan,
        }
    )
    return result.replace([np.inf, -np.inf], np.nan)


FEED_DAYS = 7  # rankings the feed compares, one per day up to the newest snapshot
FEED_TOP = 3  # games whose change makes a feed entry


@dataclass(frozen=True)
class TopChange:
    """The top of the ranking over the window ending at `at`, and the top before it."""

    at: datetime
    games: tuple[str, ...]
    before: tuple[str, ...]


def top_changes(data: MarketView, window: Window, filters: Filters, ask: Ask) -> list[TopChange]:
    """The ranking's top `FEED_TOP` games by lift over windows as long as `window`,
    ending at each of the last `FEED_DAYS` days' ends up to `window.end` (the newest
    first): one change where the top differs from the day before's, and the oldest
    day's top as the first entry. One read of the counts serves every day."""
    ends = [window.end - timedelta(days=k) for k in range(FEED_DAYS)]
    span = Window(ends[-1] - window.length, window.end)

    def build() -> list[TopChange]:
        directory = asked_directory(data, span, filters, ask)
        slots = pd.DatetimeIndex(directory.slots)
        tops: list[tuple[datetime, tuple[str, ...]]] = []
        for end in reversed(ends):
            rows = np.flatnonzero((slots >= end - window.length) & (slots < end))
            if not len(rows):
                continue
            part = AudienceDirectory(
                directory.viewers,
                [directory.slots[r] for r in rows],
                directory.games,
                *(plane[rows] for plane in (directory.position, directory.live,
                                            directory.near, directory.near_viewers)),
            )  # fmt: skip
            table = directory_factors(part).reset_index()
            table["genre"] = [data.genre_of_game(g) for g in table["id"]]
            if filters.genre:
                table = table[table["genre"] == filters.genre]
            table = by_score(kept_liked(data, table, ask))
            tops.append((end, tuple(table["id"].head(FEED_TOP))))
        befores: list[tuple[str, ...]] = [(), *(games for _, games in tops[:-1])]
        changes = [
            TopChange(at, games, before)
            for (at, games), before in zip(tops, befores, strict=True)
            if games and games != before
        ]
        return changes[::-1]

    return data.memo(("top-changes", window, filters, ask), build)


def what_to_stream(data: MarketView, window: Window, filters: Filters, ask: Ask) -> pd.DataFrame:
    """One row per game live in the asked hours, best first by small-channel lift; with
    liked games, only those and the games of their genres."""
    table = ranked_games(data, window, filters, replace(ask, liked=()))
    return kept_liked(data, table, ask)[FIELDS].reset_index(drop=True)


def kept_liked(data: MarketView, table: pd.DataFrame, ask: Ask) -> pd.DataFrame:
    """`table` (columns id, genre) marked `liked`; with liked games, only those and the
    games of their genres."""
    table = table.assign(liked=table["id"].isin(ask.liked))
    if not ask.liked:
        return table
    # A game without a known genre brings only itself, not every unplaced game.
    genres = {data.genre_of_game(g) for g in ask.liked} - {"", UNKNOWN_GENRE}
    return table[table["liked"] | table["genre"].isin(genres)]


def by_score(table: pd.DataFrame) -> pd.DataFrame:
    """Best first: by lift, then the nearer the top of the directory, then by id."""
    return table.sort_values(["lift", "position", "id"], ascending=[False, True, True])


def ranked_games(data: MarketView, window: Window, filters: Filters, ask: Ask) -> pd.DataFrame:
    """Every game live in the asked hours, best first by small-channel lift."""

    def build() -> pd.DataFrame:
        directory = asked_directory(data, window, filters, ask)
        if not directory.slots or not directory.games:
            return pd.DataFrame(columns=[f for f in FIELDS if f != "liked"])
        table = directory_factors(directory)
        wanted = pd.DatetimeIndex(directory.slots)
        frame = data.group_frame("game", window, language=filters.language)
        demand = demand_factors(
            frame[frame["slot"].isin(wanted)], snapshot_weights(wanted, data.cadence)
        )
        table = table.join(demand)
        table["viewers"] = table["viewers"].fillna(0.0)
        table["viewers_per_channel"] = (table["viewers"] / table["channels"]).where(
            table["channels"] >= MIN_CHANNELS
        )
        rising = {r.game for r in rising_now(data, filters.language)[1]}
        table["rising"] = [g in rising for g in table.index]
        table["game"] = [data.game_name(g) for g in table.index]
        table["genre"] = [data.genre_of_game(g) for g in table.index]
        if filters.genre:
            table = table[table["genre"] == filters.genre]
        return by_score(table.reset_index()).reset_index(drop=True)

    return data.memo(("what-to-stream", window, filters, ask), build)
