"""Helix records (the Twitch client's models) as the store's documents."""

from __future__ import annotations

from datetime import datetime

from catalogue import Resolution
from store import documents
from twitch_client.models import Game, QuarantinedRecord, Stream


def stream_document(slot: datetime, stream: Stream, rank: int) -> documents.StreamDocument:
    return documents.stream_document(
        slot,
        rank,
        stream_id=stream.id,
        user_id=stream.user_id,
        user_login=stream.user_login,
        user_name=stream.user_name,
        game_id=stream.game_id,
        game_name=stream.game_name,
        language=stream.language,
        title=stream.title,
        viewer_count=stream.viewer_count,
        started_at=stream.started_at,
        tags=stream.tags,
        is_mature=stream.is_mature,
        thumbnail_url=stream.thumbnail_url,
    )


def game_document(game: Game, resolution: Resolution, seen_at: datetime) -> documents.GameDocument:
    return documents.game_document(
        game.id, game.name, game.box_art_url, game.igdb_id, resolution, seen_at
    )


def quarantine_document(
    slot: datetime, item: QuarantinedRecord, received_at: datetime
) -> documents.QuarantineDocument:
    return documents.quarantine_document(
        slot,
        endpoint=item.endpoint,
        reason=item.reason,
        record=item.record,
        fingerprint=item.fingerprint,
        received_at=received_at,
    )
