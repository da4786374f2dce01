"""Games: a sortable, searchable table of every game, and one game's detail."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import figures, tables
from dashboard.components import PageContext, from_url, kpi, notice, number, page, with_param
from dashboard.figures import DECIMAL, GROWTH, INTEGER, PERCENT
from dashboard.filters import MAX_VALUE_LENGTH, Filters
from dashboard.highlights_view import game_highlights
from dashboard.inputs import checked
from dashboard.market_tables import game_table, game_tags, records, top_channels
from dashboard.metrics import (
    MIN_CHANNELS,
    channel_concentration,
    gap_points,
    group_metrics,
    snapshot_weights,
    tail_metrics,
)
from dashboard.position_view import audience_of, position_body, position_section
from dashboard.rising_card import rising_card
from dashboard.tables import MARKET_COLUMNS, PER_CHANNEL_FIELDS, Column
from dashboard.view import MarketView
from dashboard.window import Window

dash.register_page(__name__, path="/games", name="Games", title="Genre Radar — Games", order=1)

COLUMNS: list[Column] = [
    ("game", "Game", None),
    ("genre", "Genre", None),
    *MARKET_COLUMNS,
    ("growth", "Growth", GROWTH),
]
CHANNEL_COLUMNS: list[Column] = [
    ("rank", "#", None),
    ("channel", "Channel", None),
    ("hours_live", "Hours live", DECIMAL),
    ("avg_viewers", "Avg viewers", INTEGER),
    ("peak_viewers", "Peak viewers", INTEGER),
    ("hours_watched", "Hours watched", INTEGER),
    ("share", "Share of the game", PERCENT),
]
TOP_CHANNELS = 50


def layout(**query: Any) -> html.Div:
    game_id = str(query.get("game", ""))[:MAX_VALUE_LENGTH]
    return page(
        "Games",
        query,
        lambda ctx: body(ctx, game_id),
        game_id,
        live=lambda ctx: [] if game_id else game_highlights(ctx.data.reader, ctx.window),
    )


def body(ctx: PageContext, game_id: str = "") -> list[Any]:
    """The table of every game or, with `?game=`, that game's own page (the table is one
    click away, "All games": computing both would double a cold page's time)."""
    if game_id:
        if game_id not in ctx.data.games:
            return [notice(f"No game with id {game_id!r} is stored.", "warning")]
        return [
            html.Div(
                game_detail(ctx.data, ctx.window, ctx.filters, game_id),
                id="game-detail",
                className="detail",
            )
        ]
    table = game_table(ctx.data, ctx.window, ctx.filters)
    if table.empty:
        return [notice(f"No streams match {ctx.describe()}.", "empty")]
    has_growth = bool(table["growth"].notna().any())
    shown = [
        c
        for c in COLUMNS
        if not (ctx.category_level and c[0] in PER_CHANNEL_FIELDS)
        and (has_growth or c[0] != "growth")
    ]
    tail_note = (
        " Median channel: half the game's live channels in this language had at most this "
        "many viewers (over the window's snapshots of the whole market)."
        if ctx.filters.language
        else " Median channel: half the game's live channels had at most this many viewers "
        "(over the whole UTC days of the window)."
    )
    growth_note = (
        "Growth compares average viewers with the previous window of equal length."
        if has_growth
        else "No growth column: nothing is stored from before this window."
    )
    columns = [
        {**tables.column(*c), **({"sort": "desc"} if c[0] == "hours_watched" else {})}
        for c in shown
    ]
    return [
        html.P(
            f"{len(table):,} games, {ctx.describe()}, {ctx.data.coverage(ctx.window)}. "
            f"{growth_note} Viewers per channel is left blank for games averaging fewer than "
            f"{MIN_CHANNELS:.0f} live channels: too few to rank.{tail_note} "
            "Click a row for the game's page (its link can be shared).",
            className="footnote",
        ),
        dcc.Input(
            id="games-search",
            type="search",
            placeholder="Search games or genres…",
            className="search",
            debounce=False,
        ),
        tables.table(
            "games-table",
            records(table, ["id"] + [c for c, *_ in shown]),
            columns,
            file_name="games",
            getRowId="params.data.id",
            style={"height": "640px"},
        ),
        rising_card(ctx),
    ]


def game_detail(data: MarketView, window: Window, filters: Filters, game_id: str) -> list[Any]:
    """One game's time series and channel concentration (cached per data version)."""
    return data.memo(
        ("game-detail", window, filters, game_id),
        lambda: _game_detail(data, window, filters, game_id),
    )


def _game_detail(data: MarketView, window: Window, filters: Filters, game_id: str) -> list[Any]:
    slots = data.window_slots(window)
    categories = data.category_level(slots)  # no channels to count or compare
    weights = snapshot_weights(slots, data.cadence)
    own = data.game_frame(game_id, window, language=filters.language)
    # Slots where the game had no channel are zeros, not gaps (it was listed nowhere).
    mine = own.set_index("slot")[["viewers", "channels"]].reindex(slots, fill_value=0)
    series = mine.reindex(gap_points(slots, window.start, window.end, data.cadence).union(slots))
    name = data.game_name(game_id)
    metrics = group_metrics(own, weights)
    rows = data.channel_rows(window, game_id=game_id, language=filters.language)
    streams = pd.DataFrame(
        {
            "slot": rows["slot"],
            "user_login": rows["login"].astype(str),
            "viewer_count": rows["viewers"],
        }
    )
    shares = channel_concentration(streams, weights)
    coverage = data.coverage(window)
    over_time = (
        figures.line(
            series.index, {"Viewers": series["viewers"]}, f"{name}: viewers", "Viewers", filters.tz
        )
        if categories
        else figures.two_axes(
            series.index,
            ("Viewers", series["viewers"]),
            ("Channels", series["channels"]),
            f"{name}: viewers and live channels ({coverage})",
            filters.tz,
        )
    )
    parts: list[Any] = [
        html.H2(name, id="game-name"),
        html.P(
            [
                f"Genre: {data.genre_of_game(game_id)}. ",
                dcc.Link("All games", href="/games" + filters.to_search(), className="back"),
            ],
            className="footnote",
        ),
    ]
    if not metrics.empty:
        first = metrics.iloc[0]
        parts.append(
            html.Div(
                [
                    kpi("Average viewers", number(first["avg_viewers"]), "time-weighted"),
                    kpi("Hours watched", number(first["hours_watched"]), coverage),
                    kpi("Peak viewers", number(first["peak_viewers"]), ""),
                    *(
                        []
                        if categories
                        else [
                            kpi("Average live channels", f"{first['avg_channels']:,.1f}", ""),
                            kpi(
                                "Viewers per channel",
                                f"{first['viewers_per_channel']:,.1f}",
                                "time-weighted",
                            ),
                        ]
                    ),
                ],
                className="kpis",
            )
        )
    parts.append(dcc.Graph(figure=over_time, config=figures.GRAPH_CONFIG))
    histograms = data.game_tails(window, filters.language)
    tail = tail_metrics(histograms.loc[[game_id]]) if game_id in histograms.index else None
    if tail is not None and not categories:
        parts.append(
            html.Div(
                [
                    kpi(
                        "A newcomer can expect",
                        f"{tail['median_viewers'].iloc[0]:,.0f} viewers",
                        "the median live channel of this game (the long tail, not the top)",
                    ),
                    kpi(
                        "Top 10 % of channels",
                        f"{tail['p90_viewers'].iloc[0]:,.0f}+ viewers",
                        "the 90th-percentile channel's bin",
                    ),
                    kpi(
                        "Under 5 viewers",
                        f"{tail['under_5_share'].iloc[0]:.0%}",
                        "of the game's live channels",
                    ),
                ],
                className="kpis",
            )
        )
    if not categories:
        parts.append(position_section("game", data, window, filters, game_id))
    if shares and not categories:
        parts.append(
            html.Div(
                [
                    kpi(
                        "Biggest channel's share",
                        f"{shares['top_1_share']:.0%}",
                        "of the game's hours watched",
                    ),
                    kpi(
                        "Top 5 channels' share",
                        f"{shares['top_5_share']:.0%}",
                        "of the game's hours watched",
                    ),
                    kpi(
                        "Top channels seen",
                        number(shares["channels"]),
                        "among the stored top streams, in the window",
                    ),
                ],
                className="kpis",
            )
        )
    if not categories:
        channels = top_channels(rows, weights)
        parts += [
            html.H3("Top channels of the game"),
            html.P(
                f"Among the stored top streams, {coverage}; a channel's link opens its page.",
                className="footnote",
            ),
            tables.table(
                "game-channels",
                records(channels.head(TOP_CHANNELS), [c for c, *_ in CHANNEL_COLUMNS]),
                [
                    {
                        **tables.column(*c),
                        **({"cellRenderer": "ChannelLink"} if c[0] == "channel" else {}),
                    }
                    for c in CHANNEL_COLUMNS
                ],
                file_name=f"game-{game_id}-channels",
                page_size=10,
            ),
        ]
    if not categories:
        parts += tag_section(data, window, filters, game_id)
    daily = data.daily("game", game_id)
    if len(daily) > 1:
        hours = daily["hours"].where(daily["hours"] > 0)
        days = pd.DatetimeIndex(daily["day"])
        parts.append(
            dcc.Graph(
                id="game-history",
                figure=figures.two_axes(
                    days,
                    ("Viewers", (daily["hours_watched"] / hours).round(1)),
                    ("Channels", (daily["hours_streamed"] / hours).round(1)),
                    f"{name}: every stored day (daily averages, UTC days)",
                ),
                config=figures.GRAPH_CONFIG,
            )
        )
    return parts


TAG_COLUMNS: list[Column] = [
    ("tag", "Tag", None),
    ("channels", "Live channels", INTEGER),
    ("channel_share", "Share of the game's channels", PERCENT),
    ("viewers", "Viewers", INTEGER),
    ("viewers_per_channel", "Viewers per channel", DECIMAL),
    ("median_viewers", "Median channel", INTEGER),
]


def tag_section(data: MarketView, window: Window, filters: Filters, game_id: str) -> list[Any]:
    """Which tags are crowded and which rare among the game's live streams."""
    slot, tags = game_tags(data, window, game_id)
    if slot is None or tags.empty:
        return [
            html.H3("Tags"),
            notice("No tagged stream of this game at the window's end.", "empty"),
        ]
    when = slot.tz_convert(filters.tz).strftime("%Y-%m-%d %H:%M")
    return [
        html.H3("Tags"),
        html.P(
            f"The tags of every live stream of the game at {when} ({filters.tz}), all "
            "languages: a crowded tag shares its viewers among many channels, a rare one "
            "stands out. Tags differing only in case count as one. Filter the tag column "
            "to find one.",
            className="footnote",
        ),
        tables.table(
            "game-tags",
            records(tags, [c for c, *_ in TAG_COLUMNS]),
            [
                {**tables.column(*c), **({"filter": True} if c[0] == "tag" else {})}
                for c in TAG_COLUMNS
            ],
            file_name=f"game-{game_id}-tags",
            page_size=10,
        ),
    ]


@callback(
    Output("games-table", "dashGridOptions"),
    Input("games-search", "value"),
    State("games-table", "dashGridOptions"),
    prevent_initial_call=True,
)
@checked
def search_games(text: str | None, options: dict[str, Any] | None) -> dict[str, Any]:
    return {**(options or {}), "quickFilterText": text or ""}


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("games-table", "cellClicked"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def open_game(clicked: dict[str, Any] | None, search: str | None) -> str:
    """A clicked row becomes `?game=<id>` in the URL: the game's page, linkable."""
    if not clicked or not clicked.get("rowId"):
        return no_update
    return with_param(search, "game", str(clicked["rowId"]))


@callback(
    Output("game-position", "children"),
    Input("game-audience", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def update_position(audience: str | None, search: str | None) -> Any:
    filters, data, window = from_url(search)
    game_id = dict(parse_qsl((search or "").lstrip("?"))).get("game", "")[:MAX_VALUE_LENGTH]
    return position_body(data, window, filters, game_id, audience_of(audience))
