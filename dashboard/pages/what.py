"""What to stream: games ranked for a new streamer's language, hours and usual viewers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import tables
from dashboard.advice import Ask, what_to_stream
from dashboard.components import PageContext, notice, page, with_param
from dashboard.figures import DECIMAL, INTEGER, PERCENT
from dashboard.inputs import checked
from dashboard.market_tables import records
from dashboard.metrics import AUDIENCES, MIN_CHANNELS
from dashboard.names import language_name
from dashboard.tables import Column

dash.register_page(
    __name__,
    path="/what-to-stream",
    name="What to stream",
    title="Genre Radar — What to stream",
    order=-1,
)

COLUMNS: list[Column] = [
    ("game", "Game", None),
    ("genre", "Genre", None),
    ("viewers_per_place", "Viewers per place", DECIMAL),
    ("position", "Your position", INTEGER),
    ("above_share", "Directory above you", PERCENT),
    ("live", "Live channels", INTEGER),
    ("viewers", "Viewers", INTEGER),
    ("viewers_per_channel", "Viewers per channel", DECIMAL),
    ("rising_text", "Rising", None),
]
DAY_LABELS = {"all": "every day", "weekdays": "Monday–Friday", "weekend": "Saturday–Sunday"}


def layout(**query: Any) -> html.Div:
    ask = Ask.from_query(query)
    return page("What to stream", query, lambda ctx: body(ctx, ask), ask)


def _select(id_: str, label: str, value: object, options: list[tuple[object, str]]) -> html.Label:
    return html.Label(
        [
            label,
            dcc.Dropdown(
                id=id_,
                value=str(value),
                clearable=False,
                options=[{"label": text, "value": str(v)} for v, text in options],
            ),
        ],
        className="subject",
    )


def body(ctx: PageContext, ask: Ask) -> list[Any]:
    hours: list[tuple[object, str]] = [(h, f"{h:02d}:00") for h in range(24)]
    audiences: list[tuple[object, str]] = [(a, str(a)) for a in AUDIENCES]
    inputs = html.Div(
        [
            _select("what-viewers", "Your usual viewers", ask.audience, audiences),
            _select("what-from", "From", ask.start_hour, hours),
            _select("what-to", "To", ask.end_hour, hours),
            _select("what-days", "Days", ask.days, [(k, v) for k, v in DAY_LABELS.items()]),
        ],
        className="ask",
    )  # fmt: skip
    table = what_to_stream(ctx.data, ctx.window, ctx.filters, ask)
    where = (
        f"in {language_name(ctx.filters.language)}" if ctx.filters.language else "in any language"
    )
    asked = (
        f"With {ask.audience} viewer{'s' if ask.audience != 1 else ''}, {where}, "
        f"{ask.start_hour:02d}:00–{ask.end_hour:02d}:00 ({ctx.filters.tz}), "
        f"{DAY_LABELS[ask.days]}, {ctx.describe()}."
    )
    if table.empty:
        return [
            inputs,
            notice(
                f"{asked} No directory counts cover these hours in this window: they come "
                "from snapshots of the whole market.",
                "empty",
            ),
        ]
    table = table.assign(rising_text=["rising" if r else "" for r in table["rising"]])
    return [
        inputs,
        html.P(asked, className="footnote"),
        tables.table(
            "what-table",
            records(table, ["id"] + [c for c, *_ in COLUMNS]),
            COLUMNS,
            file_name="what-to-stream",
            getRowId="params.data.id",
            style={"height": "640px"},
        ),
        html.P(
            "Your position: where a channel with your viewers would stand in the game's "
            "directory (1 + the live channels with more viewers), the median over the "
            "snapshots in your hours; directory above you: the share of the game's live "
            "channels ahead of you. Viewers: the game's average viewers in your hours. "
            "Viewers per place = viewers ÷ your position: how much audience each place "
            "ahead of you stands for; games are ranked by it. Viewers per channel is the "
            f"plain ratio other tools rank by (blank below {MIN_CHANNELS:.0f} channels). "
            "Click a game for its page and its position hour by hour.",
            className="footnote",
        ),
    ]


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("what-viewers", "value"),
    Input("what-from", "value"),
    Input("what-to", "value"),
    Input("what-days", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def ask_again(
    viewers: str | None, start: str | None, end: str | None, days: str | None, search: str | None
) -> str:
    """The inputs go into the URL: the answer can be shared and bookmarked."""
    for name, value in (("viewers", viewers), ("from", start), ("to", end), ("days", days)):
        search = with_param(search, name, value or "")
    return search or ""


@callback(
    Output("_pages_location", "href", allow_duplicate=True),
    Input("what-table", "cellClicked"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def open_game(clicked: dict[str, Any] | None, search: str | None) -> str:
    if not clicked or not clicked.get("rowId"):
        return no_update
    kept = {
        k: v for k, v in parse_qsl((search or "").lstrip("?")) if k in ("language", "window", "tz")
    }
    return f"/games?{urlencode({**kept, 'game': str(clicked['rowId'])})}"
