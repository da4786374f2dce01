"""IGDB v4 endpoints (`POST /v4/games`, `/v4/genres`) with a small Apicalypse parser."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

from emulator.catalogue import IGDB_GENRES, Category
from emulator.errors import ApicalypseError, igdb_error
from emulator.state import EmulatorState

_CLAUSE = re.compile(r"^\s*(fields|exclude|where|limit|offset|sort|search)\s+(.*)$", re.S)
_WHERE_ID = re.compile(r"^id\s*=\s*\(?\s*([0-9,\s]*?)\s*\)?$")


@dataclass
class Query:
    fields: list[str] = field(default_factory=lambda: ["id"])
    ids: list[int] | None = None
    limit: int = 10
    offset: int = 0


def parse_query(text: str) -> Query:
    """The subset of Apicalypse the collector uses: fields, `where id = (…)`, limit, offset."""
    query = Query()
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        match = _CLAUSE.match(clause)
        if not match:
            raise ApicalypseError(f"Unknown clause: {clause[:40]}")
        keyword, body = match.group(1), match.group(2).strip()
        if keyword == "fields":
            query.fields = [f.strip() for f in body.split(",") if f.strip()]
        elif keyword == "where":
            ids = _WHERE_ID.match(body)
            if not ids:
                raise ApicalypseError("Only `where id = (…)` is supported by the emulator")
            query.ids = [int(i) for i in ids.group(1).split(",") if i.strip()]
        elif keyword in ("limit", "offset"):
            if not body.isdigit():
                raise ApicalypseError(f"{keyword} expects an integer")
            setattr(query, keyword, int(body))
    if not 1 <= query.limit <= 500:
        raise ApicalypseError("limit must be 1..500")
    return query


def _game_object(category: Category, fields: list[str]) -> dict[str, Any]:
    everything = "*" in fields
    expanded = any(f.startswith("genres.") for f in fields)
    result: dict[str, Any] = {"id": int(category.igdb_id)}
    if everything or "name" in fields:
        result["name"] = category.name
    if category.igdb_genre_ids and (everything or "genres" in fields or expanded):
        result["genres"] = (
            [{"id": g, "name": IGDB_GENRES[g]} for g in category.igdb_genre_ids]
            if expanded
            else list(category.igdb_genre_ids)
        )
    return result


def register(app: Flask, state: EmulatorState) -> None:
    per_second = state.settings.igdb_requests_per_second

    def guard() -> Response | None:
        if state.settings.latency_ms:
            time.sleep(state.settings.latency_ms / 1000.0)
        state.count("igdb_requests")
        token = request.headers.get("Authorization", "")[7:]
        if request.headers.get("Client-ID") != state.client_id or token not in state.tokens:
            response = jsonify(
                {
                    "message": "Authorization Failure. Have you tried:",
                    "Tip 1": "Ensure you are sending Authorization and Client-ID as headers.",
                    "Docs": "https://api-docs.igdb.com/#authentication",
                }
            )
            response.status_code = 401
            return response
        now = time.monotonic()
        with state.lock:
            while state.igdb_calls and now - state.igdb_calls[0] >= 1.0:
                state.igdb_calls.popleft()
            if len(state.igdb_calls) >= per_second:
                state.counters["igdb_rate_limited"] += 1
                response = jsonify({"message": "Too Many Requests"})
                response.status_code = 429
                return response
            state.igdb_calls.append(now)
        return None

    def authorised_query() -> Response | Query:
        """The request's Apicalypse query, or the error response to send instead."""
        refused = guard()
        if refused is not None:
            return refused
        try:
            return parse_query(request.get_data(as_text=True))
        except ApicalypseError as error:
            return igdb_error(400, "Syntax Error", str(error))

    @app.post("/v4/games")
    def igdb_games() -> Response:
        query = authorised_query()
        if isinstance(query, Response):
            return query
        # Only the simulated market knows IGDB ids; a replayed recording has none.
        catalogue: list[Category] = getattr(state.source, "igdb_games", list)()
        wanted = None if query.ids is None else set(query.ids)
        matches = [c for c in catalogue if wanted is None or int(c.igdb_id) in wanted]
        page = matches[query.offset : query.offset + query.limit]
        return jsonify([_game_object(c, query.fields) for c in page])

    @app.post("/v4/genres")
    def igdb_genres() -> Response:
        query = authorised_query()
        if isinstance(query, Response):
            return query
        rows = [
            {"id": i, "name": n, "slug": n.lower().replace(" ", "-")}
            for i, n in IGDB_GENRES.items()
        ]
        if query.ids is not None:
            rows = [r for r in rows if r["id"] in query.ids]
        return jsonify(rows[query.offset : query.offset + query.limit])
