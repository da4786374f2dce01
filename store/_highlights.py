"""Highlight moments: each analysed clip's window probabilities and moments, per channel
and day, a per-day index of every clip by game (for "moments per stream-hour"), and the
clips that could not be analysed. Readers fetch by `_id` only (FerretDB v1 filters nothing
else without decoding a whole collection, and an `$in` on `_id` is no better), one
document at a time; docs/schema.md documents every field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
from pymongo.database import Database

from slots import day_key, day_of
from store import schema
from store._chat import MINUTE
from store._chat_records import SECOND_FIELDS, ChatMinuteDocument
from store._documents import GameDocument
from store._highlight_records import HighlightClip, HighlightIndexEntry, SnapshotGame
from store._moment_clips import MomentClipMetadata, prune_moment_clips, write_moment_clip
from store._mongo import translate_errors
from store._packing import split_names, unpack
from store._records import (
    HighlightsState,
    MarketState,
    RollupDocument,
    chat_minute_id,
    clip_key,
    highlight_day_id,
    rollup_id,
)

Document = dict[str, Any]


class HighlightStore:
    """Reads and writes the highlight collections of one database."""

    def __init__(self, db: Database[Document]) -> None:
        self.db = db

    def write_moment_clip(self, data: bytes, metadata: MomentClipMetadata) -> str:
        return write_moment_clip(self.db, data, metadata)

    def prune_moment_clips(self, now: datetime, max_age: timedelta, max_count: int) -> int:
        return prune_moment_clips(self.db, now, max_age, max_count)

    def write_clip(self, login: str, clip: HighlightClip) -> None:
        """One analysed clip (`start`, `seconds`, `game_id`, `probabilities`, `moments`…)
        into its channel's day and the day's index; writing it again replaces it."""
        start: datetime = clip["start"]
        day = day_of(start)
        epoch = str(int(start.timestamp()))
        summary = {
            "login": login,
            "game_id": clip["game_id"],
            "game_name": clip["game_name"],
            "genre": clip["genre"],
            "seconds": clip["seconds"],
            "moments": len(clip["moments"]),
        }
        with translate_errors(f"writing highlights of {login}"):
            self.db[schema.HIGHLIGHT_WINDOWS].update_one(
                {"_id": highlight_day_id(day, login)},
                {
                    "$set": {
                        f"clips.{epoch}": dict(clip),
                        "day": day,
                        "login": login,
                        "schema_version": schema.SCHEMA_VERSION,
                    }
                },
                upsert=True,
            )
            self.db[schema.HIGHLIGHT_GAMES].update_one(
                {"_id": day_key(day)},
                {"$set": {f"clips.{clip_key(login, start)}": summary, "day": day}},
                upsert=True,
            )
            self.db[schema.META].update_one(
                {"_id": HighlightsState.ID},
                {"$set": {"written_at": datetime.now(UTC)}},
                upsert=True,
            )

    def record_failure(self, login: str, at: datetime, reason: str, detail: str = "") -> None:
        document = {
            "_id": clip_key(login, at),
            "login": login,
            "at": at,
            "reason": reason,
            "detail": detail[:500],
        }
        with translate_errors(f"recording a highlight failure of {login}"):
            self.db[schema.HIGHLIGHT_FAILURES].replace_one(
                {"_id": document["_id"]}, document, upsert=True
            )

    def chat_seconds(
        self, login: str, start: datetime, seconds: int, shards: Sequence[str]
    ) -> np.ndarray | None:
        """The channel's per-second chat counts (seconds × SECOND_FIELDS) from `start`, or
        None when the chat reader did not count it per second in that time."""
        out = np.zeros((seconds, len(SECOND_FIELDS)), np.int64)
        found_any = False
        first = start.replace(second=0, microsecond=0)
        minute = first
        with translate_errors(f"reading chat seconds of {login}"):
            while minute < start + timedelta(seconds=seconds):
                for shard in shards:
                    minute_id = chat_minute_id(minute, shard)
                    found = self.db[schema.CHAT_MINUTES].find_one({"_id": minute_id})
                    document = cast(ChatMinuteDocument | None, found)
                    for entry in document["channels"] if document else []:
                        if entry["channel"] != login or "seconds" not in entry:
                            continue
                        found_any = True
                        per_second = cast(Mapping[str, list[int]], entry["seconds"])
                        counts = np.array([per_second[f] for f in SECOND_FIELDS]).T
                        offset = int((minute - start).total_seconds())
                        lo, hi = max(0, offset), min(seconds, offset + 60)
                        if hi > lo:
                            out[lo:hi] += counts[lo - offset : hi - offset]
                minute += MINUTE
        return out if found_any else None


def read_channel_clips(
    db: Database[Document], login: str, days: Iterable[datetime]
) -> list[HighlightClip]:
    """Every analysed clip of a channel on these days, oldest first."""
    ids = [highlight_day_id(day_of(d), login) for d in days]
    with translate_errors("reading highlights"):
        found = [d for i in ids if (d := db[schema.HIGHLIGHT_WINDOWS].find_one({"_id": i}))]
    clips = [cast(HighlightClip, c) for d in found for c in d.get("clips", {}).values()]
    for clip in clips:
        if clip["start"].tzinfo is None:
            clip["start"] = clip["start"].replace(tzinfo=UTC)
    return sorted(clips, key=lambda c: c["start"])


def highlights_written_at(db: Database[Document]) -> datetime | None:
    """When the newest clip was stored (readers cache what they built until it changes)."""
    with translate_errors("reading the highlights state"):
        state = db[schema.META].find_one({"_id": HighlightsState.ID})
    return HighlightsState.from_document(state).written_at


def clip_features(clip: HighlightClip) -> dict[str, list[float]]:
    """A stored clip's features, name → the value of each window (they are stored packed:
    float32, zlib, windows × names, the names joined by `store._packing.SEPARATOR`)."""
    windows = len(clip["probabilities"])
    names = split_names(str(clip["feature_names"]), 1)
    values = unpack(clip["features"], np.dtype("<f4"), (windows, len(names)))
    return {name: values[:, i].tolist() for i, name in enumerate(names)}


def read_game_clips(db: Database[Document], days: Iterable[datetime]) -> list[HighlightIndexEntry]:
    """The index entries (login, game, seconds, moments) of every clip of these days."""
    ids = [day_key(day_of(d)) for d in days]
    with translate_errors("reading highlights by game"):
        found = [d for i in ids if (d := db[schema.HIGHLIGHT_GAMES].find_one({"_id": i}))]
    return [
        cast(HighlightIndexEntry, {"key": key, **entry})
        for document in found
        for key, entry in document["clips"].items()
    ]


def newest_channel_games(db: Database[Document], limit: int) -> dict[str, SnapshotGame]:
    """The newest snapshot's top `limit` channels, most watched first: login → game id,
    game name and the game's genre (`schema.genre_of_stream`)."""
    with translate_errors("reading the newest snapshot's channels"):
        slot = MarketState.from_document(
            db[schema.META].find_one({"_id": MarketState.ID})
        ).newest_slot
        if slot is None:
            return {}
        channels = cast(
            RollupDocument | None, db[schema.ROLLUPS].find_one({"_id": rollup_id(slot, "channel")})
        )
        games = cast(
            RollupDocument | None, db[schema.ROLLUPS].find_one({"_id": rollup_id(slot, "game")})
        )
        groups = sorted(
            channels["groups"] if channels else [], key=lambda g: (-g["viewers"], g["key"])
        )
        groups = groups[:limit]
        ids = sorted({str(g.get("game_id", "")) for g in groups} - {""})
        found = db[schema.GAMES].find({"_id": {"$in": ids}})
        catalogue = {d["_id"]: cast(GameDocument, d) for d in found}
    names = {g["key"]: g.get("name", "") for g in games["groups"]} if games else {}
    return {
        g["key"]: {
            "game_id": str(g.get("game_id", "")),
            "game_name": names.get(str(g.get("game_id", "")), ""),
            "genre": schema.genre_of_stream(catalogue.get(str(g.get("game_id", "")))),
        }
        for g in groups
    }
