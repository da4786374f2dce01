"""The highlight records that cross the store's border: an analysed clip, its moments,
and its entry in the day's index by game (`docs/schema.md`, highlight_*)."""

from __future__ import annotations

from datetime import datetime
from typing import NotRequired, TypedDict


class FeatureContribution(TypedDict):
    feature: str
    contribution: float


class Moment(TypedDict):
    """A window at or over the model's threshold, with its strongest reasons."""

    time: datetime  # the window's start
    window: int
    probability: float
    top_features: list[FeatureContribution]
    clip_id: NotRequired[str]  # its video in the `moment_clips` bucket
    clip_offset: NotRequired[float]  # seconds into that video where the window starts
    vod_url: NotRequired[str]  # Twitch's archive of the broadcast at the moment


class HighlightClip(TypedDict):
    """An analysed clip, as `highlight_windows` keeps it under its channel's day."""

    start: datetime
    seconds: float  # analysed: whole windows
    window_seconds: float
    game_id: str
    game_name: str
    genre: str  # "" when unknown
    probabilities: list[float]  # P(highlight) of each window
    feature_names: str  # joined by store._packing.SEPARATOR
    features: bytes  # packed float32, windows × names (`clip_features` unpacks it)
    moments: list[Moment]
    threshold: float
    problems: dict[str, str]  # feature family or "clip" → what was missing
    model: str  # when the model was trained


class HighlightIndexEntry(TypedDict):
    """A clip in its day's `highlight_games` index."""

    key: str  # clip_key(login, start)
    login: str
    game_id: str
    game_name: str
    genre: str
    seconds: float
    moments: int


class SnapshotGame(TypedDict):
    """A channel's game in the newest snapshot, and that game's genre."""

    game_id: str
    game_name: str
    genre: str
