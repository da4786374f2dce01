"""Games: a sortable, searchable table of every game, and one game's detail."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures
from dashboard.components import PageContext, from_url, kpi, notice, number, page
from dashboard.data import MarketView, Window
from dashboard.figures import DECIMAL, GROWTH, INTEGER, PERCENT
from dashboard.filters import Filters
from dashboard.metrics import (
    MIN_CHANNELS,
    TAIL_COLUMNS,
    channel_concentration,
    gap_points,
    group_metrics,
    growth,
    rankable_viewers_per_channel,
    snapshot_weights,
    tail_metrics,
)

dash.register_page(__name__, path="/games", name="Games", title="Genre Radar — Games", order=1)

COLUMNS = [
    ("game", "Game", None),
    ("genre", "Genre", None),
    ("hours_watched", "Hours watched", INTEGER),
    ("avg_viewers", "Avg viewers", INTEGER),
    ("peak_viewers", "Peak viewers", INTEGER),
    ("avg_channels", "Avg channels", DECIMAL),
    ("viewers_per_channel", "Viewers / channel", DECIMAL),
    ("median_viewers", "Median channel", INTEGER),
    ("under_5_share", "Under 5 viewers", PERCENT),
    ("share", "Share", PERCENT),
    ("growth", "Growth", GROWTH),
]


PER_CHANNEL_COLUMNS = {"avg_channels", "viewers_per_channel", "median_viewers", "under_5_share"}


def column(field: str, header: str, formatter: dict[str, str] | None) -> dict[str, Any]:
    definition: dict[str, Any] = {"field": field, "headerName": header}
    if formatter:
        definition.update(
            valueFormatter=formatter, type="rightAligned", filter="agNumberColumnFilter"
        )
    if field == "hours_watched":
        definition["sort"] = "desc"
    return definition


def layout(**query: Any) -> html.Div:
    return page("Games", query, body)


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
        table = current.assign(growth=growth(current["avg_viewers"], previous["avg_viewers"]))
        table["viewers_per_channel"] = rankable_viewers_per_channel(table)
        # Histograms are kept per game, not per game and language.
        tail = (
            tail_metrics(data.histograms("game", window, genre=filters.genre))
            if not filters.language
            else pd.DataFrame(columns=TAIL_COLUMNS)
        )
        table = table.join(tail.reindex(table.index))
        table["game"] = [data.game_name(k) for k in table.index]
        table["genre"] = [data.genre_of_game(k) for k in table.index]
        return table.reset_index().rename(columns={"key": "id"})

    return data.memo(("games-table", window, filters), build)


def body(ctx: PageContext) -> list[Any]:
    table = game_table(ctx.data, ctx.window, ctx.filters)
    if table.empty:
        return [notice(f"No streams match {ctx.describe()}.", "empty")]
    fields = ["id"] + [c for c, *_ in COLUMNS]
    records = table[fields].astype(object).where(table[fields].notna(), None).to_dict("records")
    tail_note = (
        " Median channel and the share under 5 viewers are not kept per language."
        if ctx.filters.language
        else " Median channel: half the game's live channels had at most this many viewers "
        "(over the whole UTC days of the window)."
    )
    return [
        html.P(
            f"{len(table):,} games, {ctx.describe()}, "
            f"{ctx.data.coverage(ctx.window)}. Growth compares average viewers with the "
            "previous window of equal length. Viewers per channel is left blank for games "
            f"averaging fewer than {MIN_CHANNELS:.0f} live channels: too few to rank."
            f"{tail_note} Click a row for the game's detail.",
            className="footnote",
        ),
        dcc.Input(
            id="games-search",
            type="search",
            placeholder="Search games or genres…",
            className="search",
            debounce=False,
        ),
        dag.AgGrid(
            id="games-table",
            rowData=records,
            getRowId="params.data.id",
            className="ag-theme-alpine",
            columnDefs=[
                column(c, n, f)
                for c, n, f in COLUMNS
                if not (ctx.category_level and c in PER_CHANNEL_COLUMNS)
            ],
            defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 110},
            columnSize="responsiveSizeToFit",
            dashGridOptions={"pagination": True, "paginationPageSize": 20, "animateRows": False},
            style={"height": "640px"},
        ),
        dcc.Loading(html.Div(id="game-detail", className="detail")),
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
    frame = data.group_frame("game", window, language=filters.language)
    mine = frame[frame["key"] == game_id].set_index("slot").reindex(slots, fill_value=0)
    series = mine.reindex(gap_points(slots, window.start, window.end, data.cadence).union(slots))
    name = data.game_name(game_id)
    rows = data.channel_rows(window, game_id=game_id, language=filters.language)
    streams = pd.DataFrame(
        {
            "slot": rows["slot"],
            "user_login": rows["login"].astype(str),
            "viewer_count": rows["viewers"],
        }
    )
    shares = channel_concentration(streams, weights)
    parts: list[Any] = [
        html.H2(name),
        dcc.Graph(
            figure=figures.line(
                series.index,
                {"Viewers": series["viewers"]}
                if categories
                else {"Viewers": series["viewers"], "Channels": series["channels"]},
                f"{name}: viewers and channels ({data.coverage(window)})",
                "Viewers / channels",
                filters.tz,
            ),
            config={"displaylogo": False},
        ),
    ]
    tail = (
        tail_metrics(data.histograms("game", window).loc[[game_id]])
        if not filters.language and game_id in data.histograms("game", window).index
        else None
    )
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
    return parts


@callback(
    Output("games-table", "dashGridOptions"),
    Input("games-search", "value"),
    State("games-table", "dashGridOptions"),
    prevent_initial_call=True,
)
def search_games(text: str | None, options: dict[str, Any] | None) -> dict[str, Any]:
    return {**(options or {}), "quickFilterText": text or ""}


@callback(
    Output("game-detail", "children"),
    Input("games-table", "cellClicked"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def show_game(clicked: dict[str, Any] | None, search: str | None) -> list[Any]:
    if not clicked or not clicked.get("rowId"):
        return []
    filters, data, window = from_url(search)
    game_id = str(clicked["rowId"])
    return game_detail(data, window, filters, game_id)
