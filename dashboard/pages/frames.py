"""Frames: sampled stream frames, the genres the classifier sees in them, and the streams
whose frames disagree with their category (a game played under Just Chatting, say): by
genre (the genre model) and by the category itself (a category model, when one labels)."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import dash
from dash import html

from dashboard import tables
from dashboard.cache import ResultCache
from dashboard.components import PageContext, kpi, notice, number, page
from dashboard.figures import DECIMAL
from dashboard.model_quality import model_quality
from dashboard.tables import Column
from store import StoreReader, schema

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
                "No frames in this window. After each half-hourly snapshot, pictures of some "
                "live streams (the top ones and a random few) are taken; they appear here a "
                "minute or two after the snapshot.",
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
    streams = {f["metadata"]["stream_id"] for f in frames}
    recognised = [
        r for r in reader.stream_categories(window.start, window.end) if r["stream_id"] in streams
    ]
    other_game = [r for r in recognised if r.get("shows_other")]
    models = reader.classifier_models(newest_versions(predictions) + newest_versions(recognised))
    # Recognised streams, yet every category model is below the bar: none can be flagged.
    unsure = bool(recognised) and not any(
        m.get("trusted", True) for m in models if m.get("target") == "game"
    )
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
                kpi(
                    "Another game",
                    number(len(other_game)) if recognised and not unsure else "–",
                    "the category model is below the bar: it flags nothing"
                    if unsure
                    else "frames look unlike the category"
                    if recognised
                    else "no category model has labelled yet",
                ),
            ],
            className="kpis",
        )
    ]
    content += model_quality(models)
    if not predictions:
        content.append(
            notice(
                "No frame is labelled yet: frames are labelled in batches once a model is "
                "trained, so genres from pictures appear here later.",
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
        html.H2("Frames show another game than the category"),
        category_table(other_game)
        if other_game
        else notice(
            "No stream is checked against its category: the category model does not yet "
            "reach the validation bar (see Model quality), so it flags nothing."
            if unsure
            else "No stream's frames look unlike its category in this window."
            if recognised
            else "No stream was checked against its category in this window: that needs a "
            "model trained to recognise games, which labels streams in batches once it exists.",
            "empty",
        ),
        html.H2("Genre from frames (games without a catalogue genre)"),
        stream_table("classified", classified)
        if classified
        else notice("Every labelled stream's game has a catalogue genre.", "empty"),
        html.P(
            "Genres from frames count in the genre charts as “<genre> (classifier)”, only for "
            "streams whose game the catalogue cannot place, and only from a model whose "
            "validation balanced accuracy reaches the threshold. " + model_versions(predictions),
            className="footnote",
        ),
    ]
    return content


_images = ResultCache(8 * 2**20)  # frames never change: cache their bytes


def frame_images(reader: StoreReader, ids: Sequence[str]) -> dict[str, bytes]:
    """The frames' bytes, fetching only those not cached (one query for all of them)."""
    found: dict[str, bytes] = {str(k): v for k, v in _images.known(ids).items()}
    for frame_id, data in reader.frame_bytes([i for i in ids if i not in found]).items():
        _images.put(frame_id, data)
        found[frame_id] = data
    return {i: found[i] for i in ids if i in found}


def newest_labels(labels: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Each frame's most recent genre label (a newer model version relabels frames)."""
    chosen: dict[str, Mapping[str, Any]] = {}
    genre_labels = (x for x in labels if x.get("target", "genre") == "genre")
    for label in sorted(genre_labels, key=lambda x: x["labelled_at"]):
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


CATEGORY_COLUMNS: list[Column] = [
    ("slot", "Slot (UTC)", None),
    ("channel", "Channel", None),
    ("category", "Category", None),
    ("own", "Category probability %", DECIMAL),
    ("looks_like", "Frames look like", None),
    ("confidence", "Confidence %", DECIMAL),
    ("frames", "Frames", None),
]


def category_table(rows: Sequence[Mapping[str, Any]]) -> html.Div:
    """The newest TABLE_ROWS streams whose frames look unlike their category."""
    newest = sorted(rows, key=lambda r: (r["slot"], r["confidence"]), reverse=True)[:TABLE_ROWS]
    return tables.table(
        "frames-other-game",
        [
            {
                "slot": r["slot"].strftime("%Y-%m-%d %H:%M"),
                "channel": r.get("user_name") or r["user_login"],
                "category": r.get("game_name", ""),
                "own": round(100 * float(r["own_probability"]), 1),
                "looks_like": r["looks_like"],
                "confidence": round(100 * float(r["confidence"]), 1),
                "frames": r["frames"],
            }
            for r in newest
        ],
        CATEGORY_COLUMNS,
        file_name="frames-other-game",
        page_size=10,
    )


def newest_versions(predictions: Sequence[Mapping[str, Any]]) -> list[str]:
    """The model versions behind these predictions, most recently labelled first."""
    newest: dict[str, Any] = {}
    for p in predictions:
        version, when = p.get("model_version"), p.get("labelled_at") or p["slot"]
        if version and (version not in newest or when > newest[version]):
            newest[version] = when
    return sorted(newest, key=lambda v: (newest[v], v), reverse=True)


def model_versions(predictions: Sequence[Mapping[str, Any]]) -> str:
    versions = Counter(p.get("model_version", "?") for p in predictions)
    if not versions:
        return ""
    return "Model: " + ", ".join(f"{v} ({n} streams)" for v, n in versions.most_common()) + "."
