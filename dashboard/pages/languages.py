"""Languages: share of viewers, viewers over time, and crowdedness (viewers per channel)."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboard import figures
from dashboard.components import PageContext, notice, page
from dashboard.metrics import (
    MIN_CHANNELS,
    gap_points,
    group_metrics,
    rankable_viewers_per_channel,
    snapshot_weights,
    tail_metrics,
    top_keys,
    viewer_series,
)

dash.register_page(
    __name__, path="/languages", name="Languages", title="Genre Radar — Languages", order=2
)

TOP = 10


def layout(**query: Any) -> html.Div:
    return page("Languages", query, body)


def body(ctx: PageContext) -> list[Any]:
    data, window, filters = ctx.data, ctx.window, ctx.filters
    frame = data.group_frame("language", window, genre=filters.genre)
    if frame.empty:
        return [notice(f"No streams match {ctx.describe()}.", "empty")]

    def build() -> list[Any]:
        metrics = group_metrics(frame, snapshot_weights(ctx.slots, ctx.data.cadence))
        head, rest = metrics.iloc[:TOP], metrics.iloc[TOP:]
        labels, hours = [str(k) for k in head.index], head["hours_watched"].tolist()
        if len(rest):
            labels.append("Other")
            hours.append(float(rest["hours_watched"].sum()))
        series = viewer_series(
            frame,
            ctx.slots,
            gap_points(ctx.slots, window.start, window.end, ctx.data.cadence),
            top_keys(metrics, TOP),
        )
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
                            [str(k) for k in crowded.index],
                            crowded["viewers_per_channel"].tolist(),
                            "Viewers per channel by language (higher = less crowded; "
                            f"languages averaging under {MIN_CHANNELS:.0f} channels left out)",
                            "Average viewers per channel",
                        ),
                        config={"displaylogo": False},
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
                            [str(k) for k in under.index],
                            (under * 100).round(1).tolist(),
                            "Live channels with fewer than 5 viewers, by language",
                            "% of the language's live channels",
                        ),
                        config={"displaylogo": False},
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
                            config={"displaylogo": False},
                        ),
                        className="card",
                    ),
                    html.Div(
                        dcc.Graph(
                            figure=figures.stacked_area(
                                series, f"Viewers by language ({data.coverage(window)})", filters.tz
                            ),
                            config={"displaylogo": False},
                        ),
                        className="card wide",
                    ),
                ],
                className="grid",
            ),
            *per_channel,
            html.P(
                "The language filter does not apply on this page (it splits by language).",
                className="footnote",
            ),
        ]

    return data.memo(("languages", window, filters.genre), build)
