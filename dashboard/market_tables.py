"""The tables of the market that pages show and the JSON API serves: one computation
each, so a page and its API answer cannot disagree. Rows are plain records (NaN as None).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from dashboard.filters import Filters
from dashboard.metrics import (
    TAIL_COLUMNS,
    group_metrics,
    growth,
    rankable_viewers_per_channel,
    snapshot_weights,
    tail_metrics,
)
from dashboard.names import language_name
from dashboard.view import MarketView
from dashboard.window import Window
from store import KEY_SEPARATOR, histogram

LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")  # a Twitch login
LANGUAGE_FIELDS = [
    "language",
    "code",
    "hours_watched",
    "avg_viewers",
    "peak_viewers",
    "avg_channels",
    "viewers_per_channel",
    "median_viewers",
    "under_5_share",
    "share",
]
CHANNEL_FIELDS = [
    "rank",
    "login",
    "name",
    "main_game",
    "language",
    "hours_live",
    "avg_viewers",
    "peak_viewers",
    "hours_watched",
]
GAME_CHANNEL_FIELDS = [
    "rank",
    "channel",
    "hours_live",
    "avg_viewers",
    "peak_viewers",
    "hours_watched",
    "share",
]
SESSION_FIELDS = ["start", "hours", "avg_viewers", "peak_viewers", "games"]


def game_table(data: MarketView, window: Window, filters: Filters) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        current = group_metrics(
            data.group_frame("game", window, language=filters.language, genre=filters.genre),
            snapshot_weights(data.window_slots(window), data.cadence),
        )
        before = window.previous()
        previous = group_metrics(
            data.group_frame("game", before, language=filters.language, genre=filters.genre),
            snapshot_weights(data.window_slots(before), data.cadence),
        )
        # Without any snapshot in the previous window there is nothing to grow from: the
        # column is empty (and hidden), not "new" on every row.
        table = current.assign(
            growth=growth(current["avg_viewers"], previous["avg_viewers"])
            if len(data.window_slots(before))
            else np.nan
        )
        table["viewers_per_channel"] = rankable_viewers_per_channel(table)
        tail = tail_metrics(data.game_tails(window, filters.language, genre=filters.genre))
        table = table.join(tail.reindex(table.index))
        table["game"] = [data.game_name(k) for k in table.index]
        table["genre"] = [data.genre_of_game(k) for k in table.index]
        return table.reset_index().rename(columns={"key": "id"})

    return data.memo(("games-table", window, filters), build)


def records(frame: pd.DataFrame, fields: list[str]) -> list[dict[str, Any]]:
    """Rows for a grid: NaN as null (an empty cell)."""
    return frame[fields].astype(object).where(frame[fields].notna(), None).to_dict("records")


def top_channels(rows: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """The game's stored top channels in the window, by hours watched (time-weighted)."""
    if rows.empty:
        return pd.DataFrame(columns=GAME_CHANNEL_FIELDS)
    w = rows["slot"].map(weights).fillna(0.0).to_numpy()
    per = (
        rows.assign(vh=rows["viewers"].to_numpy() * w, w=w)
        .groupby("login", sort=False)
        .agg(
            name=("name", "last"),
            hours_live=("w", "sum"),
            hours_watched=("vh", "sum"),
            peak_viewers=("viewers", "max"),
        )
    )
    # Equal hours watched (whole viewers × half hours tie often) rank by login, so the
    # order never depends on the order rows arrived in.
    per = per.reset_index().sort_values(["hours_watched", "login"], ascending=[False, True])
    per = per.set_index("login")
    per["avg_viewers"] = per["hours_watched"] / per["hours_live"].where(per["hours_live"] > 0)
    total = float(per["hours_watched"].sum())
    per["share"] = per["hours_watched"] / total if total else 0.0
    per["rank"] = np.arange(1, len(per) + 1)
    per = per.reset_index()
    per["channel"] = per["login"]
    return per


def language_table(metrics: pd.DataFrame, tail: pd.DataFrame | None) -> pd.DataFrame:
    """One row per language: the metrics, by name and code, NaN as null."""
    table = metrics.assign(viewers_per_channel=rankable_viewers_per_channel(metrics))
    table = table.join(
        (tail if tail is not None else pd.DataFrame(columns=TAIL_COLUMNS)).reindex(table.index)
    )
    table = table.drop(columns=["peak_at"]).reset_index().rename(columns={"key": "code"})
    table["language"] = table["code"].map(language_name)
    fields = LANGUAGE_FIELDS
    return table[fields].astype(object).where(table[fields].notna(), None)


def channel_summary(data: MarketView, window: Window) -> pd.DataFrame:
    """The leaderboard: per channel of the window its name, hours live, hours watched,
    average and peak viewers, main game (most hours live) and language; biggest (hours
    watched) first."""

    def build() -> pd.DataFrame:
        per = data.channel_totals(window)
        if per.empty:
            return pd.DataFrame(columns=CHANNEL_FIELDS)
        per = per.assign(
            main_game=per["main_game"].map(data.game_name),
            avg_viewers=per["hours_watched"] / per["hours_live"].where(per["hours_live"] > 0),
            language=per["language"].map(language_name),
        )
        per = per.sort_values(["hours_watched", "login"], ascending=[False, True])
        per = per.reset_index(drop=True)
        per["rank"] = np.arange(1, len(per) + 1)
        return per

    return data.memo(("channel-summary", window), build)


def channel_observations(data: MarketView, window: Window, login: str) -> pd.DataFrame:
    """One channel's observations of the window (`slot`, `viewer_count`, `rank`,
    `user_name`, `game_name`) with each snapshot's time weight `w`."""
    found = data.channel_rows(window, login=login)
    weights = snapshot_weights(data.window_slots(window), data.cadence)
    return pd.DataFrame(
        {
            "slot": found["slot"],
            "viewer_count": found["viewers"],
            "rank": found["rank"],
            "user_name": found["name"].astype(str),
            "game_name": [data.game_name(g) for g in found["game_id"].astype(str)],
            "w": found["slot"].map(weights).fillna(0.0).to_numpy(),
        }
    )


def sessions(rows: pd.DataFrame, data: MarketView, timezone: str) -> pd.DataFrame:
    """The channel's streams: runs of snapshots it was seen in, split where it was unseen
    for longer than the cadence bridges. Length counts each snapshot's weight."""
    if rows.empty:
        return pd.DataFrame(columns=SESSION_FIELDS)
    rows = rows.sort_values("slot")
    gaps = rows["slot"].diff() > pd.Timedelta(data.cadence.max_gap)
    rows = rows.assign(session=gaps.cumsum(), vh=rows["viewer_count"] * rows["w"])
    grouped = rows.groupby("session", sort=True)
    out = grouped.agg(
        start=("slot", "min"),
        hours=("w", "sum"),
        watched=("vh", "sum"),
        peak_viewers=("viewer_count", "max"),
        games=("game_name", lambda g: ", ".join(dict.fromkeys(g))),
    )
    out["avg_viewers"] = out["watched"] / out["hours"].where(out["hours"] > 0)
    out["start"] = pd.DatetimeIndex(out["start"]).tz_convert(timezone).strftime("%Y-%m-%d %H:%M")
    return out.iloc[::-1].reset_index(drop=True)


TAG_FIELDS = [
    "tag",
    "channels",
    "channel_share",
    "viewers",
    "viewers_per_channel",
    "median_viewers",
]


def game_tags(
    data: MarketView, window: Window, game_id: str
) -> tuple[pd.Timestamp | None, pd.DataFrame]:
    """The tags of a game's live streams at the window's newest snapshot: channels
    using each (a stream counts once per tag, whatever its case), their share of the
    game's channels, viewers, viewers per channel and the median channel's viewers
    (histogram bin); most channels first."""
    slots = data.window_slots(window)
    if not len(slots):
        return None, pd.DataFrame(columns=TAG_FIELDS)
    slot = slots[-1]

    def build() -> pd.DataFrame:
        found = data.reader.tag_rollup(slot.to_pydatetime(), "game_tag")
        prefix = f"{game_id}{KEY_SEPARATOR}"
        groups = [g for g in (found["groups"] if found else []) if g["key"].startswith(prefix)]
        at = slot.to_pydatetime()
        game = data.game_frame(game_id, Window(at, at + timedelta(seconds=1)))
        live = int(game["channels"].sum()) if len(game) else 0
        table = pd.DataFrame(
            {
                "tag": [str(g.get("name") or g["key"][len(prefix) :]) for g in groups],
                "channels": [int(g["channels"]) for g in groups],
                "viewers": [int(g["viewers"]) for g in groups],
                "median_viewers": [histogram.quantile(g.get("histogram", []), 0.5) for g in groups],
            },
            columns=["tag", "channels", "viewers", "median_viewers"],
        )
        table["channel_share"] = table["channels"] / live if live else np.nan
        table["viewers_per_channel"] = table["viewers"] / table["channels"]
        return table.sort_values(["channels", "tag"], ascending=[False, True], ignore_index=True)[
            TAG_FIELDS
        ]

    return slot, data.memo(("game-tags", slot, game_id), build)
