"""The emulator's errors, and its error responses in the shapes the real APIs use (see the
API contract)."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response, jsonify


class ApicalypseError(Exception):
    """An IGDB query (Apicalypse) the emulator does not understand; answered with a 400."""


HTML_503 = """<!DOCTYPE html>
<html><head><title>503 Backend fetch failed</title></head>
<body><h1>Error 503 Backend fetch failed</h1><p>Backend fetch failed</p>
<h3>Guru Meditation:</h3><p>XID: 1234567</p><hr><p>Varnish cache server</p></body></html>
"""


def helix_error(status: int, message: str) -> Response:
    """Helix's envelope: `{"error": reason phrase, "status": n, "message": detail}`."""
    response = jsonify({"error": HTTPStatus(status).phrase, "status": status, "message": message})
    response.status_code = status
    return response


def oauth_error(status: int, message: str) -> Response:
    """id.twitch.tv's envelope: `status` and `message`, no `error` key."""
    response = jsonify({"status": status, "message": message})
    response.status_code = status
    return response


def cdn_503() -> Response:
    return Response(HTML_503, status=503, mimetype="text/html")


def igdb_error(status: int, title: str, cause: str) -> Response:
    response = jsonify([{"title": title, "status": status, "cause": cause}])
    response.status_code = status
    return response
