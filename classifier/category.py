"""`label --category-model`: which category (game) each stream's frames show, and the
streams whose frames look unlike their category (a game streamed under Just Chatting, say).

The category model is a game-target model trained on the stored frames of the top
categories (`train --store --target game`, split by channel). A stream's frames — its
thumbnail and the frames sampled across a clip — are labelled like the genre model's, and
their mean class probabilities name the category they look like. A stream *shows another
category* when the model knows its category, names another one, and gives its own category
a mean probability under `OWN_CATEGORY_MAX`: the frames do not look like the category at
all, which also catches a game the model never saw. Flags are stored only from a model
whose validation balanced accuracy on unseen channels reaches the bar genre labels meet
(`CLASSIFIER_MIN_BALANCED_ACCURACY`; its document says `trusted`): a model near chance
spreads its probabilities and would flag at random.
Non-game categories (Just Chatting, Music, …) all show a camera, so for a stream of one of
them "its own" is all of them together (the model card's `class_genres` says which they
are); two game categories that look alike share the probability and so are not flagged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

from classifier.errors import ModelError
from classifier.label import Predictor, is_trusted, label_new_frames, model_document, streams_of
from classifier.model import ModelCard
from classifier.stored import category_of
from store import FrameDocument, FrameStore, StreamCategory
from store.schema import NON_GAME_GENRE

log = logging.getLogger(__name__)

# Below this mean probability of its own category, a stream's frames "show another game".
OWN_CATEGORY_MAX = 0.1


@dataclass
class CategorySummary:
    model_version: str
    frames: int = 0
    unreadable: int = 0
    streams: int = 0
    shows_other: int = 0  # streams whose frames look unlike their category
    unknown_category: int = 0  # streams of a category the model has no class for
    trusted: bool = False  # validation reaches the bar: its flags are stored
    seconds: float = 0.0
    frames_per_second: float = 0.0
    total_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_categories(card: ModelCard) -> None:
    if card.target != "game":
        raise ModelError(
            f"model {card.version} recognises {card.target}s, not categories: train one with "
            "`train --store --target game`"
        )


@dataclass(frozen=True)
class Recognised:
    category: str  # the class of highest mean probability
    confidence: float  # its mean probability
    own_probability: float | None  # the stream's own category's; None: not a class
    shows_other: bool
    names_own: bool = False  # the class named is the stream's category (or one alike it)


def recognise(
    category: str, probabilities: Sequence[Mapping[str, float]], alike: Collection[str] = ()
) -> Recognised:
    """The category a stream's frames look like (mean probability over its frames; ties:
    first in name order), and whether they look unlike the stream's own `category`, which
    counts together with the categories `alike` it (that cannot be told apart from it)."""
    classes = sorted(probabilities[0])
    mean = np.mean([[frame[c] for c in classes] for frame in probabilities], axis=0)
    best = int(mean.argmax())
    if category not in classes:
        return Recognised(classes[best], float(mean[best]), None, False)
    own_group = {category, *alike} & set(classes)
    own = float(sum(mean[classes.index(c)] for c in own_group))
    names_own = classes[best] in own_group
    shows_other = not names_own and own < OWN_CATEGORY_MAX
    return Recognised(classes[best], float(mean[best]), own, shows_other, names_own)


def recognise_for(
    card: ModelCard, category: str, probabilities: Sequence[Mapping[str, float]]
) -> Recognised:
    """`recognise` with this model's non-game categories alike a non-game `category`."""
    non_game = alike_categories(card)
    return recognise(category, probabilities, non_game if category in non_game else ())


def alike_categories(card: ModelCard) -> frozenset[str]:
    """The model's non-game categories: on camera, they all look alike."""
    return frozenset(c for c, genre in card.class_genres.items() if genre == NON_GAME_GENRE)


def recognise_stored_categories(
    frames: FrameStore,
    predict: Predictor,
    *,
    batch_size: int = 256,
    limit: int = 0,
    progress: bool = False,
    clock: Callable[[], datetime] | None = None,
    min_balanced_accuracy: float = 0.5,
) -> CategorySummary:
    """Label every frame this category model has not labelled; store each touched stream's
    recognised category in `stream_categories` (flagged as showing another category only
    when the model's validation reaches `min_balanced_accuracy`)."""
    card = predict.card
    check_categories(card)
    now: datetime = clock() if clock else datetime.now(UTC)
    started = time.perf_counter()
    # `trusted` here: its flags are stored (it never sets genres).
    frames.record_model(model_document(card, min_balanced_accuracy, now))
    trusted = is_trusted(card, min_balanced_accuracy)
    todo, labelled = label_new_frames(
        frames, predict, batch_size=batch_size, limit=limit, progress=progress, now=now
    )
    summary = CategorySummary(
        card.version,
        frames=labelled.frames,
        unreadable=labelled.unreadable,
        seconds=labelled.seconds,
        frames_per_second=labelled.frames_per_second,
        trusted=trusted,
    )
    streams = stream_categories(frames, card, todo, now, flags=trusted)
    frames.write_stream_categories(streams)
    summary.streams = len(streams)
    summary.shows_other = sum(1 for s in streams if s["shows_other"])
    summary.unknown_category = sum(1 for s in streams if s["own_probability"] is None)
    summary.total_seconds = round(time.perf_counter() - started, 3)
    log.info("recognised categories %s", summary.as_dict())
    return summary


def stream_categories(
    frames: FrameStore,
    card: ModelCard,
    labelled: Iterable[FrameDocument],
    now: datetime,
    *,
    flags: bool = True,
) -> list[StreamCategory]:
    """One document per stream that got a new frame label, from all its frames' labels;
    without `flags` (a model below the bar) none is flagged as showing another category."""
    documents: list[StreamCategory] = []
    for stream in streams_of(frames, card.version, labelled):
        seen = recognise_for(card, category_of(stream.meta), stream.probabilities)
        own = None if seen.own_probability is None else round(seen.own_probability, 4)
        document = stream.document(
            card,
            now,
            looks_like=seen.category,
            confidence=round(seen.confidence, 4),
            own_probability=own,
            shows_other=seen.shows_other and flags,
        )
        documents.append(cast(StreamCategory, document))
    return documents
