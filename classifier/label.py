"""`label`: genres for stored frames, then for their streams, then rebuilt rollups.

Each frame the model version has not labelled yet gets a label (its class probabilities);
a frame that cannot be decoded gets a label saying so, so it is reported once and never
retried in a loop, and its bytes stay in GridFS. Each stream gets a genre from its frames
(below). A game without a catalogue genre gets the genre of most of its labelled streams
(weighted by confidence, `game_genres`); slots whose streams got a genre have their
rollups rebuilt, so such a game's streams count under it (`schema.genre_of_stream`).

A stream's genre is the class with the highest mean probability over its frames, and its
confidence that mean, capped at `1 - 1 / (2 (n + 1))` for `n` frames (0.75 for one frame,
0.875 for three): frames of one stream are far from independent, so many frames that
agree on a wrong game must not add up to certainty (a product of frame probabilities
would). Classifier genres reach the rollups only from a model whose card shows a
validation balanced accuracy of at least the threshold (`CLASSIFIER_MIN_BALANCED_ACCURACY`);
a weaker model still labels frames and streams for the Frames page, and the genres earlier
untrusted models gave games are withdrawn. Every model that labels is recorded in
`classifier_models` with its quality.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import numpy as np
from tqdm import tqdm

from catalogue.genres import IGDB_GENRES
from classifier.dataset import decode
from classifier.errors import ModelError
from classifier.model import ModelCard
from store import (
    ClassifierModel,
    FrameDocument,
    FrameLabel,
    FrameMetadata,
    FrameStore,
    StreamGenre,
    frame_stream_key,
    label_id,
    schema,
)

log = logging.getLogger(__name__)

# Frames whose bytes one store query fetches: few queries (see `_decoded_batches`), while
# the bytes held stay small (thumbnails of tens of KB: some tens of MB).
READ_BATCH = 2048

# A stream "disagrees" with its category when the frames say another genre at least this
# surely (a game played under Just Chatting, say).
DISAGREEMENT_CONFIDENCE = 0.6


class Predictor(Protocol):
    card: ModelCard
    on_gpu: bool

    def __call__(self, images: np.ndarray) -> np.ndarray: ...


@dataclass
class LabelSummary:
    model_version: str
    frames: int = 0
    unreadable: int = 0
    streams: int = 0
    disagreements: int = 0
    slots_rebuilt: int = 0
    trusted: bool = False  # whether its genres count in the rollups
    genres_withdrawn: int = 0  # games whose genre from an untrusted model was removed
    seconds: float = 0.0  # reading, decoding and classifying frames, writing their labels
    frames_per_second: float = 0.0
    total_seconds: float = 0.0  # also stream genres and the rollup rebuilds
    device: str = "cpu"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_classes(card: ModelCard) -> None:
    """The model must name catalogue genres, or its labels would mean nothing here."""
    if card.target != "genre":
        raise ModelError(f"model {card.version} recognises {card.target}s, not genres")
    allowed = set(IGDB_GENRES) | {schema.NON_GAME_GENRE}
    unknown = sorted(set(card.classes) - allowed)
    if unknown:
        raise ModelError(
            f"model {card.version} has classes the catalogue does not know: {unknown}; "
            "retrain it on catalogue genres"
        )


def aggregate(probabilities: Sequence[Mapping[str, float]]) -> tuple[str, float]:
    """(genre, confidence) of a stream from its frames' class probabilities: the class of
    highest mean probability (ties: first in name order), its mean capped at
    1 - 1 / (2 (n + 1)): never certainty, however many frames agree."""
    classes = sorted(probabilities[0])
    mean = np.mean([[frame[c] for c in classes] for frame in probabilities], axis=0)
    best = int(mean.argmax())
    cap = 1 - 1 / (2 * (len(probabilities) + 1))
    return classes[best], float(min(mean[best], cap))


def is_trusted(card: ModelCard, min_balanced_accuracy: float) -> bool:
    """Whether the model's validation games show it good enough for the market rollups."""
    quality = card.validation_balanced_accuracy()
    return quality is not None and quality >= min_balanced_accuracy


def card_document(card: ModelCard, now: datetime) -> ClassifierModel:
    """What the store keeps of any model that labels: its classes and validation quality."""
    return {
        "_id": card.version,
        "target": card.target,
        "classes": card.classes,
        "trained_at": card.trained_at,
        "data": card.data,
        "temperature": card.temperature,
        "validation": card.validation,
        "backbone": card.network(),
        "recorded_at": now,
    }


def model_document(card: ModelCard, min_balanced_accuracy: float, now: datetime) -> ClassifierModel:
    """A genre model's card document, with whether its genres count in the market rollups."""
    document = card_document(card, now)
    document["min_balanced_accuracy"] = min_balanced_accuracy
    document["trusted"] = is_trusted(card, min_balanced_accuracy)
    return document


def label_stored_frames(
    frames: FrameStore,
    predict: Predictor,
    *,
    batch_size: int = 256,
    limit: int = 0,
    progress: bool = False,
    clock: Callable[[], datetime] | None = None,
    min_balanced_accuracy: float = 0.5,
) -> LabelSummary:
    """Label every frame this model version has not labelled; update streams and rollups."""
    card = predict.card
    check_classes(card)
    now: datetime = clock() if clock else datetime.now(UTC)
    started = time.perf_counter()
    summary = LabelSummary(card.version, device="gpu" if predict.on_gpu else "cpu")
    model = model_document(card, min_balanced_accuracy, now)
    frames.record_model(model)
    summary.trusted = bool(model["trusted"])
    todo, labelled = label_new_frames(
        frames, predict, batch_size=batch_size, limit=limit, progress=progress, now=now
    )
    summary.frames, summary.unreadable = labelled.frames, labelled.unreadable
    summary.seconds, summary.frames_per_second = labelled.seconds, labelled.frames_per_second
    streams = _stream_genres(frames, card, todo, now)
    slots = frames.write_stream_genres(streams)
    if summary.trusted:
        frames.set_classifier_genres(game_genres(streams), card.version)
    withdrawn = frames.withdraw_untrusted_classifier_genres()
    slots |= frames.slots_of_games(withdrawn)
    summary.genres_withdrawn = len(withdrawn)
    summary.streams = len(streams)
    summary.disagreements = sum(1 for s in streams if s["disagrees"])
    frames.rebuild_rollups(*sorted(slots))
    summary.slots_rebuilt = len(slots)
    summary.total_seconds = round(time.perf_counter() - started, 3)
    log.info("labelled %s", summary.as_dict())
    return summary


@dataclass
class FramesLabelled:
    frames: int = 0
    unreadable: int = 0
    seconds: float = 0.0  # reading, decoding and classifying frames, writing their labels
    frames_per_second: float = 0.0


def label_new_frames(
    frames: FrameStore,
    predict: Predictor,
    *,
    batch_size: int,
    limit: int,
    progress: bool,
    now: datetime,
) -> tuple[list[FrameDocument], FramesLabelled]:
    """Label every stored frame this model version has not labelled (at most `limit`, 0:
    all); return those frames' documents and what it took."""
    card = predict.card
    done = frames.labelled_frame_ids(card.version)
    todo = sorted(
        (d for d in frames.frame_documents() if d["_id"] not in done),
        key=lambda d: (d["metadata"]["slot"], d["_id"]),
    )
    if limit:
        todo = todo[:limit]
    result = FramesLabelled()
    started = time.perf_counter()
    bar = tqdm(total=len(todo), unit="frame", disable=not progress, desc=f"label {card.target}")
    for batch in _one_ahead(_decoded_batches(frames, todo, batch_size, card.image_size)):
        labels = _label_batch(predict, batch, now)
        frames.write_labels(labels)
        result.frames += len(labels)
        result.unreadable += len(batch.unreadable)
        bar.update(len(labels))
    bar.close()
    seconds = time.perf_counter() - started
    result.seconds = round(seconds, 3)
    result.frames_per_second = round(result.frames / seconds, 1) if seconds else 0.0
    return todo, result


@dataclass
class DecodedBatch:
    """One batch of frames read from the store: the decoded images of the readable ones,
    and why each of the others could not be read."""

    readable: list[FrameDocument]
    images: np.ndarray | None  # one per readable frame; None when there is none
    unreadable: list[tuple[FrameDocument, str]]


def _one_ahead(items: Iterator[DecodedBatch]) -> Iterator[DecodedBatch]:
    """`items`, each computed in a worker thread while the caller works on the one before:
    the database driver, Pillow's decoder and the interpreter all release the GIL, so on
    two cores reading, decoding and classifying overlap instead of taking turns. One item
    ahead at most, so memory holds two batches of arrays."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="frame-reader") as worker:
        pending = worker.submit(next, items, None)
        while (item := pending.result()) is not None:
            pending = worker.submit(next, items, None)
            yield item


def _decoded_batches(
    frames: FrameStore, todo: Sequence[FrameDocument], batch_size: int, size: int
) -> Iterator[DecodedBatch]:
    """`todo` in batches of `batch_size` decoded frames, their bytes fetched `READ_BATCH`
    frames a query: FerretDB v1 answers each chunks query by scanning every stored chunk,
    so a query per inference batch would cost a scan of the whole store each."""
    for start in range(0, len(todo), READ_BATCH):
        part = todo[start : start + READ_BATCH]
        data = frames.read_frames([d["_id"] for d in part])
        for first in range(0, len(part), batch_size):
            yield _decode_batch(part[first : first + batch_size], data, size)


def _decode_batch(
    batch: Sequence[FrameDocument], data: Mapping[str, bytes], size: int
) -> DecodedBatch:
    readable, images, unreadable = [], [], []
    for document in batch:
        try:
            images.append(decode(data.get(document["_id"], b""), size))
        except ValueError as error:
            unreadable.append((document, str(error)))
            continue
        readable.append(document)
    return DecodedBatch(readable, np.stack(images) if images else None, unreadable)


def _label_batch(predict: Predictor, batch: DecodedBatch, now: datetime) -> list[FrameLabel]:
    card = predict.card

    def base(document: FrameDocument) -> dict[str, Any]:
        return {
            "_id": label_id(document["_id"], card.version),
            "frame_id": document["_id"],
            "model_version": card.version,
            "target": card.target,  # what the label names: a genre, or a game (category)
            "stream_key": frame_stream_key(document["metadata"]),
            "slot": document["metadata"]["slot"],
            "stream_id": document["metadata"]["stream_id"],
            "labelled_at": now,
        }

    labels = [{**base(d), "status": "unreadable", "error": why} for d, why in batch.unreadable]
    if batch.images is not None:
        probabilities = predict(batch.images)
        for document, row in zip(batch.readable, probabilities, strict=True):
            best = int(row.argmax())
            labels.append(
                {
                    **base(document),
                    "status": "ok",
                    card.target: card.classes[best],
                    "confidence": round(float(row[best]), 4),
                    "probabilities": {
                        c: round(float(p), 5) for c, p in zip(card.classes, row, strict=True)
                    },
                }
            )
    return cast(list[FrameLabel], labels)  # their class key is the model's target


@dataclass(frozen=True)
class StreamFrames:
    """One stream's labelled frames under one model version: what both the genre and the
    category job aggregate."""

    key: str
    meta: FrameMetadata  # the metadata of one of its frames: slot, stream, channel, game
    probabilities: list[Mapping[str, float]]  # one per readable frame

    def document(self, card: ModelCard, now: datetime, **fields: Any) -> dict[str, Any]:
        """The stream's stored document: who and what it is, then `fields`, then how many
        frames which model labelled when."""
        meta = self.meta
        return {
            "_id": self.key,
            "slot": meta["slot"],
            "stream_id": meta["stream_id"],
            "user_login": meta["user_login"],
            "user_name": meta.get("user_name", ""),
            "game_id": meta["game_id"],
            "game_name": meta.get("game_name", ""),
            **fields,
            "frames": len(self.probabilities),
            "model_version": card.version,
            "labelled_at": now,
        }


def streams_of(
    frames: FrameStore, version: str, labelled: Iterable[FrameDocument]
) -> list[StreamFrames]:
    """The streams of the newly `labelled` frames, each with every readable frame label
    that model `version` gave it (not only the new ones), in key order."""
    metas = {frame_stream_key(d["metadata"]): d["metadata"] for d in labelled}
    if not metas:
        return []
    by_stream: dict[str, list[Mapping[str, float]]] = defaultdict(list)
    for label in frames.labels_of_streams(version, metas):
        if label.get("status") == "ok":
            by_stream[label["stream_key"]].append(label["probabilities"])
    return [StreamFrames(key, metas[key], by_stream[key]) for key in sorted(by_stream)]


def _stream_genres(
    frames: FrameStore, card: ModelCard, labelled: Iterable[FrameDocument], now: datetime
) -> list[StreamGenre]:
    """One document per stream that got a new frame label, from all its frames' labels."""
    streams = streams_of(frames, card.version, labelled)
    games = frames.games({s.meta["game_id"] for s in streams})
    documents: list[StreamGenre] = []
    for stream in streams:
        genre, exact = aggregate(stream.probabilities)
        confidence = round(exact, 4)  # decide on the value that is stored
        category_genre = schema.genre_of(games.get(stream.meta["game_id"]))
        disagrees = disagrees_with_category(category_genre, genre, confidence, card.classes)
        document = stream.document(
            card,
            now,
            category_genre=category_genre,
            genre=genre,
            confidence=confidence,
            disagrees=disagrees,
        )
        documents.append(cast(StreamGenre, document))
    return documents


def game_genres(streams: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """For each game the catalogue cannot place: the genre its streams were given, by the
    sum of their confidences (ties: the genre first in name order)."""
    votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for stream in streams:
        if stream["category_genre"] == schema.UNKNOWN_GENRE:
            votes[stream["game_id"]][stream["genre"]] += float(stream["confidence"])
    return {
        game: min(tally, key=lambda genre: (-tally[genre], genre)) for game, tally in votes.items()
    }


def disagrees_with_category(
    category_genre: str, genre: str, confidence: float, classes: list[str]
) -> bool:
    """Only a model that knows the category's genre can contradict it: one trained without a
    Non-game class calls every camera frame some game genre."""
    if category_genre not in classes or confidence < DISAGREEMENT_CONFIDENCE:
        return False  # nothing it could have said instead, or not sure enough to say so
    return genre != category_genre
