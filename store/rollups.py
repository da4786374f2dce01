"""Per-snapshot rollups by game, genre and language, computed in Python at write time.

FerretDB v1 lacks most aggregation accumulators, and the dashboard must never scan raw
streams, so every snapshot gets one rollup document per dimension, holding for each
group the number of distinct channels and the sum of their viewers. `written_at` tells
readers which rollups changed since they last looked (rollups are rebuilt when genres
are learned later).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from store.schema import SCHEMA_VERSION, UNKNOWN_GENRE, classifier_genre, slot_key

DIMENSIONS = ("game", "genre", "language", "genre_language", "game_language", "channel")
# Cross dimensions let the dashboard filter one dimension by another (genres within a
# language, say) without raw streams; their keys join the two parts with this separator.
KEY_SEPARATOR = "|"


def compute_rollups(
    slot: datetime,
    streams: Iterable[Mapping[str, Any]],
    genre_of_game: Callable[[str], str],
    written_at: datetime | None = None,
    predicted: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Rollup documents (one per dimension) of one snapshot's stream documents.

    `predicted` maps stream ids to the genre the frame classifier gave them; it counts only
    for streams whose game has no catalogue genre, under a key marked as classifier-based.
    """
    predicted = predicted or {}
    groups: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in DIMENSIONS}
    seen: set[str] = set()
    total_viewers = 0
    for stream in streams:
        if stream["stream_id"] in seen:  # each stream counts once per snapshot
            continue
        seen.add(stream["stream_id"])
        viewers = int(stream["viewer_count"])
        total_viewers += viewers
        genre, language, game = (
            genre_of_game(stream["game_id"]),
            stream["language"],
            stream["game_id"],
        )
        if genre == UNKNOWN_GENRE and stream["stream_id"] in predicted:
            genre = classifier_genre(predicted[stream["stream_id"]])
        keys = {
            "game": (game, stream["game_name"]),
            "genre": (genre, None),
            "language": (language, None),
            "genre_language": (f"{genre}{KEY_SEPARATOR}{language}", None),
            "game_language": (f"{game}{KEY_SEPARATOR}{language}", stream["game_name"]),
        }
        for dimension, (key, name) in keys.items():
            group = groups[dimension].setdefault(key, {"key": key, "channels": 0, "viewers": 0})
            if name is not None:
                group.setdefault("name", name)
            group["channels"] += 1
            group["viewers"] += viewers
        # Per channel: what the streamer page and a game's concentration need, so that the
        # dashboard never reads raw streams.
        channel = groups["channel"].setdefault(
            stream["user_login"],
            {
                "key": stream["user_login"],
                "name": stream.get("user_name", ""),
                "channels": 0,
                "viewers": 0,
                "game_id": game,
                "language": language,
                "rank": stream.get("rank", 0),
            },
        )
        channel["channels"] += 1
        channel["viewers"] += viewers
    return [
        {
            "_id": f"{slot_key(slot)}/{dimension}",
            "slot": slot,
            "dimension": dimension,
            "total_viewers": total_viewers,
            "total_channels": len(seen),
            "groups": sorted(groups[dimension].values(), key=lambda g: (-g["viewers"], g["key"])),
            "written_at": written_at or slot,
            "schema_version": SCHEMA_VERSION,
        }
        for dimension in DIMENSIONS
    ]
