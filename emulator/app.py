"""The emulator's Flask application: OAuth, Helix, IGDB, the CDN, and a control API.

Control endpoints (not part of Twitch) live under `/_emulator/`:
`GET stats`, `POST stats/reset`, `GET clock`, `POST clock` (move the simulated clock),
`POST replay/next`, and for the chat server `GET chat/sent` (what it wrote, per channel and
minute), `POST chat/reset`, `POST chat/pause`, `POST chat/resume`, `POST chat/reconnect`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import NotFound

from emulator import cdn, helix, igdb
from emulator.config import EmulatorSettings
from emulator.market import Market
from emulator.replay import ReplaySource
from emulator.state import EmulatorState, StreamSource
from settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET


def create_app(settings: EmulatorSettings, source: StreamSource | None = None) -> Flask:
    if source is None:
        source = ReplaySource(settings.replay_file) if settings.replay_file else Market(settings)
    state = EmulatorState(settings, source, EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET)
    app = Flask("twitch-emulator")
    app.extensions["emulator"] = state
    helix.register(app, state)
    igdb.register(app, state)
    cdn.register(app, state)

    @app.get("/_emulator/stats")
    def stats() -> Response:
        with state.lock:
            return jsonify(
                {"counters": dict(state.counters), "malformed_served": dict(state.malformed_served)}
            )

    @app.post("/_emulator/stats/reset")
    def reset_stats() -> Response:
        state.reset_stats()
        return jsonify({"ok": True})

    @app.get("/_emulator/clock")
    def clock() -> Response:
        body: dict[str, object] = {"now": datetime.fromtimestamp(source.now(), UTC).isoformat()}
        if isinstance(source, ReplaySource):
            body["replay"] = {
                "index": source.index,
                "count": len(source.snapshots),
                "observed_at": source.observed_at().isoformat(),
                "level": source.level(),
            }
        return jsonify(body)

    @app.post("/_emulator/clock")
    def set_clock() -> Response:
        """Move the simulated clock to `at` (ISO 8601 with zone): backfills and demos."""
        if not isinstance(source, Market):
            return Response("only the simulated market has a settable clock", status=400)
        try:
            at = datetime.fromisoformat(str((request.get_json(silent=True) or {})["at"]))
            if at.tzinfo is None:
                raise ValueError
        except (KeyError, ValueError):
            return Response('expected {"at": "<ISO 8601 time with zone>"}', status=400)
        if settings.frozen_at is not None:
            settings.frozen_at = at
        else:
            settings.clock_offset_seconds = at.timestamp() - datetime.now(UTC).timestamp()
        return jsonify({"now": datetime.fromtimestamp(source.now(), UTC).isoformat()})

    @app.post("/_emulator/replay/next")
    def replay_next() -> Response:
        if not isinstance(source, ReplaySource):
            return Response("not in replay mode", status=400)
        if not source.advance():
            return Response("recording exhausted", status=409)
        return jsonify({"index": source.index, "observed_at": source.observed_at().isoformat()})

    def chat_server() -> Any:
        server = app.extensions.get("chat")
        if server is None:
            raise NotFound("this emulator serves no chat")
        return server

    @app.get("/_emulator/chat/sent")
    def chat_sent() -> Response:
        if request.args.get("only") == "total":  # cheap enough to poll several times a second
            return jsonify({"messages": chat_server().sent_total()})
        return jsonify(chat_server().sent())

    @app.post("/_emulator/chat/<action>")
    def chat_control(action: str) -> Response:
        server = chat_server()
        if action == "reset":
            server.reset_ledger()
        elif action in ("pause", "resume"):
            server.set_paused(action == "pause")
        elif action == "reconnect":
            return jsonify({"reconnected": server.reconnect_all()})
        else:
            raise NotFound(f"no chat action {action!r}")
        return jsonify({"ok": True})

    return app
