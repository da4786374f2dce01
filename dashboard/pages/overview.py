"""Overview: KPIs, viewer share by genre (or game), viewers by genre over time."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures
from dashboard.components import PageContext, from_url, kpi, notice, number, page
from dashboard.filters import Filters
from dashboard.inputs import checked
from dashboard.metrics import (
    gap_points,
    group_metrics,
    snapshot_weights,
    tail_metrics,
    top_keys,
    viewer_series,
)
from dashboard.view import MarketView
from dashboard.window import Window

dash.register_page(__name__, path="/", name="Overview", title="Genre Radar — Overview", order=0)

TOP_SLICES = 10
TOP_SERIES = 8


def layout(**query: Any) -> html.Div:
    return page("Market overview", query, body)


def share_figure(data: MarketView, window: Window, filters: Filters, split: str) -> go.Figure:
    """Hours watched by genre or game. Within one genre a split by genre would be a single
    100 % ring, so a genre filter always splits by game."""
    if filters.genre:
        split = "game"

    def build() -> go.Figure:
        frame = data.group_frame(split, window, language=filters.language, genre=filters.genre)
        metrics = group_metrics(frame, snapshot_weights(data.window_slots(window), data.cadence))
        head, rest = metrics.iloc[:TOP_SLICES], metrics.iloc[TOP_SLICES:]
        labels = [data.game_name(k) if split == "game" else str(k) for k in head.index]
        hours = head["hours_watched"].tolist()
        if len(rest):
            labels.append("Other")
            hours.append(float(rest["hours_watched"].sum()))
        within = f" in {filters.genre}" if filters.genre else ""
        return figures.share_pie(labels, hours, f"Viewer share by {split}{within} (hours watched)")

    return data.memo(("overview-pie", window, filters, split), build)


def tail_of(data: MarketView, window: Window, filters: Filters) -> pd.Series | None:
    """The long-tail figures of the filtered market (None with both filters: histograms
    are kept per genre and per language, not per genre and language)."""
    if filters.genre and filters.language:
        return None
    by, key = ("genre", filters.genre) if filters.genre else ("language", filters.language)
    histograms = data.histograms(by, window)
    if histograms.empty or (key and key not in histograms.index):
        return None
    counts = histograms.loc[[key]] if key else histograms.sum().to_frame("all").T
    return tail_metrics(counts).iloc[0]


def body(ctx: PageContext) -> list[Any]:
    data, window, filters = ctx.data, ctx.window, ctx.filters
    cover = data.coverage(window)
    frame = data.group_frame("genre", window, language=filters.language, genre=filters.genre)
    if frame.empty:
        return [notice(f"No streams match {ctx.describe()}.", "empty")]
    weights = snapshot_weights(ctx.slots, ctx.data.cadence)
    metrics = group_metrics(frame, weights)
    latest = ctx.slots[-1]
    now = frame[frame["slot"] == latest]
    tail = None if ctx.category_level else tail_of(data, window, filters)
    tail_cards = (
        []
        if tail is None
        else [
            kpi(
                "Median channel",
                f"{tail['median_viewers']:,.0f} viewers",
                f"half the live channels had at most this many ({cover}, whole UTC days)",
            ),
            kpi(
                "Channels under 5 viewers",
                f"{tail['under_5_share']:.0%}",
                "the long tail a new streamer starts in",
            ),
        ]
    )
    keys = top_keys(metrics, TOP_SERIES)
    series = data.memo(
        ("overview-series", window, filters),
        lambda: viewer_series(
            frame,
            ctx.slots,
            gap_points(ctx.slots, window.start, window.end, ctx.data.cadence),
            keys,
        ),
    )
    return [
        html.Div(
            [
                kpi(
                    "Viewers now",
                    number(now["viewers"].sum()),
                    f"at {ctx.at(latest)}, {cover}",
                ),
                *(
                    []
                    if ctx.category_level
                    else [kpi("Channels live now", number(now["channels"].sum()), cover)]
                ),
                kpi(
                    "Hours watched",
                    number(metrics["hours_watched"].sum()),
                    f"{ctx.describe()}, {cover}",
                ),
                *(
                    []
                    if ctx.category_level
                    else [
                        kpi(
                            "Viewers per channel",
                            f"{metrics['avg_viewers'].sum() / metrics['avg_channels'].sum():,.1f}",
                            "time-weighted average over the window",
                        )
                    ]
                ),
                *tail_cards,
            ],
            className="kpis",
        ),
        html.Div(
            [
                html.Div(
                    [
                        dcc.RadioItems(
                            id="overview-split",
                            value="game" if filters.genre else "genre",
                            inline=True,
                            className="toggle",
                            options=[
                                {
                                    "label": "by genre",
                                    "value": "genre",
                                    "disabled": bool(filters.genre),
                                },
                                {"label": "by game", "value": "game"},
                            ],
                        ),
                        dcc.Graph(
                            id="overview-pie",
                            figure=share_figure(data, window, filters, "genre"),
                            config=figures.GRAPH_CONFIG,
                        ),
                    ],
                    className="card",
                ),
                html.Div(
                    dcc.Graph(
                        id="overview-area",
                        config=figures.GRAPH_CONFIG,
                        figure=figures.stacked_area(
                            series, f"Viewers by genre ({cover})", filters.tz
                        ),
                    ),
                    className="card wide",
                ),
            ],
            className="grid",
        ),
        html.P(
            f"Figures are time-weighted over {len(ctx.slots):,} snapshots. Genres come from the "
            "catalogue (IGDB and a curated file), for games it cannot place from the frame "
            'classifier, marked "(classifier)"; "Unknown" until a game\'s genre is known.',
            className="footnote",
        ),
    ]


@callback(
    Output("overview-pie", "figure"),
    Input("overview-split", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def update_share(split: str | None, search: str | None) -> go.Figure:
    filters, data, window = from_url(search)
    return share_figure(
        data,
        window,
        filters,
        "game" if split == "game" else "genre",
    )
