"""A small read-only JSON API under `/api/v1` for notebooks and other tools.

Every endpoint takes the pages' filters (`window`, `start`, `end`, `language`, `genre`)
and answers with the same tables the pages show (`dashboard.market_tables`), so an API
figure equals the page's. Each client address may make `API_RATE_LIMIT` requests
(flask-limiter, counted per worker process); past it the answer is 429. Documented in
`docs/api.md`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from flask import Blueprint, Flask, Response, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from dashboard import market_tables
from dashboard.advice import Ask, what_to_stream
from dashboard.filters import Filters
from dashboard.loader import MarketData
from dashboard.market_tables import LOGIN
from dashboard.metrics import group_metrics, snapshot_weights, tail_metrics
from dashboard.rising import rising_now
from dashboard.tables import PER_CHANNEL_FIELDS
from dashboard.view import MarketView
from dashboard.window import Window
from store import StoreError

VERSION = "v1"


def _plain(value: Any) -> Any:
    """JSON-safe: NaN as null, timestamps as ISO 8601, numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(frame: pd.DataFrame, fields: list[str]) -> list[dict[str, Any]]:
    return [_plain(r) for r in market_tables.records(frame, fields)] if len(frame) else []


def _unknown_filters(filters: Filters, view: MarketView) -> list[str]:
    """A language or genre that no stored snapshot has: said, since it answers no rows."""
    problems = []
    if filters.language and filters.language not in view.languages():
        problems.append(f"unknown language {filters.language!r}: no stored data has it")
    if filters.genre and filters.genre not in view.genres():
        problems.append(f"unknown genre {filters.genre!r}: no stored data has it")
    return problems


def _without_per_channel(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without per-channel figures, as the pages show category totals: where
    each record is a whole category, its "channels" are categories, not channels."""
    hidden = {*PER_CHANNEL_FIELDS, "channels_now"}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (None if k in hidden else strip(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {**strip(body), "level": "category"}


def register(server: Flask, market: MarketData, rate_limit: str) -> None:
    """Add the API's routes to the dashboard's Flask server."""
    api = Blueprint("api", __name__, url_prefix=f"/api/{VERSION}")
    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://")
    limiter.limit(rate_limit)(api)

    def answer(build: Callable[[Filters, MarketView, Window], dict[str, Any]]) -> Response:
        if not market.loaded:
            response = jsonify({"status": "loading", "error": market.load_error or None})
            response.status_code = 503
            return response
        view = market.view()
        filters = Filters.from_query(request.args).resolved(
            view.newest_slot(), view.oldest_slot(), view.cadence
        )
        window = filters.window_for(view.newest_slot(), view.oldest_slot(), view.cadence)
        problems = [*filters.problems, *_unknown_filters(filters, view)]
        try:
            body = build(filters, view, window)
            problems += body.pop("problems", [])
            if view.category_level(view.window_slots(window)):
                body = _without_per_channel(body)
        except StoreError as error:
            response = jsonify({"status": "error", "error": str(error)})
            response.status_code = 503
            return response
        return jsonify(
            _plain(
                {
                    "window": {
                        "start": window.start,
                        "end": window.end,
                        "name": filters.window,
                        "description": filters.describe(
                            window, oldest=view.oldest_slot(), cadence=view.cadence
                        ),
                        "snapshots": len(view.window_slots(window)),
                    },
                    "filters": {"language": filters.language, "genre": filters.genre},
                    "problems": problems,
                    **body,
                }
            )
        )

    @api.get("/")
    def index() -> Response:
        return jsonify(
            {
                "version": VERSION,
                "endpoints": [
                    f"/api/{VERSION}/overview",
                    f"/api/{VERSION}/genres",
                    f"/api/{VERSION}/games",
                    f"/api/{VERSION}/languages",
                    f"/api/{VERSION}/channels",
                    f"/api/{VERSION}/channels/<login>",
                    f"/api/{VERSION}/rising",
                    f"/api/{VERSION}/what-to-stream",
                ],
                "parameters": ["window", "start", "end", "language", "genre", "tz"],
                "docs": "docs/api.md",
            }
        )

    @api.get("/overview")
    def overview() -> Response:
        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            slots = view.window_slots(window)
            frame = view.group_frame(
                "genre", window, language=filters.language, genre=filters.genre
            )
            metrics = group_metrics(frame, snapshot_weights(slots, view.cadence))
            if frame.empty:
                return {"newest_snapshot": None}
            latest = slots[-1]
            now = frame[frame["slot"] == latest]
            channels = float(metrics["avg_channels"].sum())
            return {
                "newest_snapshot": latest,
                "viewers_now": int(now["viewers"].sum()),
                "channels_now": int(now["channels"].sum()),
                "hours_watched": float(metrics["hours_watched"].sum()),
                "avg_viewers": float(metrics["avg_viewers"].sum()),
                "viewers_per_channel": float(metrics["avg_viewers"].sum()) / channels
                if channels
                else None,
            }

        return answer(build)

    @api.get("/genres")
    def genres() -> Response:
        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            frame = view.group_frame(
                "genre", window, language=filters.language, genre=filters.genre
            )
            metrics = group_metrics(
                frame, snapshot_weights(view.window_slots(window), view.cadence)
            )
            table = metrics.reset_index().rename(columns={"key": "genre"})
            return {"rows": _rows(table, list(table.columns))}

        return answer(build)

    @api.get("/games")
    def games() -> Response:
        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            table = market_tables.game_table(view, window, filters)
            return {"rows": _rows(table, [c for c in table.columns if c != "peak_at"])}

        return answer(build)

    @api.get("/what-to-stream")
    def what() -> Response:
        ask = Ask.from_query(dict(request.args))

        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            table = what_to_stream(view, window, filters, ask)
            return {
                "ask": {
                    "viewers": ask.audience,
                    "from": ask.start_hour,
                    "to": ask.end_hour,
                    "days": list(ask.days),
                    "tz": filters.tz,
                },
                "problems": list(ask.problems),
                "rows": _rows(table, list(table.columns)),
            }

        return answer(build)

    @api.get("/rising")
    def rising() -> Response:
        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            evaluated, rises = rising_now(view, filters.language)
            return {
                "evaluated_at": evaluated.end if evaluated is not None else None,
                "rows": [
                    {
                        "game_id": r.game,
                        "game": view.game_name(r.game),
                        "since": r.since.to_pydatetime(),
                        "channel_share": r.channel_share,
                        "usual_share": r.usual_share,
                        "ratio": None if r.ratio == float("inf") else r.ratio,
                        "new": r.ratio == float("inf"),
                    }
                    for r in rises
                ],
            }

        return answer(build)

    @api.get("/languages")
    def languages() -> Response:
        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            frame = view.group_frame("language", window, genre=filters.genre)
            metrics = group_metrics(
                frame, snapshot_weights(view.window_slots(window), view.cadence)
            )
            tail = None if filters.genre else tail_metrics(view.histograms("language", window))
            table = market_tables.language_table(metrics, tail)
            return {"rows": _rows(table, list(table.columns))}

        return answer(build)

    @api.get("/channels")
    def channels() -> Response:
        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            if view.category_level(view.window_slots(window)):
                return {"rows": []}  # its records are whole categories, not channels
            summary = market_tables.channel_summary(view, window)
            limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 1000)
            return {"rows": _rows(summary.head(limit), market_tables.CHANNEL_FIELDS)}

        return answer(build)

    @api.get("/channels/<login>")
    def channel(login: str) -> Response:
        login = login.strip().lower()
        if not LOGIN.match(login):
            response = jsonify({"status": "error", "error": "a login is 1–25 of a-z, 0-9, _"})
            response.status_code = 400
            return response

        def build(filters: Filters, view: MarketView, window: Window) -> dict[str, Any]:
            if view.category_level(view.window_slots(window)):
                return {"channel": None, "sessions": []}
            summary = market_tables.channel_summary(view, window)
            mine = summary[summary["login"] == login]
            rows = market_tables.channel_observations(view, window, login)
            streams = market_tables.sessions(rows, view, filters.tz)
            return {
                "channel": _rows(mine, market_tables.CHANNEL_FIELDS)[0] if len(mine) else None,
                "sessions": _rows(streams, market_tables.SESSION_FIELDS),
            }

        return answer(build)

    server.register_blueprint(api)
