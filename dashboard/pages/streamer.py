"""Streamer: find a channel (search by login or name), its viewers, rank, games, stream
sessions and highlight moments; without a channel, the leaderboard of the window's top
channels."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import figures, tables
from dashboard.channel_page import channel_page, stream_tables
from dashboard.components import PageContext, from_url, kpi, notice, number, page, with_param
from dashboard.figures import DECIMAL, INTEGER
from dashboard.highlights_view import channel_highlights
from dashboard.inputs import checked
from dashboard.market_tables import LOGIN, channel_observations, channel_summary, sessions
from dashboard.metrics import gap_points
from dashboard.tables import Column
from dashboard.view import MarketView
from dashboard.window import Window

dash.register_page(
    __name__, path="/streamer", name="Streamer", title="Genre Radar — Streamer", order=4
)

SUGGESTIONS = 20
LEADERBOARD = 100
LEADERBOARD_COLUMNS: list[Column] = [
    ("rank", "#", None),
    ("login", "Channel", None),
    ("name", "Name", None),
    ("main_game", "Main game", None),
    ("language", "Language", None),
    ("hours_live", "Hours live", DECIMAL),
    ("avg_viewers", "Avg viewers", INTEGER),
    ("peak_viewers", "Peak viewers", INTEGER),
    ("hours_watched", "Hours watched", INTEGER),
    ("followers_gained", "Followers gained", INTEGER),
]
GAME_COLUMNS: list[Column] = [
    ("game_name", "Game", None),
    ("hours_live", "Hours live", DECIMAL),
    ("hours_watched", "Hours watched", INTEGER),
    ("avg_viewers", "Avg viewers", INTEGER),
]


def layout(**query: Any) -> html.Div:
    channel = str(query.get("channel", ""))[:40].strip().lower()
    return page(
        "Streamer",
        query,
        lambda ctx: body(ctx, channel),
        channel,
        live=lambda ctx: highlights(ctx, channel),
    )


def highlights(ctx: PageContext, channel: str) -> list[Any]:
    """The channel's highlight moments (stored as clips are analysed, so never cached)."""
    if not channel or ctx.category_level or not LOGIN.match(channel):
        return []
    window = ctx.window
    if ctx.filters.window != "custom":
        # The market window ends just after the newest snapshot; clips analysed since
        # (the next listing takes a minute or two to land) belong to it all the same.
        window = replace(window, end=max(window.end, datetime.now(UTC)))
    return channel_highlights(ctx.data.reader, window, channel, ctx.filters.tz)


def body(ctx: PageContext, channel: str) -> list[Any]:
    if ctx.category_level:  # its "channels" are categories
        return [notice("No channel lookup: this window holds category totals, not channels.")]
    search = html.Div(
        dcc.Dropdown(
            id="streamer-channel",
            value=channel or None,
            options=[{"label": channel, "value": channel}] if channel else [],
            placeholder="Find a channel: type part of its login or name…",
            searchable=True,
            clearable=True,
        ),
        className="lookup",
    )
    if not channel:
        return [search, html.Div(leaderboard(ctx), id="streamer-result")]
    result = lookup(ctx.data, ctx.window, channel, ctx.filters.tz)
    return [search, html.Div(result, id="streamer-result")]


def suggestions(data: MarketView, window: Window, text: str) -> list[dict[str, str]]:
    """Channels whose login or name contains `text`: every channel ever listed (exact
    matches first), then the window's stored top channels, biggest first."""
    wanted = text.strip().lower()
    if not wanted:
        return []
    found = [
        {
            "label": f"{e.name} ({e.login})" if e.name.lower() != e.login else e.login,
            "value": e.login,
        }
        for e in data.reader.search_channels(wanted, SUGGESTIONS)
    ]
    summary = channel_summary(data, window)
    if summary.empty:
        return _unique(found)
    hits = summary[
        summary["login"].str.contains(wanted, regex=False)
        | summary["name"].astype(str).str.lower().str.contains(wanted, regex=False)
    ].head(SUGGESTIONS)
    return _unique(
        found
        + [
            {"label": f"{name} ({login})" if name.lower() != login else login, "value": login}
            for login, name in zip(hits["login"], hits["name"].astype(str), strict=True)
        ]
    )[:SUGGESTIONS]


def _unique(options: list[dict[str, str]]) -> list[dict[str, str]]:
    """One option per login (the first)."""
    return list({o["value"]: o for o in reversed(options)}.values())[::-1]


def leaderboard(ctx: PageContext) -> list[Any]:
    summary = channel_summary(ctx.data, ctx.window)
    if summary.empty:
        return [notice(f"No stored top channels in {ctx.describe()}.", "empty")]
    head = summary.head(LEADERBOARD)
    gained = ctx.data.memo(
        ("followers-gained", ctx.window),
        lambda: ctx.data.reader.followers_gained(ctx.window.start, ctx.window.end),
    )
    head = head.assign(followers_gained=head["login"].map(gained["gained"]).to_numpy())
    return [
        html.H2("Top channels"),
        html.P(
            f"The {len(head)} most watched channels (hours watched), {ctx.describe()}, among "
            "the stored top streams. Followers gained: the day-to-day change of its daily "
            "follower count in the window (blank where its followers are not read). Click a "
            "channel for its page.",
            className="footnote",
        ),
        tables.table(
            "streamer-leaderboard",
            head[[c for c, *_ in LEADERBOARD_COLUMNS]].round(2).to_dict("records"),
            [
                {
                    **tables.column(*c),
                    **({"cellRenderer": "ChannelLink"} if c[0] == "login" else {}),
                }
                for c in LEADERBOARD_COLUMNS
            ],
            file_name="top-channels",
        ),
    ]


def lookup(data: MarketView, window: Window, login: str, timezone: str = "UTC") -> list[Any]:
    """The channel's page (cached per data version)."""
    key = ("streamer", window, login.strip().lower(), timezone)
    return data.memo(key, lambda: _lookup(data, window, login, timezone))


def _lookup(data: MarketView, window: Window, login: str, timezone: str = "UTC") -> list[Any]:
    login = login.strip().lower()
    if not LOGIN.match(login):
        return [notice("A Twitch login is 1–25 letters, digits or underscores.", "warning")]
    entry = data.reader.find_channel(login)
    if entry is not None:  # listed among every live channel: its whole page
        return channel_page(data, window, entry, "this window", timezone)
    rows = channel_observations(data, window, login)  # stored before every channel was
    if rows.empty:
        listed = data.reader.channel_slot_days()
        since = f" (every live channel is listed since {listed[0]:%Y-%m-%d})" if listed else ""
        return [notice(f"{login} has never been seen live by Genre Radar{since}.", "empty")]
    slots = data.window_slots(window)
    per_slot = rows.groupby("slot")[["viewer_count", "rank"]].max()
    series = per_slot.reindex(slots).reindex(
        gap_points(slots, window.start, window.end, data.cadence).union(slots)
    )
    live_hours = float(rows.drop_duplicates("slot")["w"].sum())
    watched = float((rows["viewer_count"] * rows["w"]).sum())
    games = (
        rows.assign(vh=rows["viewer_count"] * rows["w"])
        .groupby("game_name")
        .agg(hours_live=("w", "sum"), hours_watched=("vh", "sum"))
        .sort_values("hours_live", ascending=False)
    )
    games["avg_viewers"] = games["hours_watched"] / games["hours_live"].where(
        games["hours_live"] > 0
    )
    streams = sessions(rows, data, timezone)
    name = rows["user_name"].iloc[-1]
    rank_chart = figures.line(
        series.index,
        {"Rank": series["rank"]},
        f"{name}: rank among live streams",
        "Rank (1 = top)",
        timezone,
    ).update_yaxes(autorange="reversed")
    return [
        html.H2(name, id="streamer-name"),
        html.Div(
            [
                kpi("Hours live", f"{live_hours:,.1f}", "while among the stored top streams"),
                kpi(
                    "Average viewers",
                    number(watched / live_hours if live_hours else 0),
                    "time-weighted, while live",
                ),
                kpi("Peak viewers", number(rows["viewer_count"].max()), ""),
                kpi("Best rank", number(rows["rank"].min()), "1 = most watched stream"),
                kpi("Streams", number(len(streams)), "sessions seen in the window"),
            ],
            className="kpis",
        ),
        dcc.Graph(
            figure=figures.line(
                series.index,
                {"Viewers": series["viewer_count"]},
                f"{name}: viewers while live",
                "Concurrent viewers",
                timezone,
            ),
            config=figures.GRAPH_CONFIG,
        ),
        dcc.Graph(
            id="streamer-rank",
            figure=figures.whole_number_axis(rank_chart, rows["rank"].tolist()),
            config=figures.GRAPH_CONFIG,
        ),
        *stream_tables(
            streams,
            games.reset_index(),
            GAME_COLUMNS,
            login,
            f"Start ({timezone}), length and viewers of each stream, as far as the stored "
            "top streams saw it (a stream that fell out of the top is cut there).",
        ),
    ]


@callback(
    Output("streamer-channel", "options"),
    Input("streamer-channel", "search_value"),
    State("streamer-channel", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def suggest(text: str | None, chosen: str | None, search: str | None) -> list[dict[str, str]]:
    if not text:
        return no_update
    _, data, window = from_url(search)
    found = suggestions(data, window, text)
    if chosen and chosen not in {o["value"] for o in found}:
        found.append({"label": chosen, "value": chosen})
    return found


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("streamer-channel", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def open_channel(login: str | None, search: str | None) -> str:
    """The chosen channel goes into the URL (`?channel=`): its page, linkable."""
    wanted = with_param(search, "channel", login or "")
    return no_update if wanted == (search or "") else wanted
