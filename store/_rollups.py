"""Per-snapshot rollups by game, genre and language, computed in Python at write time.

FerretDB v1 lacks most aggregation accumulators, and the dashboard must never scan raw
streams, so every snapshot gets one rollup document per dimension, holding for each
group the number of distinct channels and the sum of their viewers, and for games,
genres and languages a viewer-count histogram (`store.histogram`), over every stream the
listing found (the whole market, not only the streams stored in full).

Genres are a view of games: the genre rollups are derived from the game rollups, both
when a snapshot is written and when genres change later (`derive_genre_rollups`), so a
rebuild needs only the stored game rollups, never the market's unstored streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, cast

import numpy as np

from store import histogram
from store._documents import StreamDocument
from store._records import RollupDocument, RollupGroup, rollup_id
from store.schema import SCHEMA_VERSION

DIMENSIONS = ("game", "genre", "language", "genre_language", "game_language", "channel")
# Cross dimensions let the dashboard filter one dimension by another (genres within a
# language, say) without raw streams; their keys join the two parts with this separator.
KEY_SEPARATOR = "|"
# Dimensions whose groups carry a `histogram` (the crosses would make documents large).
HISTOGRAM_DIMENSIONS = ("game", "genre", "language")
# Stream tags per game and per language (key "<game id>|<tag>" / "<language>|<tag>", the tag
# case-folded, `name` its first spelling seen), with histograms: which tags are crowded and
# which rare in a directory. Read per slot by `_id`; not part of the day history.
TAG_DIMENSIONS = ("game_tag", "language_tag")

Group = dict[str, Any]


def compute_rollups(
    slot: datetime,
    streams: Iterable[StreamDocument],
    genre_of_game: Callable[[str], str],
    written_at: datetime | None = None,
    channel_limit: int | None = None,
    scope: str = "top",
) -> list[RollupDocument]:
    """Rollup documents (one per dimension) of one snapshot's stream documents.

    `genre_of_game` gives the genre a stream of a game counts under
    (`schema.genre_of_stream` of the game's document).
    `channel_limit`: only streams ranked this high get a `channel` group (the streams
    stored in full); None: every stream. `scope` says what the streams cover: `market`
    (every live stream) or `top` (the most watched only).
    """
    unique: dict[str, StreamDocument] = {}
    for stream in streams:  # each stream counts once per snapshot
        unique.setdefault(stream["stream_id"], stream)
    rows = list(unique.values())
    viewers = np.array([int(s["viewer_count"]) for s in rows], dtype=np.int64)
    bins = histogram.bin_index(viewers) if rows else np.zeros(0, dtype=np.int64)
    games: dict[str, Group] = {}
    game_languages: dict[str, Group] = {}
    languages: dict[str, Group] = {}
    channels: dict[str, Group] = {}
    game_tags: dict[str, Group] = {}
    language_tags: dict[str, Group] = {}
    for stream, count, bin_ in zip(rows, viewers.tolist(), bins.tolist(), strict=True):
        game, language = stream["game_id"], stream["language"]
        for folded, tag in _stream_tags(stream).items():
            _add(game_tags, f"{game}{KEY_SEPARATOR}{folded}", count, bin_, name=tag)
            _add(language_tags, f"{language}{KEY_SEPARATOR}{folded}", count, bin_, name=tag)
        _add(games, game, count, bin_, name=stream["game_name"])
        _add(game_languages, f"{game}{KEY_SEPARATOR}{language}", count, None, stream["game_name"])
        _add(languages, language, count, bin_)
        if channel_limit is None or int(stream.get("rank", 0)) <= channel_limit:
            # What the streamer page and a game's top channels need, without raw streams.
            channel = channels.setdefault(
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
            channel["viewers"] += count
    totals = {"total_viewers": int(viewers.sum()), "total_channels": len(rows)}
    written = written_at or slot
    base = {
        "game": games,
        "language": languages,
        "game_language": game_languages,
        "channel": channels,
        "game_tag": game_tags,
        "language_tag": language_tags,
    }
    documents = {
        d: _rollup_document(slot, d, groups.values(), totals, written, scope)
        for d, groups in base.items()
    }
    genre, genre_language = derive_genre_rollups(
        documents["game"], documents["game_language"], genre_of_game, written
    )
    documents.update(genre=genre, genre_language=genre_language)
    return [documents[d] for d in (*DIMENSIONS, *TAG_DIMENSIONS)]


def _stream_tags(stream: StreamDocument) -> dict[str, str]:
    """A stream's tags, once each whatever their case: case-folded → as written."""
    tags: dict[str, str] = {}
    for tag in stream.get("tags") or []:
        if isinstance(tag, str) and tag:
            tags.setdefault(tag.casefold(), tag)
    return tags


def derive_genre_rollups(
    game_rollup: RollupDocument,
    game_language_rollup: RollupDocument,
    genre_of_game: Callable[[str], str],
    written_at: datetime | None = None,
) -> tuple[RollupDocument, RollupDocument]:
    """The `genre` and `genre_language` rollups of a snapshot from its game rollups."""
    genres: dict[str, Group] = {}
    for group in game_rollup["groups"]:
        _merge(genres, genre_of_game(group["key"]), group)
    genre_languages: dict[str, Group] = {}
    for group in game_language_rollup["groups"]:
        game, _, language = group["key"].rpartition(KEY_SEPARATOR)
        _merge(genre_languages, f"{genre_of_game(game)}{KEY_SEPARATOR}{language}", group)
    slot = game_rollup["slot"]
    totals = {k: game_rollup[k] for k in ("total_viewers", "total_channels")}
    written = written_at or game_rollup.get("written_at") or slot
    scope = str(game_rollup.get("scope", "top"))
    return (
        _rollup_document(slot, "genre", genres.values(), totals, written, scope),
        _rollup_document(slot, "genre_language", genre_languages.values(), totals, written, scope),
    )


def _rollup_document(
    slot: datetime,
    dimension: str,
    groups: Iterable[Group],
    totals: Mapping[str, int],
    written_at: datetime,
    scope: str = "top",
) -> RollupDocument:
    kept: list[Group] = []
    for group in groups:
        if group["channels"] <= 0:
            continue
        if "histogram" in group:
            group = {**group, "histogram": histogram.trimmed(group["histogram"])}
        kept.append(group)
    return {
        "_id": rollup_id(slot, dimension),
        "slot": slot,
        "dimension": dimension,
        "total_viewers": int(totals["total_viewers"]),
        "total_channels": int(totals["total_channels"]),
        "scope": scope,
        # Built as dicts (numpy histograms while summing); stored as the record's groups.
        "groups": cast(list[RollupGroup], sorted(kept, key=lambda g: (-g["viewers"], g["key"]))),
        "written_at": written_at,
        "schema_version": SCHEMA_VERSION,
    }


def _add(
    groups: dict[str, Group],
    key: str,
    viewers: int,
    bin_: int | None,
    name: str | None = None,
    *,
    sign: int = 1,
) -> None:
    group = groups.get(key)
    if group is None:
        group = groups[key] = {"key": key, "channels": 0, "viewers": 0}
        if name is not None:
            group["name"] = name
        if bin_ is not None:
            group["histogram"] = np.zeros(histogram.BIN_COUNT, dtype=np.int64)
    group["channels"] += sign
    group["viewers"] += viewers
    if bin_ is not None:
        group["histogram"][bin_] += sign


def _merge(groups: dict[str, Group], key: str, part: Mapping[str, Any]) -> None:
    group = groups.get(key)
    if group is None:
        group = groups[key] = {"key": key, "channels": 0, "viewers": 0}
        if "histogram" in part:
            group["histogram"] = np.zeros(histogram.BIN_COUNT, dtype=np.int64)
    group["channels"] += int(part["channels"])
    group["viewers"] += int(part["viewers"])
    if "histogram" in part and "histogram" in group:
        group["histogram"] += histogram.padded(part["histogram"])
