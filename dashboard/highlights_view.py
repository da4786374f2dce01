"""Highlights on the site: a channel's P(highlight) timeline and moments, and the
highlight moments per stream-hour of each game (docs/metrics.md, highlights).

Read straight from the highlight collections, one day document at a time, for the newest
`HIGHLIGHT_DAYS` days of the window (a year of a followed channel would be a year of
documents), so new clips show without waiting for the market history to reload; a
section is kept until the next clip is written (`_recent`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard import figures, tables
from dashboard.cache import ResultCache
from dashboard.components import kpi, notice, number
from dashboard.figures import DECIMAL, INTEGER
from dashboard.tables import Column
from dashboard.window import Window
from slots import days_between
from store import HighlightClip, HighlightIndexEntry, Moment, StoreReader, parse_clip_key

MOMENT_COLUMNS: list[Column] = [
    ("time", "Time", None),
    ("probability", "P(highlight)", DECIMAL),
    ("game_name", "Game", None),
    ("why", "Strongest signals", None),
]
GAME_COLUMNS: list[Column] = [
    ("game_name", "Game", None),
    ("genre", "Genre", None),
    ("channels", "Channels analysed", INTEGER),
    ("hours", "Stream-hours analysed", DECIMAL),
    ("moments", "Moments", INTEGER),
    ("per_hour", "Moments per stream-hour", DECIMAL),
]


HIGHLIGHT_DAYS = 31
MOMENT_VIDEOS = 6  # the newest moments' videos shown on a channel's page
# A section is reused until a clip is written (and for ten minutes at most).
_recent = ResultCache(8 * 2**20, ttl_seconds=600)


def _cached(key: tuple[object, ...], compute: Callable[[], list[Any]]) -> list[Any]:
    return _recent.get(key, compute)


def shown_window(window: Window) -> Window:
    """The part of `window` whose highlights are shown: its newest HIGHLIGHT_DAYS days."""
    return Window(max(window.start, window.end - timedelta(days=HIGHLIGHT_DAYS)), window.end)


def _covers(window: Window) -> str:
    if shown_window(window).start == window.start:
        return ""
    return f" Highlights cover the newest {HIGHLIGHT_DAYS} days of the window."


def _clips(reader: StoreReader, window: Window, login: str) -> list[HighlightClip]:
    shown = shown_window(window)
    days = days_between(shown.start, shown.end)
    return [c for c in reader.highlight_clips(login, days) if shown.start <= c["start"] < shown.end]


def window_series(clips: list[HighlightClip]) -> pd.Series:
    """P(highlight) of every analysed window, by its start time (UTC)."""
    times, values = [], []
    for clip in clips:
        step = pd.Timedelta(seconds=float(clip["window_seconds"]))
        start = pd.Timestamp(clip["start"])
        for i, p in enumerate(clip["probabilities"]):
            times.append(start + i * step)
            values.append(float(p))
    return pd.Series(values, index=pd.DatetimeIndex(times), dtype=float).sort_index()


def channel_highlights(reader: StoreReader, window: Window, login: str, timezone: str) -> list[Any]:
    clips = _clips(reader, window, login)
    heading = html.H3("Highlights", id="highlights")
    if not clips:
        return [
            heading,
            notice(
                f"No clip of {login} was analysed for highlights in this window. Highlights "
                "are found in followed channels (and, where the site analyses them, the top "
                "channels): while such a channel is live, a clip of it is analysed every few "
                "minutes and its moments appear here.",
                "empty",
            ),
        ]
    series = window_series(clips)
    moments = [(m, clip.get("game_name", "")) for clip in clips for m in clip["moments"]]
    hours = sum(float(c["seconds"]) for c in clips) / 3600
    threshold = float(clips[-1].get("threshold", 0.5))
    x = figures.local_times(series.index, timezone)
    # Plain lists of strings and floats: Plotly validates them far faster than Timestamps
    # or a colour per point (a week of one channel is thousands of windows).
    times = [t.strftime("%Y-%m-%dT%H:%M:%S") for t in x]
    values = series.tolist()
    above = [i for i, p in enumerate(values) if p >= threshold]
    chart = go.Figure(
        [
            go.Scatter(
                x=times,
                y=values,
                mode="markers",
                name="P(highlight)",
                marker=dict(size=6, color="#1f77b4"),
                hovertemplate="%{x}: %{y:.2f}<extra></extra>",
            ),
            go.Scatter(
                x=[times[i] for i in above],
                y=[values[i] for i in above],
                mode="markers",
                name="moment",
                marker=dict(size=9, color="#d62728"),
                hovertemplate="%{x}: %{y:.2f}<extra>moment</extra>",
            ),
        ]
    )
    chart.add_hline(y=threshold, line_dash="dot", annotation_text="moment")
    chart.update_layout(**figures.LAYOUT, title=f"{login}: P(highlight) of each 10-second window")
    chart.update_xaxes(title_text=f"Time ({timezone})")
    chart.update_yaxes(title_text="P(highlight)", range=[0, 1.02])
    newest_first = sorted(moments, key=lambda pair: pair[0]["time"], reverse=True)
    shown_at = figures.local_times(
        pd.DatetimeIndex([m["time"] for m, _ in newest_first], tz="UTC"), timezone
    )
    rows = [
        {
            "time": at.strftime("%Y-%m-%d %H:%M:%S"),
            "probability": m["probability"],
            "game_name": game_name,
            "why": ", ".join(f["feature"] for f in m["top_features"]),
        }
        for at, (m, game_name) in zip(shown_at, newest_first, strict=True)
    ]
    problems = sorted({f"{k}: {v}" for c in clips for k, v in c.get("problems", {}).items()})
    return [
        heading,
        html.Div(
            [
                kpi("Analysed", f"{hours * 60:,.0f} min", f"{len(clips)} clips"),
                kpi("Moments", number(len(moments)), f"P ≥ {threshold:.2f}"),
                kpi("Per stream-hour", f"{len(moments) / hours:,.1f}" if hours else "–", ""),
            ],
            className="kpis",
        ),
        dcc.Graph(id="highlights-timeline", figure=chart, config=figures.GRAPH_CONFIG),
        tables.table(
            "highlights-moments", rows, MOMENT_COLUMNS, file_name=f"{login}-moments", page_size=10
        ),
        *moment_videos(newest_first, shown_at),
        html.P(
            (
                "Some clips lacked a signal and were scored on the rest: " + "; ".join(problems[:5])
                if problems
                else "Every clip had sound, picture and chat."
            )
            + _covers(window),
            className="footnote",
        ),
    ]


def moment_videos(newest_first: list[tuple[Moment, str]], shown_at: pd.DatetimeIndex) -> list[Any]:
    """The newest moments with a kept video: a player each (starting at the moment) and a
    link to Twitch's archive of the broadcast at that moment, when it has one."""
    cards: list[html.Div] = []
    for at, (moment, game_name) in zip(shown_at, newest_first, strict=True):
        if len(cards) == MOMENT_VIDEOS:
            break
        clip_id, vod = moment.get("clip_id"), moment.get("vod_url")
        if not clip_id and not vod:
            continue
        parts: list[Any] = [
            html.Div(
                f"{at:%Y-%m-%d %H:%M:%S} · P {moment['probability']:.2f}"
                + (f" · {game_name}" if game_name else ""),
                className="moment-caption",
            )
        ]
        if clip_id:
            start = float(moment.get("clip_offset", 0.0))
            parts.insert(
                0,
                html.Video(
                    src=f"/clips/{clip_id}.mp4#t={start:.1f}",
                    controls=True,
                    preload="metadata",
                    className="moment-video",
                    id=f"moment-video-{clip_id}",
                ),
            )
        if vod:
            parts.append(
                html.A("Watch on Twitch at this moment", href=vod, target="_blank", rel="noopener")
            )
        cards.append(html.Div(parts, className="moment-card"))
    if not cards:
        return []
    return [html.H4("Watch the newest moments"), html.Div(cards, className="moment-grid")]


def game_highlight_rows(entries: list[HighlightIndexEntry]) -> list[dict[str, Any]]:
    """Per game: channels and stream-hours analysed, moments, moments per stream-hour."""
    seconds: dict[str, float] = defaultdict(float)
    moments: dict[str, int] = defaultdict(int)
    channels: dict[str, set[str]] = defaultdict(set)
    names: dict[str, tuple[str, str]] = {}
    for entry in entries:
        game = str(entry.get("game_id", ""))
        seconds[game] += float(entry["seconds"])
        moments[game] += int(entry["moments"])
        channels[game].add(str(entry["login"]))
        names[game] = (
            str(entry.get("game_name", "")) or "Unknown game",
            str(entry.get("genre", "")),
        )
    rows = [
        {
            "game_id": game,
            "game_name": names[game][0],
            "genre": names[game][1],
            "channels": len(channels[game]),
            "hours": round(seconds[game] / 3600, 3),
            "moments": moments[game],
            "per_hour": round(moments[game] / (seconds[game] / 3600), 2) if seconds[game] else None,
        }
        for game in seconds
    ]
    return sorted(rows, key=lambda r: (-(r["per_hour"] or 0), r["game_name"]))


def game_highlights(reader: StoreReader, window: Window) -> list[Any]:
    """The Games page's highlights table (reused until a clip is written)."""
    key = ("games", id(reader), reader.highlights_written_at(), window)
    return _cached(key, lambda: _game_highlights(reader, window))


def _game_highlights(reader: StoreReader, window: Window) -> list[Any]:
    shown = shown_window(window)
    entries = [
        e
        for e in reader.highlight_game_clips(days_between(shown.start, shown.end))
        if shown.start <= parse_clip_key(e["key"])[1] < shown.end
    ]
    heading = html.H3("Highlight moments per stream-hour")
    if not entries:
        return [heading, notice("No clip was analysed for highlights in this window.", "empty")]
    return [
        heading,
        html.P(
            "Moments detected in the analysed clips of each game, per hour of clip analysed "
            "(channels followed for highlights, and the top channels where those are analysed)."
            + _covers(window),
            className="footnote",
        ),
        tables.table(
            "games-highlights",
            game_highlight_rows(entries),
            GAME_COLUMNS,
            file_name="highlights-by-game",
            page_size=10,
        ),
    ]
