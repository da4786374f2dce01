"""Helix records (the Twitch client's models) as the store's store."""

from __future__ import annotations

from datetime import datetime

import store
from catalogue import Resolution
from twitch_client.models import Game, QuarantinedRecord, Stream


def stream_document(slot: datetime, stream: Stream, rank: int) -> store.StreamDocument:
    return store.stream_document(
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


def game_document(game: Game, resolution: Resolution, seen_at: datetime) -> store.GameDocument:
    return store.game_document(
        game.id, game.name, game.box_art_url, game.igdb_id, resolution, seen_at
    )


def quarantine_document(
    slot: datetime, item: QuarantinedRecord, received_at: datetime
) -> store.QuarantineDocument:
    return store.quarantine_document(
        slot,
        endpoint=item.endpoint,
        reason=item.reason,
        record=item.record,
        fingerprint=item.fingerprint,
        received_at=received_at,
    )
