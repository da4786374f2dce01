"""Game metadata for the snapshot: Helix game fields plus genres from the catalogue.

New games are looked up on Helix, their genres asked of IGDB (through `igdb_id`), and the
catalogue resolves those with the curated and override files into genres with sources and
a primary genre. Games already in the store are not fetched again, except games that
still have no genre, which are retried after `RETRY_UNKNOWN_AFTER` (IGDB may learn them,
or it failed before).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from catalogue import Catalogue
from scheduler.documents import game_document
from store import GameDocument
from twitch_client import QuarantinedRecord, TwitchClient
from twitch_client.errors import TwitchError

log = logging.getLogger(__name__)

RETRY_UNKNOWN_AFTER = timedelta(hours=6)


def needs_lookup(game: Mapping[str, Any] | None, now: datetime) -> bool:
    if game is None:
        return True
    if game.get("primary_genre") is not None:
        return False
    updated = game.get("updated_at")
    return not isinstance(updated, datetime) or now - updated >= RETRY_UNKNOWN_AFTER


def look_up_games(
    client: TwitchClient,
    catalogue: Catalogue,
    known: Mapping[str, Mapping[str, Any]],
    game_ids: Iterable[str],
    now: datetime,
) -> tuple[list[GameDocument], list[QuarantinedRecord]]:
    """Documents for the games of this snapshot that are new (or still without a genre)."""
    wanted = sorted({g for g in game_ids if g and needs_lookup(known.get(g), now)})
    if not wanted:
        return [], []
    try:
        games, quarantined = client.games(wanted)
    except TwitchError as error:
        log.warning("game metadata unavailable this run (%s); will retry next run", error)
        return [], []
    try:
        genres = client.igdb_genres(g.igdb_id for g in games if g.igdb_id)
    except TwitchError as error:
        # The curated file still answers for the games it knows; the rest retry later.
        log.warning("IGDB genres unavailable this run (%s); curated genres only", error)
        genres = {}
    documents = [
        game_document(
            game,
            catalogue.resolve(
                game.id,
                game.name,
                game.igdb_id,
                genres.get(game.igdb_id, []),
                now,
                known=known.get(game.id),
            ),
            now,
        )
        for game in games
    ]
    return documents, quarantined
