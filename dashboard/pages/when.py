"""When to stream: viewers per channel by weekday and hour, in the chosen time zone."""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures
from dashboard.components import PageContext, from_url, notice, page
from dashboard.filters import Filters, subject_label
from dashboard.inputs import checked
from dashboard.metrics import snapshot_weights, weekday_hour
from dashboard.names import language_name
from dashboard.position_view import audience_of, position_body, position_section
from dashboard.view import MarketView
from dashboard.window import Window

dash.register_page(
    __name__, path="/when", name="When to stream", title="Genre Radar — When to stream", order=3
)

ALL = "all:"


def layout(**query: Any) -> html.Div:
    return page("When to stream", query, body)


def subjects(data: MarketView) -> list[dict[str, str]]:
    options = [{"label": "The whole market", "value": ALL}]
    options += [{"label": f"Genre: {g}", "value": f"genre:{g}"} for g in data.genres()]
    options += [
        {"label": f"Language: {language_name(lang)}", "value": f"language:{lang}"}
        for lang in data.languages()
    ]
    games = data.top_games(200)
    options += [{"label": f"Game: {data.game_name(g)}", "value": f"game:{g}"} for g in games]
    return options


def heatmap_figure(data: MarketView, window: Window, filters: Filters, subject: str) -> go.Figure:
    def build() -> go.Figure:
        slots = data.window_slots(window)
        frame = data.subject_frame(window, subject, language=filters.language, genre=filters.genre)
        matrix = weekday_hour(frame, snapshot_weights(slots, data.cadence), filters.tz)
        title = f"Viewers per channel, {subject_label(filters, subject, data.game_name)}"
        return figures.heatmap(matrix, f"{title} ({data.coverage(window)})", filters.tz)

    return data.memo(("heatmap", window, filters, subject), build)


def body(ctx: PageContext) -> list[Any]:
    if ctx.category_level:  # viewers per channel, which category totals cannot give
        return [notice("No heat map: this window holds category totals, not channels.", "empty")]
    subject = f"genre:{ctx.filters.genre}" if ctx.filters.genre else ALL
    return [
        html.Label(
            [
                "Show",
                dcc.Dropdown(
                    id="when-subject", value=subject, clearable=False, options=subjects(ctx.data)
                ),
            ],
            className="subject",
        ),
        html.Div(
            dcc.Graph(
                id="when-heatmap",
                figure=heatmap_figure(ctx.data, ctx.window, ctx.filters, subject),
                config=figures.GRAPH_CONFIG,
            ),
            className="card",
        ),
        html.P(
            "Brighter cells are hours when the average channel draws more viewers: less crowded. "
            "Empty cells had no snapshot in the window. Each cell is a time-weighted mean.",
            className="footnote",
        ),
        position_section("when", ctx.data, ctx.window, ctx.filters, game_of(subject)),
    ]


def game_of(subject: str) -> str:
    return subject.removeprefix("game:") if subject.startswith("game:") else ""


@callback(
    Output("when-heatmap", "figure"),
    Input("when-subject", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def update_heatmap(subject: str | None, search: str | None) -> go.Figure:
    filters, data, window = from_url(search)
    return heatmap_figure(data, window, filters, subject or ALL)


@callback(
    Output("when-position", "children"),
    Input("when-subject", "value"),
    Input("when-audience", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def update_position(subject: str | None, audience: str | None, search: str | None) -> Any:
    filters, data, window = from_url(search)
    game_id = game_of(subject or ALL)
    if not game_id:
        return notice("Choose a game to see where you would stand in it.", "info")
    return position_body(data, window, filters, game_id, audience_of(audience))
