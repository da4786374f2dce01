"""Any channel's page, from every listed channel (not only the stored top streams): its
viewers and directory ranks per slot, streams, games and tags, and per-day figures for
windows longer than the slot rows are kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pandas as pd
from dash import dcc, html

from dashboard import figures, tables
from dashboard.components import kpi, notice, number
from dashboard.figures import DECIMAL, INTEGER
from dashboard.market_tables import sessions
from dashboard.metrics import gap_points, snapshot_weights
from dashboard.tables import Column
from dashboard.view import MarketView
from dashboard.window import Window
from store import DirectoryEntry

SESSION_COLUMNS: list[Column] = [
    ("start", "Start", None),
    ("hours", "Length (h)", DECIMAL),
    ("avg_viewers", "Avg viewers", INTEGER),
    ("peak_viewers", "Peak viewers", INTEGER),
    ("games", "Games", None),
]
GAME_COLUMNS: list[Column] = [
    ("game_name", "Game", None),
    ("hours_live", "Hours live", DECIMAL),
    ("avg_viewers", "Avg viewers", INTEGER),
    ("best_rank", "Best directory rank", INTEGER),
]
TAG_COLUMNS: list[Column] = [("tag", "Tag", None), ("hours_live", "Hours live", DECIMAL)]
DAY_COLUMNS: list[Column] = [
    ("day", "Day (UTC)", None),
    ("hours_live", "Hours live", DECIMAL),
    ("avg_viewers", "Avg viewers", INTEGER),
    ("peak_viewers", "Peak viewers", INTEGER),
    ("game_name", "Main game", None),
    ("best_game_rank", "Best directory rank", INTEGER),
    ("followers_gained", "Followers gained", INTEGER),
]


def channel_page(
    data: MarketView, window: Window, entry: DirectoryEntry, describe: str, timezone: str
) -> list[Any]:
    kept = data.reader.channel_slot_days()
    slot_start = max(window.start, kept[0]) if kept else window.end
    rows = (
        data.reader.channel_slots(entry.user_id, slot_start, window.end)
        if slot_start < window.end
        else pd.DataFrame()
    )
    whole_window = bool(kept) and window.start >= kept[0]
    days = (
        pd.DataFrame()
        if whole_window and window.length.days < 2
        else data.reader.channel_days(entry.user_id, window.start, window.end, data.cadence)
    )
    name = entry.name
    if rows.empty and days.empty:
        last = data.reader.channel_last_seen(entry.user_id, window.end)
        since = f"last seen live on {last:%Y-%m-%d} (UTC)" if last else "never seen live since"
        return [
            html.H2(name, id="streamer-name"),
            notice(
                f"{name} ({entry.login}) was not live in {describe}: {since}"
                + ("" if last else f" first listed on {entry.first_seen:%Y-%m-%d}")
                + ".",
                "empty",
            ),
        ]
    rows = _weighted(data, window, rows)
    followers = data.reader.followers([entry.user_id], window.start, window.end)[entry.user_id]
    blocks: list[Any] = [
        html.H2(name, id="streamer-name"),
        html.Div(_kpis(rows, days, whole_window) + _follower_kpis(followers), className="kpis"),
        html.P(
            f"From every live channel Genre Radar lists each slot; first listed on "
            f"{entry.first_seen:%Y-%m-%d}. Directory rank: the channel's place in its game's "
            "directory sorted by viewers (1 = most watched).",
            className="footnote",
        ),
    ]
    blocks.append(_like_link(rows, days, entry))
    if not rows.empty:
        blocks += _slot_blocks(data, window, rows, name, slot_start, timezone)
    if len(days) > 1:
        blocks += _day_blocks(data, days, followers, name, entry.login)
    if not rows.empty:
        blocks += _tables(data, rows, entry.login, timezone)
    return blocks


def _weighted(data: MarketView, window: Window, rows: pd.DataFrame) -> pd.DataFrame:
    """The slot rows with each slot's time weight `w` and the columns `sessions` takes."""
    if rows.empty:
        return rows
    weights = snapshot_weights(data.window_slots(window), data.cadence)
    return rows.assign(
        w=rows["slot"].map(weights).fillna(0.0).to_numpy(),
        viewer_count=rows["viewers"],
        game_name=[data.game_name(g) for g in rows["game_id"].astype(str)],
    )


def _kpis(rows: pd.DataFrame, days: pd.DataFrame, whole_window: bool) -> list[Any]:
    if whole_window and not rows.empty:
        hours = float(rows["w"].sum())
        watched = float((rows["viewer_count"] * rows["w"]).sum())
        peak, best = int(rows["viewers"].max()), int(rows["game_rank"].min())
        note = "while live, time-weighted"
    else:
        hours = float(days["hours_live"].sum())
        watched = float((days["avg_viewers"] * days["hours_live"]).sum())
        peak, best = int(days["peak_viewers"].max()), int(days["best_game_rank"].min())
        note = "while live, time-weighted (by UTC day)"
    return [
        kpi("Hours live", f"{hours:,.1f}", "in the window"),
        kpi("Average viewers", f"{watched / hours:,.1f}" if hours else "—", note),
        kpi("Peak viewers", number(peak), ""),
        kpi("Best directory rank", number(best), "in its game; 1 = top"),
    ]


def _like_link(rows: pd.DataFrame, days: pd.DataFrame, entry: DirectoryEntry) -> html.P:
    """A link to the channels like this one: its main game and language in the window
    (most hours live) and its average viewers."""
    if not rows.empty:
        hours, watched = rows["w"], rows["viewer_count"] * rows["w"]
        games, languages = rows.groupby("game_id")["w"].sum(), rows.groupby("language")["w"].sum()
    else:
        hours, watched = days["hours_live"], days["avg_viewers"] * days["hours_live"]
        games = days.groupby("game_id")["hours_live"].sum()
        languages = days.groupby("language")["hours_live"].sum()
    average = float(watched.sum()) / float(hours.sum()) if float(hours.sum()) else 0.0
    query = urlencode(
        {
            "game": games.idxmax(),
            "language": languages.idxmax(),
            "viewers": f"{average:.0f}",
            "exclude": entry.user_id,
        }
    )
    return html.P(dcc.Link(f"Channels like {entry.name} →", href=f"/like?{query}", id="like-link"))


def _follower_kpis(followers: pd.DataFrame) -> list[Any]:
    """Followers, where the channel's are read (the top channels and those asked for)."""
    if followers.empty:
        return []
    gained = followers["gained"].sum(min_count=1)
    return [
        kpi("Followers", number(followers["followers"].iloc[-1]), "newest daily reading"),
        kpi(
            "Followers gained",
            "—" if pd.isna(gained) else f"{gained:+,.0f}",
            "in the window, day to day",
        ),
    ]


def _slot_blocks(
    data: MarketView,
    window: Window,
    rows: pd.DataFrame,
    name: str,
    start: Any,
    timezone: str,
) -> list[Any]:
    slots = data.window_slots(window)
    slots = slots[slots >= pd.Timestamp(start)]
    per_slot = rows.groupby("slot")[["viewers", "game_rank", "language_rank"]].min()
    series = per_slot.reindex(slots).reindex(
        gap_points(slots, start, window.end, data.cadence).union(slots)
    )
    ranks = figures.line(
        series.index,
        {"In its game": series["game_rank"], "Among its language": series["language_rank"]},
        f"{name}: directory rank",
        "Rank (1 = top)",
        timezone,
    ).update_yaxes(autorange="reversed")
    return [
        dcc.Graph(
            id="streamer-viewers",
            figure=figures.line(
                series.index,
                {"Viewers": series["viewers"]},
                f"{name}: viewers while live",
                "Concurrent viewers",
                timezone,
            ),
            config=figures.GRAPH_CONFIG,
        ),
        dcc.Graph(
            id="streamer-rank",
            figure=figures.whole_number_axis(
                ranks, [*rows["game_rank"].tolist(), *rows["language_rank"].tolist()]
            ),
            config=figures.GRAPH_CONFIG,
        ),
    ]


def _day_blocks(
    data: MarketView, days: pd.DataFrame, followers: pd.DataFrame, name: str, login: str
) -> list[Any]:
    gained = followers.set_index("day")["gained"] if len(followers) else pd.Series(dtype=float)
    shown = days.assign(
        day=days["day"].dt.strftime("%Y-%m-%d"),
        game_name=[data.game_name(g) for g in days["game_id"].astype(str)],
        followers_gained=days["day"].map(gained).to_numpy(),
    )
    return [
        dcc.Graph(
            id="channel-days",
            figure=figures.two_axes(
                pd.DatetimeIndex(days["day"]),
                ("Avg viewers", days["avg_viewers"].tolist()),
                ("Hours live", days["hours_live"].tolist()),
                f"{name}: each day live",
            ),
            config=figures.GRAPH_CONFIG,
        ),
        html.H3("Days live"),
        tables.table(
            "channel-days-table",
            shown[[c for c, *_ in DAY_COLUMNS]].iloc[::-1].round(2).to_dict("records"),
            DAY_COLUMNS,
            file_name=f"{login}-days",
            page_size=10,
        ),
    ]


def _tables(data: MarketView, rows: pd.DataFrame, login: str, timezone: str) -> list[Any]:
    streams = sessions(rows, data, timezone)
    watched = rows.assign(vh=rows["viewer_count"] * rows["w"])
    games = watched.groupby("game_name").agg(
        hours_live=("w", "sum"), vh=("vh", "sum"), best_rank=("game_rank", "min")
    )
    games["avg_viewers"] = games["vh"] / games["hours_live"].where(games["hours_live"] > 0)
    games = games.sort_values("hours_live", ascending=False).reset_index()
    tags = (
        rows[["tags", "w"]]
        .explode("tags")
        .dropna()
        .groupby("tags")["w"]
        .sum()
        .sort_values(ascending=False)
    )
    return [
        *stream_tables(
            streams,
            games,
            GAME_COLUMNS,
            login,
            f"Start ({timezone}), length and viewers of each stream seen in the window.",
        ),
        html.H3("Tags"),
        tables.table(
            "channel-tags",
            [{"tag": t, "hours_live": round(h, 1)} for t, h in tags.items()],
            TAG_COLUMNS,
            file_name=f"{login}-tags",
            page_size=10,
        )
        if len(tags)
        else notice("No tags on this channel's streams in the window.", "empty"),
    ]


def stream_tables(
    streams: pd.DataFrame, games: pd.DataFrame, game_columns: list[Column], login: str, note: str
) -> list[Any]:
    """A channel's streams (`SESSION_COLUMNS`) and games (`game_columns`) as tables."""
    return [
        html.H3("Streams"),
        html.P(note, className="footnote"),
        tables.table(
            "streamer-sessions",
            streams[[c for c, *_ in SESSION_COLUMNS]].round(2).to_dict("records"),
            SESSION_COLUMNS,
            file_name=f"{login}-streams",
            page_size=10,
        ),
        html.H3("Games played"),
        tables.table(
            "streamer-games",
            games[[c for c, *_ in game_columns]].round(1).to_dict("records"),
            game_columns,
            file_name=f"{login}-games",
            page_size=10,
        ),
    ]
