"""Detection: read a clip of a live channel, score its windows, store windows and moments.

A clip that cannot be had (offline, unreadable, no picture) is recorded in
`highlight_failures` with its reason. A clip that ends early (the stream went offline
mid-clip) or lacks a signal (no, silent or corrupt audio; no chat counts) is still scored
on what it has, and the clip's `problems` say what was missing.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from highlights.cut import cut_moment
from highlights.decode import decode_clip
from highlights.errors import ClipUndecodable
from highlights.features import CHAT_LAG_SECONDS, FEATURES, WINDOW_SECONDS, clip_features
from highlights.model import HighlightModel
from store import HighlightClip, HighlightStore, Moment, StoreError, join_names, pack
from twitch_client import Archive
from twitch_client.clips import ClipUnavailable, read_clip

log = logging.getLogger(__name__)

TOP_FEATURES = 3
EARLY_END_SECONDS = 4.0  # a clip this much shorter than asked: the stream ended in it
MOMENT_LEAD_SECONDS = 8.0  # a moment's video starts this long before its window
MOMENT_SECONDS = 20.0


@dataclass(frozen=True)
class ChannelGame:
    game_id: str = ""
    game_name: str = ""
    genre: str = ""


@dataclass(frozen=True)
class DetectResult:
    login: str
    status: str  # "stored" or the failure's reason
    windows: int = 0
    moments: int = 0
    problems: Mapping[str, str] | None = None


def moments_of(
    model: HighlightModel, start: datetime, probabilities: np.ndarray, rows: np.ndarray
) -> list[Moment]:
    """Windows at or over the model's threshold, each with its strongest reasons."""
    main = model.main
    contributions = main.contributions(rows)
    moments: list[Moment] = []
    for i in np.flatnonzero(probabilities >= main.threshold):
        order = np.argsort(-contributions[i])[:TOP_FEATURES]
        moments.append(
            {
                "time": datetime.fromtimestamp(start.timestamp() + i * WINDOW_SECONDS, UTC),
                "window": int(i),
                "probability": round(float(probabilities[i]), 4),
                "top_features": [
                    {
                        "feature": main.features[j],
                        "contribution": round(float(contributions[i, j]), 3),
                    }
                    for j in order
                    if contributions[i, j] > 0
                ],
            }
        )
    return moments


def clip_document(
    model: HighlightModel,
    start: datetime,
    rows: np.ndarray,
    game: ChannelGame,
    problems: Mapping[str, str],
) -> HighlightClip:
    """A scored clip as `store._highlights` stores it (docs/schema.md, highlight_windows)."""
    probabilities = model.main.probabilities(rows)
    return {
        "start": start,
        "seconds": len(rows) * WINDOW_SECONDS,
        "window_seconds": WINDOW_SECONDS,
        "game_id": game.game_id,
        "game_name": game.game_name,
        "genre": game.genre,
        "probabilities": [round(float(p), 4) for p in probabilities],
        "feature_names": join_names(FEATURES),
        "features": pack(rows, np.dtype("<f4")),
        "moments": moments_of(model, start, probabilities, rows),
        "threshold": round(model.main.threshold, 4),
        "problems": dict(problems),
        "model": model.card.get("trained_at", ""),
    }


class Detector:
    def __init__(
        self,
        model: HighlightModel,
        store: HighlightStore,
        clip_url: str,
        clip_seconds: int,
        shards: Sequence[str],
        *,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
        archive_of: Callable[[str], Archive | None] | None = None,
        keep_moment_clips: bool = True,
    ) -> None:
        self.model = model
        self.store = store
        self.clip_url = clip_url
        self.clip_seconds = clip_seconds
        self.shards = list(shards)
        self.latency_seconds = latency_seconds
        self.clock = clock
        self.archive_of = archive_of  # the channel's current archive (VOD), for links
        self.keep_moment_clips = keep_moment_clips

    def detect(self, login: str, game: ChannelGame | None = None) -> DetectResult:
        asked_at = datetime.fromtimestamp(self.clock(), UTC)
        url = self.clip_url.format(login=login, seconds=self.clip_seconds)
        try:
            data = read_clip(url, self.clip_seconds + 10)
            decoded = decode_clip(data)
        except (ClipUnavailable, ClipUndecodable) as error:
            self.store.record_failure(login, asked_at, error.reason, str(error))
            return DetectResult(login, error.reason)
        windows = int(decoded.seconds // WINDOW_SECONDS)
        if windows == 0:
            reason = f"too short ({decoded.seconds:.1f} s)"
            self.store.record_failure(login, asked_at, reason)
            return DetectResult(login, reason)
        end = self.clock() - self.latency_seconds
        start = datetime.fromtimestamp(math.floor(end - decoded.seconds), UTC)
        problems = dict(decoded.problems)
        if decoded.seconds < self.clip_seconds - EARLY_END_SECONDS:
            problems["clip"] = f"ended early: {decoded.seconds:.0f} of {self.clip_seconds} s"
        chat = self.store.chat_seconds(
            login, start, windows * int(WINDOW_SECONDS) + CHAT_LAG_SECONDS, self.shards
        )
        features = clip_features(
            decoded.audio,
            decoded.frames,
            decoded.fps,
            chat,
            windows,
            self.model.cheer_probabilities,
        )
        for family, reason in features.missing.items():
            problems.setdefault(family, reason)
        clip = clip_document(self.model, start, features.values, game or ChannelGame(), problems)
        if clip["moments"]:
            self._keep_moments(login, data, start, clip["moments"], clip["problems"])
        self.store.write_clip(login, clip)
        moments = clip["moments"]
        return DetectResult(login, "stored", windows, len(moments), problems)

    def _keep_moments(
        self,
        login: str,
        data: bytes,
        start: datetime,
        moments: list[Moment],
        problems: dict[str, str],
    ) -> None:
        """Store each moment's video and link Twitch's archive at the moment; a moment
        whose video or archive cannot be had keeps its row, and `problems` says why."""
        archive = None
        if self.archive_of is not None:
            try:
                archive = self.archive_of(login)
            except Exception as error:  # Twitch down or refusing: moments without a VOD link
                problems["vod"] = f"archive not found ({type(error).__name__}: {error})"
        for moment in moments:
            offset = moment["window"] * WINDOW_SECONDS
            if archive is not None:
                moment["vod_url"] = archive.url_at(moment["time"])
            if not self.keep_moment_clips:
                continue
            try:
                cut = cut_moment(data, max(0.0, offset - MOMENT_LEAD_SECONDS), MOMENT_SECONDS)
                moment["clip_id"] = self.store.write_moment_clip(
                    cut.data,
                    {
                        "login": login,
                        "moment": moment["time"],
                        "start": start + timedelta(seconds=cut.start),
                        "seconds": round(cut.seconds, 3),
                        "moment_offset": round(offset - cut.start, 3),
                        "content_type": "video/mp4",
                    },
                )
                moment["clip_offset"] = round(offset - cut.start, 3)
            except (ClipUndecodable, StoreError) as error:
                problems["moment video"] = f"not kept: {error}"
                log.warning(
                    "highlights: the video of a moment of %s was not kept: %s", login, error
                )
