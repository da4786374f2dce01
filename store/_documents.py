"""Typed builders of the documents a snapshot writes: `snapshots`, `streams`, `games` and
`quarantine` (`docs/schema.md` documents each field).

They take plain values, not the Twitch client's models, so the store depends on nothing
upstream; `scheduler.documents` turns Helix records into these. The collector, the
emulator's history and the benchmarks all build their documents here, so a field is
added, renamed or typed in one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NotRequired

# typing_extensions: pydantic validates these (spooled batches) and needs its TypedDict on 3.11.
from typing_extensions import TypedDict, Unpack

from catalogue import Resolution
from slots import slot_key
from store._records import stream_key
from store.schema import SCHEMA_VERSION, UNKNOWN_LANGUAGE, snapshot_id


class StreamDocument(TypedDict):
    _id: str
    slot: datetime
    stream_id: str
    rank: int
    user_id: str
    user_login: str
    user_name: str
    game_id: str
    game_name: str
    language: str
    title: str
    viewer_count: int
    started_at: datetime
    tags: list[str]
    is_mature: bool
    thumbnail_url: str


class GameDocument(TypedDict):
    _id: str
    name: str
    box_art_url: str
    igdb_id: str
    is_game: bool
    genres: list[dict[str, Any]]  # {name, source, fetched_at}, strongest source first
    primary_genre: str | None
    primary_source: str | None
    updated_at: datetime
    # Set by the frame labeller for a game the catalogue cannot place (never spooled).
    classifier_genre: NotRequired[str]
    classifier_model: NotRequired[str]


class QuarantineDocument(TypedDict):
    _id: str
    slot: datetime
    endpoint: str
    reason: str
    record: Any
    received_at: datetime


class _SnapshotRequired(TypedDict):
    _id: str
    slot: datetime
    started_at: datetime
    finished_at: datetime
    status: str
    mode: str
    level: str
    top_n: int | None
    stream_count: int
    viewer_count: int
    market_stream_count: int
    market_viewer_count: int
    schema_version: int


class RunFigures(TypedDict, total=False):
    """What the collector records of a run beside the counts (absent where a document is
    not the result of a Helix listing: the emulator's history, the benchmarks)."""

    pages: int
    requests: int
    retries: int
    quarantined: int
    quarantine_share: float
    degraded: bool
    end_reason: str


class SnapshotDocument(_SnapshotRequired, RunFigures):
    """A `snapshots` document."""


def stream_document(
    slot: datetime,
    rank: int,
    *,
    stream_id: str,
    user_id: str,
    user_login: str,
    user_name: str,
    game_id: str,
    game_name: str,
    language: str,
    title: str,
    viewer_count: int,
    started_at: datetime,
    tags: Sequence[str] | None,
    is_mature: bool,
    thumbnail_url: str,
) -> StreamDocument:
    """One live stream at one slot; `rank` 1 is the most watched."""
    return {
        "_id": stream_key(slot, stream_id),
        "slot": slot,
        "stream_id": stream_id,
        "rank": rank,
        "user_id": user_id,
        "user_login": user_login,
        "user_name": user_name,
        "game_id": game_id,
        "game_name": game_name,
        "language": language or UNKNOWN_LANGUAGE,
        "title": title,
        "viewer_count": viewer_count,
        "started_at": started_at,
        "tags": list(tags or []),
        "is_mature": is_mature,
        "thumbnail_url": thumbnail_url,
    }


def snapshot_document(
    slot: datetime,
    *,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    mode: str,
    level: str,
    top_n: int | None,
    streams: Sequence[StreamDocument],
    listed: Sequence[StreamDocument],
    **run: Unpack[RunFigures],
) -> SnapshotDocument:
    """A slot's publication mark: counts of the stored `streams` and of every `listed`
    one (the whole market, or the same top N), and `run`'s own figures (pages, requests,
    retries, quarantine, end_reason)."""
    document: SnapshotDocument = {
        "_id": snapshot_id(slot),
        "slot": slot,
        "started_at": started_at,
        "finished_at": finished_at,
        "status": status,
        "mode": mode,
        "level": level,
        "top_n": top_n,
        "stream_count": len(streams),
        "viewer_count": sum(s["viewer_count"] for s in streams),
        "market_stream_count": len(listed),
        "market_viewer_count": sum(s["viewer_count"] for s in listed),
        **run,
        "schema_version": SCHEMA_VERSION,
    }
    return document


def game_document(
    game_id: str,
    name: str,
    box_art_url: str,
    igdb_id: str,
    resolution: Resolution,
    seen_at: datetime,
) -> GameDocument:
    """A `games` document: Helix metadata and the catalogue's resolution of its genres."""
    return {
        "_id": game_id,
        "name": name,
        "box_art_url": box_art_url,
        "igdb_id": igdb_id,
        "is_game": resolution.is_game,
        "genres": resolution.genres,
        "primary_genre": resolution.primary_genre,
        "primary_source": resolution.primary_source,
        "updated_at": seen_at,
    }


def quarantine_document(
    slot: datetime,
    *,
    endpoint: str,
    reason: str,
    record: Any,
    fingerprint: str,
    received_at: datetime,
) -> QuarantineDocument:
    """A record the API sent that failed validation; `fingerprint` (its text) keys it, so
    the same bad record met twice in one slot is one document."""
    digest = hashlib.sha1(f"{slot_key(slot)}|{endpoint}|{fingerprint}".encode()).hexdigest()
    return {
        "_id": digest[:24],
        "slot": slot,
        "endpoint": endpoint,
        "reason": reason,
        "record": record,
        "received_at": received_at,
    }
