"""Channels like me: for a game, a language and an audience size, the channels nearest in
size that streamed it mostly in one week, and how they fared in the four weeks after."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import tables
from dashboard.components import PageContext, notice, page, with_param
from dashboard.figures import DECIMAL, INTEGER, PERCENT
from dashboard.inputs import checked
from dashboard.market_tables import records
from dashboard.names import language_name
from dashboard.tables import Column
from store import WEEK

dash.register_page(
    __name__,
    path="/like",
    name="Channels like me",
    title="Genre Radar — Channels like me",
    order=5,
)

DEFAULT_VIEWERS = 3.0
MAX_VIEWERS = 1_000_000.0


def viewers_of(text: object) -> float | None:
    """The audience asked for, or None when it is not a number from 0 to a million."""
    try:
        value = float(str(text))
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 <= value <= MAX_VIEWERS else None


def layout(**query: Any) -> html.Div:
    game = str(query.get("game", ""))[:40]
    viewers = str(query.get("viewers", DEFAULT_VIEWERS))[:20]
    exclude = str(query.get("exclude", ""))[:40]
    return page(
        "Channels like me",
        query,
        lambda ctx: body(ctx, game, viewers, exclude),
        game,
        viewers,
        exclude,
    )


def body(ctx: PageContext, game: str, viewers_text: str, exclude: str) -> list[Any]:
    games = ctx.data.top_games(200)
    if game and game not in games:  # a game asked for by link keeps its place in the list
        games = [game, *games]
    chooser = html.Div(
        [
            html.Label(
                [
                    "Game",
                    dcc.Dropdown(
                        id="like-game",
                        options=[{"label": ctx.data.game_name(g), "value": g} for g in games],
                        value=game or None,
                        placeholder="Choose a game…",
                    ),
                ]
            ),
            html.Label(
                [
                    "Average viewers",
                    dcc.Input(
                        id="like-viewers",
                        type="number",
                        min=0,
                        value=viewers_of(viewers_text),
                        debounce=True,
                    ),
                ]
            ),
        ],
        className="lookup",
    )
    viewers = viewers_of(viewers_text)
    if viewers is None:
        return [chooser, notice("Average viewers: a number from 0 to 1,000,000.", "warning")]
    if not game:
        return [chooser, notice("Choose a game to see channels like yours.", "info")]
    language = ctx.filters.language
    base, like = ctx.data.memo(
        ("like", game, language, viewers, exclude),
        lambda: ctx.data.reader.channels_like(game, language, viewers, exclude=exclude),
    )
    if base is None:
        return [chooser, notice("No whole week of every channel stored yet.", "empty")]
    cohorts = cohort_section(ctx, game, language)
    if like.empty:
        who = f" in {language_name(language)}" if language else ""
        return [
            chooser,
            *cohorts,
            notice(
                f"No channel streamed {ctx.data.game_name(game)} mostly{who} in the week "
                f"of {base:%Y-%m-%d}.",
                "empty",
            ),
        ]
    following = [k for k in range(1, 5) if f"avg_viewers_{k}" in like.columns]
    like = with_follower_gains(ctx, like, base, following)
    columns: list[Column] = [
        ("login", "Channel", None),
        ("language", "Language", None),
        ("avg_viewers", f"Avg viewers, week of {base:%Y-%m-%d}", DECIMAL),
        ("hours_live", "Hours live", DECIMAL),
    ]
    for k in following:
        columns += [
            (f"avg_viewers_{k}", f"Avg viewers, +{k} wk", DECIMAL),
            (f"hours_live_{k}", f"Hours, +{k} wk", DECIMAL),
            (f"followers_{k}", f"Followers gained, +{k} wk", INTEGER),
        ]
    shown = like.assign(language=like["language"].map(language_name))
    still = [int(like[f"hours_live_{k}"].notna().sum()) for k in following]
    after = [f"{n} of {len(like)} after {k} wk" for k, n in zip(following, still, strict=True)]
    summary = f"Still streaming: {', '.join(after)}." if after else "No later week stored yet."
    return [
        chooser,
        *cohorts,
        html.H2("Channels like you"),
        html.P(
            f"The {len(like)} channels whose main game in the week of {base:%Y-%m-%d} (UTC, "
            f"Monday to Sunday) was {ctx.data.game_name(game)}"
            + (f", in {language_name(language)}" if language else "")
            + f", nearest to {viewers:,.0f} average viewers; then their weeks since "
            "(blank: not live that week). " + summary,
            className="footnote",
            id="like-summary",
        ),
        tables.table(
            "like-table",
            records(shown, [c for c, *_ in columns]),
            [
                {
                    **tables.column(*c),
                    **({"cellRenderer": "ChannelLink"} if c[0] == "login" else {}),
                }
                for c in columns
            ],
            file_name=f"channels-like-{game}",
            page_size=20,
        ),
    ]


COHORT_WEEKS = 8


def with_follower_gains(
    ctx: PageContext, like: pd.DataFrame, base: datetime, following: list[int]
) -> pd.DataFrame:
    """`followers_<k>`: each channel's followers gained in week +k (blank where its
    followers are not read)."""
    if not following:
        return like
    start, end = base + WEEK, base + (following[-1] + 1) * WEEK
    frames = ctx.data.reader.followers(like["user_id"].tolist(), start, end)
    columns = {}
    for k in following:
        week_start, week_end = base + k * WEEK, base + (k + 1) * WEEK
        gains = []
        for user_id in like["user_id"]:
            frame = frames.get(user_id)
            days = (
                frame[(frame["day"] >= week_start) & (frame["day"] < week_end)]
                if frame is not None
                else None
            )
            gains.append(
                days["gained"].sum(min_count=1) if days is not None and len(days) else None
            )
        columns[f"followers_{k}"] = gains
    return like.assign(**columns)


def cohort_section(ctx: PageContext, game: str, language: str) -> list[Any]:
    """How the channels new to the game (and language) fared in their next four weeks."""
    weeks = ctx.data.reader.stored_weeks()[-COHORT_WEEKS:]
    documents = ctx.data.reader.cohorts(weeks)
    rows = []
    for document in documents:
        found = [
            g for g in document["groups"] if g["game_id"] == game and g["language"] == language
        ]
        if not found:
            continue
        group = found[0]
        row: dict[str, Any] = {"week": f"{document['week']:%Y-%m-%d}", "new": group["new"]}
        for k in range(1, 5):
            seen = k <= document["following"]
            row[f"active_{k}"] = group["active"][k - 1] / group["new"] if seen else None
            row[f"five_{k}"] = group["five_plus"][k - 1] / group["new"] if seen else None
        rows.append(row)
    title = html.H2("How new channels fare")
    if not rows:
        return [title, notice("No new channels of this game in the weeks stored yet.", "empty")]
    columns: list[Column] = [
        ("week", "First listed, week of", None),
        ("new", "New channels", INTEGER),
    ]
    columns += [(f"active_{k}", f"Streaming +{k} wk", PERCENT) for k in range(1, 5)]
    columns += [(f"five_{k}", f"≥ 5 viewers +{k} wk", PERCENT) for k in range(1, 5)]
    return [
        title,
        html.P(
            "Of the channels first listed in a week (new to the stored history) whose main "
            f"game that week was {ctx.data.game_name(game)}"
            + (f", in {language_name(language)}" if language else "")
            + ": the share that streamed, and that averaged at least 5 viewers, in each of "
            "the next four weeks (blank: not over yet).",
            className="footnote",
        ),
        tables.table(
            "like-cohorts",
            rows[::-1],
            columns,
            file_name=f"new-channels-{game}",
            page_size=COHORT_WEEKS,
        ),
    ]


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("like-game", "value"),
    Input("like-viewers", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def choose(game: str | None, viewers: float | None, search: str | None) -> str:
    """The chosen game and audience go into the URL: the answer, linkable."""
    current = dict(parse_qsl((search or "").lstrip("?")))
    same_viewers = viewers is None or viewers_of(current.get("viewers", DEFAULT_VIEWERS)) == viewers
    if (game or "") == current.get("game", "") and same_viewers:
        return no_update  # the page drawing its own inputs
    wanted = with_param(search, "game", game or "")
    if viewers is not None:
        wanted = with_param(wanted, "viewers", f"{viewers:g}")
    return wanted
