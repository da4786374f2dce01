"""Games: a sortable, searchable table of every game, and one game's detail."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html
from dash.dash_table.Format import Format, Group, Scheme

from dashboard import figures
from dashboard.components import COVERAGE, PageContext, kpi, notice, number, page
from dashboard.data import MarketData, Window
from dashboard.filters import Filters
from dashboard.metrics import (
    channel_concentration,
    group_metrics,
    growth,
    slot_grid,
    snapshot_weights,
)
from dashboard.state import market

dash.register_page(__name__, path="/games", name="Games", title="Genre Radar — Games", order=1)

INTEGER = Format(precision=0, scheme=Scheme.fixed, group=Group.yes)
DECIMAL = Format(precision=1, scheme=Scheme.fixed, group=Group.yes)
PERCENT = Format(precision=1, scheme=Scheme.percentage)
COLUMNS = [
    ("game", "Game", "text", None),
    ("genre", "Genre", "text", None),
    ("hours_watched", "Hours watched", "numeric", INTEGER),
    ("avg_viewers", "Avg viewers", "numeric", INTEGER),
    ("peak_viewers", "Peak viewers", "numeric", INTEGER),
    ("avg_channels", "Avg channels", "numeric", DECIMAL),
    ("viewers_per_channel", "Viewers / channel", "numeric", DECIMAL),
    ("share", "Share", "numeric", PERCENT),
    ("growth", "Growth", "numeric", PERCENT),
]


def layout(**query: Any) -> html.Div:
    return page("Games", query, body)


def game_table(data: MarketData, window: Window, filters: Filters) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        current = group_metrics(
            data.group_frame("game", window, language=filters.language, genre=filters.genre),
            snapshot_weights(data.window_slots(window)),
        )
        before = window.previous()
        previous = group_metrics(
            data.group_frame("game", before, language=filters.language, genre=filters.genre),
            snapshot_weights(data.window_slots(before)),
        )
        table = current.assign(growth=growth(current["avg_viewers"], previous["avg_viewers"]))
        table["game"] = [data.game_name(k) for k in table.index]
        table["genre"] = [data.genre_of_game(k) for k in table.index]
        return table.reset_index().rename(columns={"key": "id"})

    return data.memo(("games-table", window, filters), build)


def body(ctx: PageContext) -> list[Any]:
    table = game_table(ctx.data, ctx.window, ctx.filters)
    if table.empty:
        return [notice(f"No streams match {ctx.filters.describe()}.", "empty")]
    records = table[["id"] + [c for c, *_ in COLUMNS]].to_dict("records")
    return [
        html.P(
            f"{len(table):,} games, {ctx.filters.describe()}, {COVERAGE}. Growth compares average "
            "viewers with the previous window of equal length. Click a row for the game's detail.",
            className="footnote",
        ),
        dash_table.DataTable(
            id="games-table",
            data=records,
            row_selectable=False,
            page_size=20,
            sort_action="native",
            filter_action="native",
            sort_by=[{"column_id": "hours_watched", "direction": "desc"}],
            columns=[
                {"id": c, "name": n, "type": t, **({"format": f} if f else {})}
                for c, n, t, f in COLUMNS
            ],
            style_table={"overflowX": "auto"},
            style_cell={"fontFamily": "system-ui, sans-serif", "padding": "4px 8px"},
            style_header={"fontWeight": "600"},
            filter_options={"case": "insensitive"},
        ),
        dcc.Loading(html.Div(id="game-detail", className="detail")),
    ]


def game_detail(data: MarketData, window: Window, filters: Filters, game_id: str) -> list[Any]:
    slots = data.window_slots(window)
    weights = snapshot_weights(slots)
    frame = data.group_frame("game", window, language=filters.language)
    mine = frame[frame["key"] == game_id].set_index("slot").reindex(slots, fill_value=0)
    grid = slot_grid(window.start, window.end)
    series = mine.reindex(grid.union(slots))
    name = data.game_name(game_id)
    streams = pd.DataFrame(data.reader.game_streams(game_id, window.start, window.end))
    if filters.language and not streams.empty:
        streams = streams.iloc[
            0:0
        ]  # per-channel languages are not in this projection; say so below
    shares = channel_concentration(
        streams.assign(slot=pd.to_datetime(streams["slot"], utc=True))
        if not streams.empty
        else streams,
        weights,
    )
    parts: list[Any] = [
        html.H2(name),
        dcc.Graph(
            figure=figures.line(
                series.index,
                {"Viewers": series["viewers"], "Channels": series["channels"]},
                f"{name}: viewers and channels ({COVERAGE})",
                "Viewers / channels",
            ),
            config={"displaylogo": False},
        ),
    ]
    if shares:
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
                        "Outside the top 5",
                        number(shares["rest_viewers_per_channel"]),
                        "average viewers per channel: what a newcomer can expect",
                    ),
                    kpi("Channels seen", number(shares["channels"]), "in the window"),
                ],
                className="kpis",
            )
        )
    elif filters.language:
        parts.append(notice("Channel concentration is shown for all languages only.", "info"))
    return parts


@callback(
    Output("game-detail", "children"),
    Input("games-table", "active_cell"),
    State("games-table", "derived_viewport_data"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def show_game(
    active: dict[str, Any] | None, rows: list[dict[str, Any]] | None, search: str | None
) -> list[Any]:
    if not active or not rows or active.get("row", -1) >= len(rows):
        return []
    filters = Filters.from_search(search)
    data = market()
    data.refresh()
    window = filters.window_for(data.newest_slot())
    game_id = str(rows[active["row"]]["id"])
    return data.memo(
        ("game-detail", window, filters, game_id),
        lambda: game_detail(data, window, filters, game_id),
    )
