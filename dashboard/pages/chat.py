"""Chat: how engaged each game's, genre's and language's audience is, and which emotes
its communities use (paid vs free, top, trending, per topic keyword)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, tables
from dashboard.chat_data import (
    CHAT_DAYS,
    ChatWindow,
    channel_totals,
    emote_uses,
    engagement,
    group_totals,
    topic_counts,
    topics_of,
    trending,
)
from dashboard.chat_live import LIVE_MINUTES, LIVE_REFRESH_MS, NOW_MINUTES, LiveChat
from dashboard.components import PageContext, kpi, notice, number, page
from dashboard.figures import DECIMAL, GROWTH, INTEGER, PERCENT
from dashboard.filters import Filters
from dashboard.inputs import checked
from dashboard.names import language_name
from dashboard.state import chat, chat_live
from dashboard.tables import Column

dash.register_page(__name__, path="/chat", name="Chat", title="Genre Radar — Chat", order=5)

BY = {"game": "Game", "genre": "Genre", "language": "Language", "channel": "Channel"}
TOP = 15
EMOTES_SHOWN = 20
CHAT_KEYS = ("by", "subject", "topic")
LIVE_TOP = 10


def chat_query(query: Mapping[str, Any]) -> dict[str, str]:
    """The page's own URL parameters, validated (unknown values fall back to defaults)."""
    by = str(query.get("by") or "game")
    return {
        "by": by if by in BY else "game",
        "subject": str(query.get("subject") or "")[:100],
        "topic": str(query.get("topic") or "")[:100].lower(),
    }


def layout(**query: Any) -> html.Div:
    own = chat_query(query)
    return page("Chat", query, lambda ctx: body(ctx, own), memo=False)


def _grid(grid_id: str, frame: pd.DataFrame, columns: list[Column]) -> html.Div:
    return tables.table(grid_id, frame.to_dict("records"), columns, file_name=grid_id, page_size=15)


def _emote_frame(uses: pd.Series, win: ChatWindow) -> pd.DataFrame:
    names, paid = win.emote_names(), win.paid()
    total = float(uses.sum()) or 1.0
    head = uses.head(EMOTES_SHOWN)
    return pd.DataFrame(
        {
            "emote": [names.get(e, e) for e in head.index],
            "kind": ["paid" if e in paid else "free" for e in head.index],
            "uses": head.to_numpy(),
            "share": head.to_numpy() / total,
        }
    )


def _emote_grid(grid_id: str, uses: pd.Series, win: ChatWindow, uses_header: str) -> html.Div:
    return _grid(
        grid_id,
        _emote_frame(uses, win),
        [
            ("emote", "Emote", None),
            ("kind", "Free / paid", None),
            ("uses", uses_header, INTEGER),
            ("share", "Share of uses", PERCENT),
        ],
    )


def body(ctx: PageContext, own: dict[str, str]) -> list[Any]:
    return [live_section(), *window_body(ctx, own)]


def live_section() -> html.Div:
    """The last hour, refreshed in the browser every `LIVE_REFRESH_MS` (filled by
    `live_update`, so the page itself never waits for it)."""
    return html.Div(
        [
            html.H2("Live: the last hour of chat"),
            html.Div(
                html.Label(
                    [
                        "Top emotes now of",
                        dcc.Dropdown(
                            id="chat-live-channel",
                            placeholder="the channel with the most emote uses now",
                        ),
                    ]
                ),
                className="filters",
            ),
            html.Div(notice("Reading the last hour of chat…", "info"), id="chat-live"),
            dcc.Interval(id="chat-live-timer", interval=LIVE_REFRESH_MS),
        ],
        className="card",
    )


def live_children(live: LiveChat, channel: str | None, tz: str) -> list[Any]:
    per_minute = live.per_minute()
    if per_minute["messages"].isna().all():
        return [
            notice(
                f"No chat was read in the last {LIVE_MINUTES} minutes. The chat reader counts "
                "the top channels of the newest snapshot and writes every few seconds.",
                "empty",
            )
        ]
    read = per_minute.dropna(subset=["messages"])
    if read["messages"].sum() == 0:  # listened, yet silent: not a chart of zeros
        return [
            notice(
                f"The chat reader listened in the last {LIVE_MINUTES} minutes, but no message "
                "arrived: the channels read are silent, or the chat server sends nothing.",
                "empty",
            )
        ]
    top = live.top_channels(LIVE_TOP)
    chosen = channel or (str(top["channel"].iloc[0]) if len(top) else "")
    emotes = live.channel_emotes(chosen) if chosen else pd.DataFrame()
    newest = figures.local_times(pd.DatetimeIndex([read.index[-1]]), tz)[0]
    shards = int(read["shards_read"].iloc[-1])
    read_by = "" if live.shards == 1 else f", {shards} of {live.shards} reader shards"
    running = read.index[-1] == live.this_minute
    children: list[Any] = [
        html.Div(
            [
                kpi(
                    "Messages this minute" if running else "Messages, newest minute read",
                    number(float(read["messages"].iloc[-1])),
                    f"{newest:%H:%M} {tz}{', so far' if running else ''}{read_by}",
                ),
                kpi(
                    f"Emote uses, last {NOW_MINUTES} min",
                    number(float(top["uses"].sum())),
                    f"{len(live.channels_now()):,} channels read",
                ),
            ],
            className="kpis",
        ),
        dcc.Graph(
            id="chat-live-minutes",
            figure=figures.line(
                per_minute.index,
                {
                    "Free emote uses": per_minute["free"].tolist(),
                    "Paid emote uses": per_minute["paid"].tolist(),
                },
                # The newest minute is still counting: the figure above says "so far".
                f"Emote uses per minute, last {LIVE_MINUTES} minutes",
                "Uses per minute",
                tz,
            ),
            config=figures.GRAPH_CONFIG,
        ),
        html.Div(
            [
                html.Div(
                    [
                        html.H3(f"Top {LIVE_TOP} channels by emote uses, last {NOW_MINUTES} min"),
                        tables.table(
                            "chat-live-channels",
                            top.to_dict("records"),
                            [
                                ("channel", "Channel", None),
                                ("uses", "Emote uses", INTEGER),
                                ("free", "Free", INTEGER),
                                ("paid", "Paid", INTEGER),
                                ("messages", "Messages", INTEGER),
                            ],
                            file_name="chat-live-channels",
                            page_size=LIVE_TOP,
                        )
                        if len(top)
                        else notice(
                            f"No channel was read in the last {NOW_MINUTES} minutes.", "empty"
                        ),
                    ]
                ),
                html.Div(
                    [
                        html.H3(
                            f"Top emotes of {chosen}, last {NOW_MINUTES} min"
                            if chosen
                            else f"Top emotes of a channel, last {NOW_MINUTES} min"
                        ),
                        tables.table(
                            "chat-live-emotes",
                            emotes.to_dict("records"),
                            [
                                ("name", "Emote", None),
                                ("kind", "Free / paid", None),
                                ("uses", "Uses", INTEGER),
                            ],
                            file_name="chat-live-emotes",
                            page_size=10,
                        )
                        if len(emotes)
                        else notice(
                            f"No emotes from {chosen or 'any channel'} in the last "
                            f"{NOW_MINUTES} minutes.",
                            "empty",
                        ),
                    ]
                ),
            ],
            className="grid wide-first",  # the channels table has more columns
        ),
    ]
    return children


@callback(
    Output("chat-live", "children"),
    Output("chat-live-channel", "options"),
    Input("chat-live-timer", "n_intervals"),
    Input("chat-live-channel", "value"),
    State("_pages_location", "search"),
)
@checked
def live_update(
    _: int | None, channel: str | None, search: str | None
) -> tuple[list[Any], list[str]]:
    live = chat_live().current()
    tz = Filters.from_search(search).tz
    return live_children(live, channel, tz), live.channels_now()


def window_body(ctx: PageContext, own: dict[str, str]) -> list[Any]:
    filters, window, view = ctx.filters, ctx.window, ctx.data
    win = chat().window(window.start, window.end)
    if not win.slots:
        return [
            notice(
                "No chat was read in this window. Chat is read live in the top channels of "
                "the newest snapshot; its figures appear here about 90 seconds after each "
                "half hour ends, so a window that just began has none yet.",
                "empty",
            )
        ]
    channels = channel_totals(win, view.genre_of_game, filters.language, filters.genre)
    if channels.empty:
        return [notice(f"No chat read from channels matching {ctx.describe()}.", "empty")]
    by = own["by"]
    known = channels[channels["viewer_minutes"] > 0]
    overall = engagement(known[["minutes", "messages", "chatter_minutes", "viewer_minutes",
                                "free", "paid"]].sum().to_frame().T)  # fmt: skip
    first = overall.iloc[0]
    covered = win.slots[0], win.slots[-1]
    local = figures.local_times(pd.DatetimeIndex(covered), filters.tz)
    slots = f"{len(win.slots)} slot{'' if len(win.slots) == 1 else 's'}"
    span = f"{slots}, {local[0]:%Y-%m-%d %H:%M} to {local[1]:%Y-%m-%d %H:%M} {filters.tz}"
    if win.minutes_read < win.minutes_in_slots:  # the figures cover only what was read
        span += f"; chat read in {win.minutes_read:,} of {win.minutes_in_slots:,} minutes"
    notes = []
    if window.start < win.start:
        notes.append(
            notice(f"Chat figures cover the newest {CHAT_DAYS} days of the window.", "info")
        )
    kpis = html.Div(
        [
            kpi("Channels read", number(len(channels)), span),
            kpi("Messages", number(float(channels["messages"].sum())), "all channels read"),
            kpi(
                "Messages per 1,000 viewer-minutes",
                _value(first["messages_per_1000_viewer_minutes"]),
                "channels in the snapshots",
            ),
            kpi(
                "Active chatters per 100 viewers",
                _value(first["chatters_per_100_viewers"]),
                "unique chatters a minute",
            ),
            kpi("Paid emote share", _percent(first["paid_share"]), "subscriber and bits emotes"),
        ],
        className="kpis",
    )
    if by == "channel":
        table = engagement(known.copy())
        table["label"] = [str(n) or k for k, n in zip(table.index, table["name"], strict=True)]
        table["channels"] = 1
    else:
        table = engagement(group_totals(channels, "game_id" if by == "game" else by))
        table["label"] = (
            [view.game_name(str(k)) for k in table.index]
            if by == "game"
            else [language_name(str(k)) for k in table.index]
            if by == "language"
            else list(table.index)
        )
    table = table.sort_values("messages", ascending=False)
    head = table.head(TOP).dropna(subset=["messages_per_1000_viewer_minutes"])
    records = table.reset_index(names="key")
    controls = _controls(own, table, win)
    return [
        *notes,
        kpis,
        controls,
        html.Div(
            [
                html.Div(
                    dcc.Graph(
                        id="chat-engagement",
                        figure=figures.bar(
                            head["label"].tolist(),
                            head["messages_per_1000_viewer_minutes"].round(1).tolist(),
                            f"Engagement by {BY[by].lower()} (top {TOP} by messages)",
                            "Messages / 1,000 viewer-min",
                        ),
                        config=figures.GRAPH_CONFIG,
                    ),
                    className="card",
                ),
                html.Div(
                    dcc.Graph(
                        id="chat-paid",
                        figure=figures.bar(
                            head["label"].tolist(),
                            (head["paid_share"] * 100).round(1).tolist(),
                            f"Paid emote share by {BY[by].lower()}",
                            "% of emote uses",
                        ),
                        config=figures.GRAPH_CONFIG,
                    ),
                    className="card",
                ),
            ],
            className="grid",
        ),
        html.Div(
            [
                html.H2(f"Engagement by {BY[by].lower()}"),
                _grid(
                    "chat-table",
                    records,
                    [
                        ("label", BY[by], None),
                        ("channels", "Channels read", INTEGER),
                        ("messages", "Messages", INTEGER),
                        ("messages_per_1000_viewer_minutes", "Msgs / 1,000 viewer-min", DECIMAL),
                        ("chatters_per_100_viewers", "Chatters / 100 viewers", DECIMAL),
                        ("paid_share", "Paid emote share", PERCENT),
                    ],
                ),
            ],
            className="card",
        ),
        _emote_section(own, win, filters.language, filters.genre, view.game_name),
        _trending_section(win),
        _topic_section(own, win, filters.tz),
        html.P(
            "Engagement counts channels whose viewers the snapshots give (the top channels "
            "read, at each slot's snapshot); paid emotes are subscriber and bits emotes, and "
            "emotes in no fetched list. No message text or chatter name is stored.",
            className="footnote",
        ),
    ]


def _value(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:,.1f}"


def _percent(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.1%}"


def _controls(own: dict[str, str], table: pd.DataFrame, win: ChatWindow) -> html.Div:
    topics = topics_of(win)
    return html.Div(
        [
            html.Label(
                [
                    "Compare by",
                    dcc.RadioItems(
                        id="chat-by",
                        value=own["by"],
                        options=[{"label": v, "value": k} for k, v in BY.items()],
                        inline=True,
                    ),
                ]
            ),
            html.Label(
                [
                    "Top emotes of",
                    dcc.Dropdown(
                        id="chat-subject",
                        value=own["subject"] or None,
                        placeholder="every channel read",
                        options=[
                            {"label": str(label), "value": str(key)}
                            for key, label in zip(table.index, table["label"], strict=True)
                        ],
                    ),
                ]
            ),
            html.Label(
                [
                    "Topic",
                    dcc.Dropdown(
                        id="chat-topic",
                        value=own["topic"] or (topics[0] if topics else None),
                        options=topics,
                        clearable=False,
                    ),
                ]
            ),
        ],
        className="filters",
    )


def _emote_section(
    own: dict[str, str],
    win: ChatWindow,
    language: str,
    genre: str,
    game_name: Any,
) -> html.Div:
    by, subject = own["by"], own["subject"]
    if subject and by == "channel":
        uses, title = chat().channel_emotes(win, subject), f"Top emotes of {subject}"
    elif subject:
        name = game_name(subject) if by == "game" else subject
        uses, title = emote_uses(win, by, subject), f"Top emotes of {name}"
    elif genre:
        uses, title = emote_uses(win, "genre", genre), f"Top emotes of {genre}"
    elif language:
        uses, title = (
            emote_uses(win, "language", language),
            f"Top emotes in {language_name(language)}",
        )
    else:
        uses, title = emote_uses(win, "all", "all"), "Top emotes of every channel read"
    if uses.empty:
        return html.Div([html.H2(title), notice("No emotes used.", "empty")], className="card")
    return html.Div(
        [
            html.H2(title),
            _emote_grid("chat-emotes", uses, win, "Uses"),
        ],
        className="card",
    )


def _trending_section(win: ChatWindow) -> html.Div:
    rising = trending(win).head(EMOTES_SHOWN)
    title = "Trending emotes (second half of the window vs the first, per slot)"
    if rising.empty:
        return html.Div(
            [html.H2(title), notice("Too little chat in this window to compare.", "empty")],
            className="card",
        )
    frame = _emote_frame(rising["after"], win).assign(
        before=rising["before"].to_numpy(), growth=rising["growth"].to_numpy()
    )
    return html.Div(
        [
            html.H2(title),
            _grid(
                "chat-trending",
                frame,
                [
                    ("emote", "Emote", None),
                    ("kind", "Free / paid", None),
                    ("before", "Uses, first half", INTEGER),
                    ("uses", "Uses, second half", INTEGER),
                    ("growth", "Growth per slot", GROWTH),
                ],
            ),
        ],
        className="card",
    )


def _topic_section(own: dict[str, str], win: ChatWindow, tz: str) -> html.Div:
    topics = topics_of(win)
    topic = own["topic"] if own["topic"] in topics else (topics[0] if topics else "")
    if not topic:
        return html.Div(
            [html.H2("Topics"), notice("No topic keyword was mentioned.", "empty")],
            className="card",
        )
    per_slot, uses = topic_counts(win, topic)
    children: list[Any] = [
        html.H2(f"Messages mentioning “{topic}”"),
        dcc.Graph(
            id="chat-topic-series",
            figure=figures.line(
                per_slot.index,
                {topic: per_slot.tolist()},
                f"Messages containing “{topic}” per slot",
                "Messages",
                tz,
            ),
            config=figures.GRAPH_CONFIG,
        ),
    ]
    if not uses.empty:
        children.append(_emote_grid("chat-topic-emotes", uses, win, "Uses in those messages"))
    return html.Div(children, className="card")


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("chat-by", "value"),
    Input("chat-subject", "value"),
    Input("chat-topic", "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
@checked
def chat_choices_to_url(
    by: str | None, subject: str | None, topic: str | None, search: str | None
) -> str:
    pairs = {k: v for k, v in parse_qsl((search or "").lstrip("?")) if k not in CHAT_KEYS}
    current = dict(parse_qsl((search or "").lstrip("?")))
    if by and by != current.get("by", "game"):
        subject = None  # a game id is no channel: a new comparison starts without a subject
    chosen = chat_query({"by": by, "subject": subject, "topic": topic})
    pairs.update({k: v for k, v in chosen.items() if v and not (k == "by" and v == "game")})
    return "?" + urlencode(pairs) if pairs else ""
