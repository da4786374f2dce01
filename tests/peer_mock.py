"""A small Twitch mock in another project's shape (UUID ids), and a capture of every request.

It serves OAuth, one recorded page of `/helix/streams` (`tests/data/peer_mock_streams_page
.json`), `/helix/games` for the page's categories, IGDB answering nothing, and thumbnails
under any path. Each request is recorded (method, path, query and form), so tests can also
say what a client sent: which secret, which CDN host.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

PAGE = Path(__file__).resolve().parent / "data" / "peer_mock_streams_page.json"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 18), (200, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]


@dataclass
class PeerMock:
    records: list[dict[str, Any]] = field(
        default_factory=lambda: json.loads(PAGE.read_text(encoding="utf-8"))["data"]
    )
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> PeerMock:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # quiet
                pass

            def _record(self, body: bytes = b"") -> Request:
                parts = urlsplit(self.path)
                form = parse_qs(body.decode(errors="replace")) if body else {}
                seen = Request(self.command, parts.path, parse_qs(parts.query), form)
                mock.requests.append(seen)
                return seen

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = self._record(self.rfile.read(length))
                if seen.path.endswith("/oauth2/token"):
                    token = {
                        "access_token": "peertoken",
                        "expires_in": 3600,
                        "token_type": "bearer",
                    }
                    self._send(200, json.dumps(token).encode())
                else:  # IGDB: knows no game
                    self._send(200, b"[]")

            def do_GET(self) -> None:
                seen = self._record()
                if seen.path.endswith("/helix/streams"):
                    page = {"data": mock.records, "pagination": {}}
                    self._send(200, json.dumps(page).encode())
                elif seen.path.endswith("/helix/games"):
                    wanted = set(seen.query.get("id", []))
                    games = [
                        {
                            "id": r["game_id"],
                            "name": r["game_name"],
                            "box_art_url": "",
                            "igdb_id": "",
                        }
                        for r in mock.records
                        if r["game_id"] in wanted
                    ]
                    unique = list({g["id"]: g for g in games}.values())
                    self._send(200, json.dumps({"data": unique}).encode())
                elif seen.path.endswith(".jpg"):
                    self._send(200, jpeg(), "image/jpeg")
                else:
                    self._send(404, b'{"message": "not found"}')

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
