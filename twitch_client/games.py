"""Game metadata from `GET /helix/games` (box art, IGDB id), 100 ids a request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twitch_client.errors import SchemaError
from twitch_client.models import Game, QuarantinedRecord, parse_records

MAX_IDS_PER_REQUEST = 100

FetchGames = Callable[[list[tuple[str, Any]]], Any]


def get_games(fetch: FetchGames, ids: Iterable[str]) -> tuple[list[Game], list[QuarantinedRecord]]:
    """Look up games by Twitch id; unknown ids are simply absent from the result."""
    unique = sorted(set(ids))
    games: list[Game] = []
    quarantined: list[QuarantinedRecord] = []
    for start in range(0, len(unique), MAX_IDS_PER_REQUEST):
        batch = unique[start : start + MAX_IDS_PER_REQUEST]
        body = fetch([("id", game_id) for game_id in batch])
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise SchemaError("games response has no `data` list")
        good, bad = parse_records(Game, body["data"], "helix/games")
        games.extend(good)
        quarantined.extend(bad)
    return games, quarantined
