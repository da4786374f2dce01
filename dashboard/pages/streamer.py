"""Streamer: look up one channel: viewers over time, games played, rank."""

from __future__ import annotations

import re
from typing import Any

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures
from dashboard.components import PageContext, from_url, kpi, notice, number, page
from dashboard.data import MarketView, Window
from dashboard.figures import DECIMAL, INTEGER
from dashboard.metrics import gap_points, snapshot_weights

dash.register_page(
    __name__, path="/streamer", name="Streamer", title="Genre Radar — Streamer", order=4
)

LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")


def layout(**query: Any) -> html.Div:
    channel = str(query.get("channel", ""))
    return page("Streamer", query, lambda ctx: body(ctx, channel), channel)


def body(ctx: PageContext, channel: str) -> list[Any]:
    if ctx.category_level:  # its "channels" are categories
        return [notice("No channel lookup: this window holds category totals, not channels.")]
    return [
        html.Div(
            [
                dcc.Input(
                    id="streamer-login",
                    value=channel,
                    placeholder="channel login, e.g. shroud",
                    debounce=True,
                    type="text",
                    className="login",
                ),
                html.Button("Look up", id="streamer-go", n_clicks=0),
            ],
            className="lookup",
        ),
        dcc.Loading(
            html.Div(
                id="streamer-result",
                children=lookup(ctx.data, ctx.window, channel, ctx.filters.tz) if channel else [],
            )
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
    found = data.channel_rows(window, login=login)
    if found.empty:
        return [notice(f"{login} was not among the top live streams in this window.", "empty")]
    rows = pd.DataFrame(
        {
            "slot": found["slot"],
            "viewer_count": found["viewers"],
            "rank": found["rank"],
            "user_name": found["name"].astype(str),
            "game_name": [data.game_name(g) for g in found["game_id"].astype(str)],
        }
    )
    slots = data.window_slots(window)
    weights = snapshot_weights(slots, data.cadence)
    rows["w"] = rows["slot"].map(weights).fillna(0.0)
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
    name = rows["user_name"].iloc[-1]
    return [
        html.H2(name),
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
            config={"displaylogo": False},
        ),
        dcc.Graph(
            figure=figures.line(
                series.index,
                {"Rank": series["rank"]},
                f"{name}: rank among live streams",
                "Rank (1 = top)",
                timezone,
            ).update_yaxes(autorange="reversed"),
            config={"displaylogo": False},
        ),
        dag.AgGrid(
            rowData=games.reset_index().round(1).to_dict("records"),
            className="ag-theme-alpine",
            columnDefs=[
                {"field": "game_name", "headerName": "Game"},
                {"field": "hours_live", "headerName": "Hours live", "valueFormatter": DECIMAL},
                {
                    "field": "hours_watched",
                    "headerName": "Hours watched",
                    "valueFormatter": INTEGER,
                },
                {"field": "avg_viewers", "headerName": "Avg viewers", "valueFormatter": INTEGER},
            ],
            defaultColDef={"sortable": True, "resizable": True},
            columnSize="responsiveSizeToFit",
            dashGridOptions={"domLayout": "autoHeight"},
        ),
    ]


@callback(
    Output("streamer-result", "children"),
    Input("streamer-go", "n_clicks"),
    Input("streamer-login", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def show_streamer(_clicks: int, login: str | None, search: str | None) -> list[Any]:
    if not login:
        return []
    filters, data, window = from_url(search)
    return lookup(data, window, login, filters.tz)
