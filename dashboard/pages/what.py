"""What to stream: games ranked for a new streamer's language, hours and usual viewers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import tables
from dashboard.advice import MAX_AUDIENCE, WEEKDAYS, Ask, what_to_stream
from dashboard.components import PageContext, notice, page, with_param
from dashboard.figures import DECIMAL, INTEGER, PERCENT
from dashboard.inputs import checked
from dashboard.market_tables import records
from dashboard.metrics import AUDIENCES, MIN_CHANNELS
from dashboard.names import language_name
from dashboard.rising_card import rising_card
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
    ("lift", "Lift at your size", DECIMAL),
    ("position", "Your position", INTEGER),
    ("reach", "Viewers of channels your size", DECIMAL),
    ("above_share", "Directory above you", PERCENT),
    ("live", "Live channels", INTEGER),
    ("viewers", "Viewers", INTEGER),
    ("viewers_per_channel", "Viewers per channel", DECIMAL),
    ("trend", "Trend", DECIMAL),
    ("swing", "Day-to-day swing", PERCENT),
    ("rising_text", "Rising", None),
    ("genre", "Genre", None),
]
DAY_NAMES = dict(zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))


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
    inputs = html.Div(
        [
            html.Label(
                [
                    "Your usual viewers",
                    dcc.Input(
                        id="what-viewers",
                        type="number",
                        value=ask.audience,
                        min=1,
                        max=MAX_AUDIENCE,
                        step=1,
                        debounce=True,
                        list="what-audiences",
                        inputMode="numeric",
                    ),
                    html.Datalist(
                        id="what-audiences", children=[html.Option(value=str(a)) for a in AUDIENCES]
                    ),
                ],
                className="subject viewers",
            ),
            _select("what-from", "From", ask.start_hour, hours),
            _select("what-to", "To", ask.end_hour, hours),
            html.Label(
                [
                    "Days",
                    dcc.Checklist(
                        id="what-days",
                        value=list(ask.days),
                        options=[{"label": DAY_NAMES[d], "value": d} for d in WEEKDAYS],
                        inline=True,
                    ),
                ],
                className="subject days",
            ),
        ],
        className="ask",
    )
    problems = [notice(problem, "error") for problem in ask.problems]
    every_game = what_to_stream(ctx.data, ctx.window, ctx.filters, replace(ask, liked=()))
    liked = html.Label(
        [
            "Games you like (their genres' games are shown with them)",
            dcc.Dropdown(
                id="what-like",
                value=list(ask.liked),
                multi=True,
                searchable=True,
                placeholder="Type a game's name…",
                options=[
                    {"label": name, "value": game}
                    for game, name in sorted(
                        zip(every_game["id"], every_game["game"], strict=True),
                        key=lambda pair: pair[1].casefold(),
                    )
                ],
            ),
        ],
        className="subject like",
    )
    table = what_to_stream(ctx.data, ctx.window, ctx.filters, ask)
    where = (
        f"in {language_name(ctx.filters.language)}" if ctx.filters.language else "in any language"
    )
    asked = (
        f"With {ask.audience} viewer{'s' if ask.audience != 1 else ''}, {where}, "
        f"{ask.hours} ({ctx.filters.tz}), "
        f"{describe_days(ask.days)}, {ctx.describe()}."
    )
    if table.empty:
        return [*problems, inputs, liked, *why_empty(ctx, ask, asked, every_game.empty)]
    table = table.assign(
        rising_text=["rising" if r else "" for r in table["rising"]],
        liked_text=["liked" if liked else "" for liked in table["liked"]],
    )
    columns = COLUMNS + ([("liked_text", "You like", None)] if ask.liked else [])
    return [
        *problems,
        inputs,
        liked,
        html.P(
            [
                asked + " ",
                html.A("Follow the top as an Atom feed", href=feed_link(ctx, ask)),
                ".",
            ],
            className="footnote",
        ),
        tables.table(
            "what-table",
            records(table, ["id"] + [c for c, *_ in columns]),
            columns,
            file_name="what-to-stream",
            getRowId="params.data.id",
            style={"height": "640px"},
        ),
        html.P(
            f"Games are ranked by lift at your size: the average viewers of the game's "
            f"live channels with at most {2 * ask.audience} viewers (twice yours) in your "
            "hours, divided by the same average over every game; a game with few such "
            "channels is pulled towards 1. Above 1, channels your size draw more here than "
            "elsewhere. Your position: where a channel with your viewers would stand in "
            "the game's directory (1 + the live channels with more viewers), the median "
            "over the snapshots in your hours; directory above you: the share of the "
            "game's live channels ahead of you. Viewers: the game's average viewers in "
            "your hours. Viewers per channel is the plain ratio other tools rank by (blank "
            f"below {MIN_CHANNELS:.0f} channels). Trend: average viewers in the later half "
            "of the window's hours ÷ the earlier half. Day-to-day swing: the spread of the "
            "game's daily viewers ÷ their mean. The ranking is backtested on the emulated "
            "market only (docs/advisor.md): it recovers planted structure; how it fares "
            "on Twitch is not measured. Click a game for its page and its position hour by hour.",
            className="footnote",
        ),
        rising_card(ctx),
    ]


def ask_query(ctx: PageContext, ask: Ask) -> dict[str, object]:
    """The page's parameters: the asker's and the site's filters."""
    return {
        "viewers": ask.audience,
        "from": ask.start_hour,
        "to": ask.end_hour,
        "days": ask.days_param,
        **({"like": ",".join(ask.liked)} if ask.liked else {}),
        "tz": ctx.filters.tz,
        **{k: v for k, v in (("language", ctx.filters.language), ("genre", ctx.filters.genre),
                              ("window", ctx.filters.window), ("start", ctx.filters.start),
                              ("end", ctx.filters.end)) if v},
    }  # fmt: skip


def feed_link(ctx: PageContext, ask: Ask) -> str:
    return f"/feeds/what-to-stream.atom?{urlencode(ask_query(ctx, ask))}"


def why_empty(ctx: PageContext, ask: Ask, asked: str, nothing_at_all: bool) -> list[Any]:
    """Why the table is empty, and the way out when the hours are what excludes it."""
    if not nothing_at_all:
        return [
            notice(
                f"{asked} None of the games you like, nor any game of their genres, was "
                "live in these hours.",
                "empty",
            )
        ]
    slots = ctx.slots
    if len(slots) and not any(ask.wants(s, ctx.filters.tz) for s in slots):
        first, last = (s.tz_convert(ctx.filters.tz) for s in (slots[0], slots[-1]))
        every_hour = urlencode({**ask_query(ctx, ask), "from": 0, "to": 0})
        return [
            notice(
                f"{asked} None of the {len(slots)} snapshots of this window "
                f"({first:%a %d %b %H:%M} to {last:%a %d %b %H:%M}) falls in your hours and "
                "days.",
                "empty",
            ),
            html.P(dcc.Link("Show every hour instead", href=f"/what-to-stream?{every_hour}")),
        ]
    return [
        notice(
            f"{asked} No directory counts cover these hours in this window: they come from "
            "snapshots of the whole market.",
            "empty",
        )
    ]


def describe_days(days: tuple[str, ...]) -> str:
    named = {WEEKDAYS: "every day", WEEKDAYS[:5]: "Monday–Friday", WEEKDAYS[5:]: "Saturday–Sunday"}
    return named.get(days) or ", ".join(DAY_NAMES[d] for d in days)


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("what-viewers", "value"),
    Input("what-from", "value"),
    Input("what-to", "value"),
    Input("what-days", "value"),
    Input("what-like", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def ask_again(
    viewers: int | str | None,
    start: str | None,
    end: str | None,
    days: list[str] | None,
    liked: list[str] | None,
    search: str | None,
) -> str:
    """The inputs go into the URL: the answer can be shared and bookmarked."""
    chosen = Ask(days=tuple(d for d in WEEKDAYS if d in (days or []))).days_param
    for name, value in (
        ("viewers", "" if viewers is None else str(viewers)),
        ("from", start),
        ("to", end),
        ("days", chosen),
        ("like", ",".join(liked or [])),
    ):
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
