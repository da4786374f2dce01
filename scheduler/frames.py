"""Frame sampling after each snapshot: thumbnails of a sample of streams into GridFS.

The sample: the top streams (what most viewers see), a random sample of the rest (the
long tail the classifier must also know), and every stream of a non-game category up to a
budget (where a game may be played under "Just Chatting"). A frame that cannot be had
(offline channel → placeholder, HTTP error, not a JPEG) is recorded in `frame_failures`
and skipped; nothing stops the run.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slots import slot_key
from store import FrameMetadata, FrameStore, GameDocument, StoreError, frame_id, schema
from twitch_client import ThumbnailUnavailable, TwitchClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FramePolicy:
    """Which frames to sample after a snapshot (built from the settings by
    `scheduler.app.frame_policy`; FRAMES_* and CLIP_* in `.env.example`)."""

    top: int
    random: int
    non_game: int
    width: int
    height: int
    max_age: timedelta
    max_count: int
    # Optional live clips (streamlink + PyAV): `clip_frames` frames from `clip_seconds` of
    # each of the top `clip_streams` streams; `clip_url` has a `{login}` placeholder.
    clip_frames: int
    clip_streams: int
    clip_seconds: float
    clip_url: str

    @property
    def enabled(self) -> bool:
        return self.top + self.random + self.non_game > 0


@dataclass
class FrameSummary:
    stored: int = 0
    already: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # reason → count
    deleted: int = 0


def choose_streams(
    streams: Sequence[Mapping[str, Any]],
    games: Mapping[str, GameDocument],
    policy: FramePolicy,
    rng: random.Random,
) -> list[tuple[Mapping[str, Any], str]]:
    """(stream, why) pairs: `top`, `non-game`, then `random`; each stream at most once."""
    ranked = sorted(streams, key=lambda s: s.get("rank", 0))
    chosen: list[tuple[Mapping[str, Any], str]] = [(s, "top") for s in ranked[: policy.top]]
    taken = {s["stream_id"] for s, _ in chosen}
    non_game = [
        s
        for s in ranked
        if s["stream_id"] not in taken
        and schema.genre_of(games.get(s["game_id"])) == schema.NON_GAME_GENRE
    ][: policy.non_game]
    chosen += [(s, "non-game") for s in non_game]
    taken |= {s["stream_id"] for s in non_game}
    rest = [s for s in ranked if s["stream_id"] not in taken]
    chosen += [(s, "random") for s in rng.sample(rest, min(policy.random, len(rest)))]
    return chosen


def frame_metadata(
    slot: datetime,
    stream: Mapping[str, Any],
    why: str,
    policy: FramePolicy,
    size: int,
    source: str = "thumbnail",
    clip_index: int | None = None,
) -> FrameMetadata:
    metadata: FrameMetadata = {
        "slot": slot,
        "stream_id": stream["stream_id"],
        "user_login": stream["user_login"],
        "user_name": stream.get("user_name", ""),
        "game_id": stream["game_id"],
        "game_name": stream.get("game_name", ""),
        "language": stream.get("language", ""),
        "viewer_count": stream.get("viewer_count", 0),
        "rank": stream.get("rank", 0),
        "source": source,
        "sampled_as": why,
        "width": policy.width,
        "height": policy.height,
        "bytes": size,
    }
    if clip_index is not None:
        metadata["clip_index"] = clip_index
    return metadata


def sample_frames(
    client: TwitchClient,
    frames: FrameStore,
    slot: datetime,
    streams: Sequence[Mapping[str, Any]],
    policy: FramePolicy,
    now: datetime,
) -> FrameSummary:
    """Fetch and store this snapshot's sample of thumbnails, then apply retention."""
    summary = FrameSummary()
    if not policy.enabled:
        return summary
    games = frames.games(s["game_id"] for s in streams)
    rng = random.Random(slot_key(slot))  # the same slot samples the same streams
    chosen = choose_streams(streams, games, policy, rng)
    for stream, why in chosen:
        thumbnail = frame_id(slot, stream["stream_id"], "thumbnail")
        if frames.has_frame(thumbnail):
            summary.already += 1
            continue
        try:
            data = client.thumbnail(stream["thumbnail_url"], policy.width, policy.height)
        except ThumbnailUnavailable as error:
            _record_failure(frames, summary, thumbnail, slot, stream, error.reason, str(error), now)
            continue
        frames.put_frame(thumbnail, data, frame_metadata(slot, stream, why, policy, len(data)))
        summary.stored += 1
    if policy.clip_frames:
        for stream, why in [c for c in chosen if c[1] == "top"][: policy.clip_streams]:
            _sample_clip(frames, summary, slot, stream, why, policy, now)
    try:
        summary.deleted = frames.apply_retention(policy.max_age, policy.max_count, now)
    except StoreError as error:
        log.warning("frame retention skipped this run: %s", error)
    return summary


def _sample_clip(
    frames: FrameStore,
    summary: FrameSummary,
    slot: datetime,
    stream: Mapping[str, Any],
    why: str,
    policy: FramePolicy,
    now: datetime,
) -> None:
    from scheduler.clips import ClipUnavailable, FramesUndecodable, frames_from_clip, read_clip

    first = frame_id(slot, stream["stream_id"], "clip")
    if frames.has_frame(first):
        summary.already += policy.clip_frames
        return
    try:
        clip = read_clip(policy.clip_url.format(login=stream["user_login"]), policy.clip_seconds)
        images = frames_from_clip(clip, policy.clip_frames, policy.width, policy.height)
    except (ClipUnavailable, FramesUndecodable) as error:
        _record_failure(
            frames, summary, first, slot, stream, f"clip {error.reason}", str(error), now
        )
        return
    for index, data in enumerate(images):
        frames.put_frame(
            frame_id(slot, stream["stream_id"], "clip", index),
            data,
            frame_metadata(slot, stream, why, policy, len(data), "clip", index),
        )
        summary.stored += 1


def _record_failure(
    frames: FrameStore,
    summary: FrameSummary,
    frame_id: str,
    slot: datetime,
    stream: Mapping[str, Any],
    reason: str,
    detail: str,
    now: datetime,
) -> None:
    summary.failed[reason] += 1
    frames.record_failure(
        {
            "_id": frame_id,
            "slot": slot,
            "stream_id": stream["stream_id"],
            "user_login": stream["user_login"],
            "game_id": stream["game_id"],
            "reason": reason,
            "detail": detail,
            "at": now,
        }
    )
