"""Genres from IGDB v4 (`POST /v4/games` with an Apicalypse query), by IGDB game id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twitch_client.errors import SchemaError

MAX_IDS_PER_QUERY = 500

PostQuery = Callable[[str, str], Any]


def genres_query(igdb_ids: list[str]) -> str:
    """The Apicalypse query for the genre names of these games."""
    ids = ",".join(str(int(i)) for i in igdb_ids)
    return f"fields id,name,genres.name; where id = ({ids}); limit {MAX_IDS_PER_QUERY};"


def game_genres(post: PostQuery, igdb_ids: Iterable[str]) -> dict[str, list[str]]:
    """IGDB id → genre names (in IGDB's order); games IGDB does not know are absent."""
    unique = sorted({i for i in igdb_ids if i.isdigit()}, key=int)
    genres: dict[str, list[str]] = {}
    for start in range(0, len(unique), MAX_IDS_PER_QUERY):
        body = post("games", genres_query(unique[start : start + MAX_IDS_PER_QUERY]))
        if not isinstance(body, list):
            raise SchemaError("IGDB games response is not a JSON array")
        for game in body:
            if not isinstance(game, dict) or "id" not in game:
                continue
            names = [
                g["name"] for g in game.get("genres", []) if isinstance(g, dict) and "name" in g
            ]
            genres[str(game["id"])] = names
    return genres
