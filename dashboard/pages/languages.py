"""Languages: share of viewers, viewers over time, and crowdedness (viewers per channel)."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboard import figures, tables
from dashboard.components import PageContext, notice, page
from dashboard.market_tables import language_table
from dashboard.metrics import (
    MIN_CHANNELS,
    OTHER,
    gap_points,
    group_metrics,
    rankable_viewers_per_channel,
    snapshot_weights,
    tail_metrics,
    top_keys,
    viewer_series,
)
from dashboard.names import language_name
from dashboard.tables import MARKET_COLUMNS, PER_CHANNEL_FIELDS, Column

dash.register_page(
    __name__, path="/languages", name="Languages", title="Genre Radar — Languages", order=2
)

TOP = 10
TABLE_COLUMNS: list[Column] = [
    ("language", "Language", None),
    ("code", "Code", None),
    *MARKET_COLUMNS,
]


def layout(**query: Any) -> html.Div:
    return page("Languages", query, body, fixed="language")


def body(ctx: PageContext) -> list[Any]:
    data, window, filters = ctx.data, ctx.window, ctx.filters
    frame = data.group_frame("language", window, genre=filters.genre)
    if frame.empty:
        return [notice(f"No streams match {ctx.describe()}.", "empty")]

    def build() -> list[Any]:
        metrics = group_metrics(frame, snapshot_weights(ctx.slots, ctx.data.cadence))
        head, rest = metrics.iloc[:TOP], metrics.iloc[TOP:]
        labels, hours = [language_name(k) for k in head.index], head["hours_watched"].tolist()
        if len(rest):
            labels.append(OTHER)
            hours.append(float(rest["hours_watched"].sum()))
        series = viewer_series(
            frame,
            ctx.slots,
            gap_points(ctx.slots, window.start, window.end, ctx.data.cadence),
            top_keys(metrics, TOP),
        ).rename(columns=lambda k: k if k == OTHER else language_name(k))
        # Too few channels to rank (one big stream would lead): left out, and said so.
        ranked = metrics.assign(viewers_per_channel=rankable_viewers_per_channel(metrics))
        crowded = ranked.dropna(subset=["viewers_per_channel"]).sort_values(
            "viewers_per_channel", ascending=False
        )
        tail = tail_metrics(data.histograms("language", window)) if not filters.genre else None
        # Category totals have no channels to be crowded by.
        per_channel = (
            []
            if ctx.category_level
            else [
                html.Div(
                    dcc.Graph(
                        figure=figures.bar(
                            [language_name(k) for k in crowded.index],
                            crowded["viewers_per_channel"].tolist(),
                            "Viewers per channel by language (higher = less crowded; "
                            f"languages averaging under {MIN_CHANNELS:.0f} channels left out)",
                            "Average viewers per channel",
                        ),
                        config=figures.GRAPH_CONFIG,
                    ),
                    className="card",
                )
            ]
        )
        if tail is not None and not ctx.category_level and not tail.empty:
            under = tail.reindex(crowded.index)["under_5_share"].dropna()
            per_channel.append(
                html.Div(
                    dcc.Graph(
                        figure=figures.bar(
                            [language_name(k) for k in under.index],
                            (under * 100).round(1).tolist(),
                            "Live channels with fewer than 5 viewers, by language",
                            "% of the language's live channels",
                        ),
                        config=figures.GRAPH_CONFIG,
                    ),
                    className="card",
                )
            )
        return [
            html.Div(
                [
                    html.Div(
                        dcc.Graph(
                            figure=figures.share_pie(labels, hours, "Viewer share by language"),
                            config=figures.GRAPH_CONFIG,
                        ),
                        className="card",
                    ),
                    html.Div(
                        dcc.Graph(
                            figure=figures.stacked_area(
                                series, f"Viewers by language ({data.coverage(window)})", filters.tz
                            ),
                            config=figures.GRAPH_CONFIG,
                        ),
                        className="card wide",
                    ),
                ],
                className="grid",
            ),
            *per_channel,
            html.H2("Every language"),
            tables.table(
                "languages-table",
                language_table(metrics, tail).to_dict("records"),
                TABLE_COLUMNS
                if not ctx.category_level
                else [c for c in TABLE_COLUMNS if c[0] not in PER_CHANNEL_FIELDS],
                file_name="languages",
            ),
            html.P(
                "This page compares languages, so the language filter is off here. Viewers "
                f"per channel is blank for languages averaging under {MIN_CHANNELS:.0f} "
                "live channels.",
                className="footnote",
            ),
        ]

    return data.memo(("languages", window, filters.genre), build)
