"""Frames: sampled stream frames, the genres the classifier sees in them, and the streams
whose frames disagree with their category (a game played under Just Chatting, say)."""

from __future__ import annotations

import base64
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import dash
from dash import html

from dashboard import tables
from dashboard.components import PageContext, kpi, notice, number, page
from dashboard.figures import DECIMAL
from dashboard.tables import Column
from store import schema
from store.reader import StoreReader

dash.register_page(__name__, path="/frames", name="Frames", title="Genre Radar — Frames", order=5)

GALLERY_SIZE = 24
TABLE_ROWS = 200


def layout(**query: Any) -> html.Div:
    return page("Frames", query, body, memo=False)


def body(ctx: PageContext) -> list[Any]:
    reader = ctx.data.reader
    window = ctx.window
    frames = [
        f
        for f in reader.frames(window.start, window.end)
        if not ctx.filters.language or f["metadata"].get("language") == ctx.filters.language
    ]
    if not frames:
        return [
            notice(
                "No frames in this window: the scheduler samples stream thumbnails after each "
                "snapshot (FRAMES_TOP, FRAMES_RANDOM, FRAMES_NON_GAME).",
                "empty",
            )
        ]
    predictions = [
        p
        for p in reader.stream_genres(window.start, window.end)
        if not ctx.filters.language
        or p.get("stream_id") in {f["metadata"]["stream_id"] for f in frames}
    ]
    newest = sorted(frames, key=lambda f: (f["metadata"]["slot"], -f["metadata"]["viewer_count"]))
    gallery = list(reversed(newest))[:GALLERY_SIZE]
    labels = newest_labels(reader.frame_labels([f["_id"] for f in gallery]))
    images = frame_images(reader, [f["_id"] for f in gallery])
    disagreeing = [p for p in predictions if p.get("disagrees")]
    classified = [p for p in predictions if p.get("category_genre") == schema.UNKNOWN_GENRE]
    content: list[Any] = [
        html.Div(
            [
                kpi("Frames", number(len(frames)), "sampled thumbnails in this window"),
                kpi("Streams labelled", number(len(predictions)), "genre from their frames"),
                kpi(
                    "Genre from frames only",
                    number(len(classified)),
                    "streams of games without a catalogue genre",
                ),
                kpi("Disagreements", number(len(disagreeing)), "frames say another genre"),
            ],
            className="kpis",
        )
    ]
    if not predictions:
        content.append(
            notice(
                "No frame is labelled yet: run `python -m classifier label` after training a "
                "model (`python -m classifier train`).",
                "warning",
            )
        )
    content += [
        html.H2("Newest frames"),
        html.Div(
            [frame_card(f, labels.get(f["_id"]), images.get(f["_id"])) for f in gallery],
            className="frames",
            id="frame-gallery",
        ),
        html.H2("Frames disagree with the category"),
        stream_table("disagreements", disagreeing)
        if disagreeing
        else notice("No stream's frames disagree with its category in this window.", "empty"),
        html.H2("Genre from frames (games without a catalogue genre)"),
        stream_table("classified", classified)
        if classified
        else notice("Every labelled stream's game has a catalogue genre.", "empty"),
        html.P(
            "Genres from frames count in the genre charts as “<genre> (classifier)”, only for "
            "streams whose game the catalogue cannot place. " + model_versions(predictions),
            className="footnote",
        ),
    ]
    return content


_images: OrderedDict[str, bytes] = OrderedDict()  # frames never change: cache their bytes


def frame_images(reader: StoreReader, ids: Sequence[str]) -> dict[str, bytes]:
    """The frames' bytes, fetching only those not cached (one query for all of them)."""
    missing = [i for i in ids if i not in _images]
    for frame_id, data in reader.frame_bytes(missing).items():
        _images[frame_id] = data
    while len(_images) > 4 * GALLERY_SIZE:
        _images.popitem(last=False)
    return {i: _images[i] for i in ids if i in _images}


def newest_labels(labels: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Each frame's most recent label (a newer model version relabels frames)."""
    chosen: dict[str, Mapping[str, Any]] = {}
    for label in sorted(labels, key=lambda x: x["labelled_at"]):
        chosen[label["frame_id"]] = label
    return chosen


def frame_card(
    frame: Mapping[str, Any], label: Mapping[str, Any] | None, image: bytes | None
) -> html.Figure:
    meta = frame["metadata"]
    if label is None:
        verdict = "not labelled yet"
    elif label.get("status") != "ok":
        verdict = f"unreadable: {label.get('error', '')}"
    else:
        verdict = f"{label['genre']} ({label['confidence']:.0%})"
    picture: Any = (
        html.Img(
            src="data:image/jpeg;base64," + base64.b64encode(image).decode(),
            alt=f"{meta['user_login']} playing {meta.get('game_name', '')}",
        )
        if image
        else html.Div("image missing", className="frame-missing")
    )
    return html.Figure(
        [
            picture,
            html.Figcaption(
                [
                    html.Strong(meta.get("user_name") or meta["user_login"]),
                    html.Span(f" · {meta.get('game_name', '')}"),
                    html.Br(),
                    html.Span(verdict, className="frame-genre"),
                ]
            ),
        ],
        className="frame",
    )


STREAM_COLUMNS: list[Column] = [
    ("slot", "Slot (UTC)", None),
    ("channel", "Channel", None),
    ("category", "Category", None),
    ("category_genre", "Category genre", None),
    ("genre", "Frames say", None),
    ("confidence", "Confidence %", DECIMAL),
    ("frames", "Frames", None),
]


def stream_table(name: str, rows: Sequence[Mapping[str, Any]]) -> html.Div:
    """The newest TABLE_ROWS streams, ten to a page."""
    newest = sorted(rows, key=lambda r: (r["slot"], r["confidence"]), reverse=True)[:TABLE_ROWS]
    return tables.table(
        f"frames-{name}",
        [
            {
                "slot": r["slot"].strftime("%Y-%m-%d %H:%M"),
                "channel": r.get("user_name") or r["user_login"],
                "category": r.get("game_name", ""),
                "category_genre": r["category_genre"],
                "genre": r["genre"],
                "confidence": round(100 * float(r["confidence"]), 1),
                "frames": r["frames"],
            }
            for r in newest
        ],
        STREAM_COLUMNS,
        file_name=f"frames-{name}",
        page_size=10,
    )


def model_versions(predictions: Sequence[Mapping[str, Any]]) -> str:
    versions = Counter(p.get("model_version", "?") for p in predictions)
    if not versions:
        return ""
    return "Model: " + ", ".join(f"{v} ({n} streams)" for v, n in versions.most_common()) + "."
