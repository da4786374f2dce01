"""`python -m classifier recognise <login>`: which category a live stream looks like now.

K frames are taken evenly across a few seconds of the live stream (streamlink reads it,
PyAV decodes it: the scheduler's clip sampler), labelled by a category model, and their
probabilities averaged: the top three categories with their mean probability, and whether
the frames match the category the stream is listed under (the same rule as `label
--category-model`; non-game categories count together, since on camera they look alike).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from classifier.category import check_categories, recognise_for
from classifier.dataset import decode
from classifier.errors import ChannelOffline, ClipUnusable
from classifier.label import Predictor
from scheduler.clips import ClipUnavailable, FramesUndecodable, frames_from_clip, read_clip
from twitch_client import TwitchClient

TOP = 3


@dataclass(frozen=True)
class LiveRecognition:
    login: str
    category: str  # the category the stream is listed under
    frames: int
    top: list[tuple[str, float]]  # the TOP categories of highest mean probability
    matches: bool | None  # the best one is the stream's own; None: the model lacks it
    shows_other: bool  # its frames look unlike its category (the `label` rule)
    model_version: str

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["top"] = [{"category": c, "probability": p} for c, p in self.top]
        return document


def recognise_live(
    client: TwitchClient,
    predict: Predictor,
    login: str,
    clip_url: str,
    *,
    frames: int = 8,
    seconds: float = 6.0,
    size: tuple[int, int] = (320, 180),
) -> LiveRecognition:
    """Look at `frames` frames across `seconds` of `login`'s live stream."""
    card = predict.card
    check_categories(card)
    stream = client.live_stream(login)
    if stream is None:
        raise ChannelOffline(f"{login} is not live: there is nothing to look at")
    try:
        clip = read_clip(clip_url.format(login=stream.user_login), seconds)
        jpegs = frames_from_clip(clip, frames, *size)
    except (ClipUnavailable, FramesUndecodable) as error:
        raise ClipUnusable(f"no frames from {login}'s stream: {error}") from error
    images = np.stack([decode(jpeg, card.image_size) for jpeg in jpegs])
    rows = predict(images)
    probabilities = [dict(zip(card.classes, map(float, row), strict=True)) for row in rows]
    mean = rows.mean(axis=0)
    order = np.argsort(-mean, kind="stable")[:TOP]
    seen = recognise_for(card, stream.game_name, probabilities)
    return LiveRecognition(
        login=stream.user_login,
        category=stream.game_name,
        frames=len(jpegs),
        top=[(card.classes[i], round(float(mean[i]), 4)) for i in order],
        matches=None if seen.own_probability is None else seen.names_own,
        shows_other=seen.shows_other,
        model_version=card.version,
    )
