"""Run the emulator on a threaded WSGI server, in the foreground or in a background thread."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, make_server

from emulator.app import create_app
from emulator.chat import ChatServer
from emulator.config import EmulatorSettings
from emulator.market import Market
from emulator.state import StreamSource


class EmulatorServer:
    """A running emulator (port 0 picks a free port); a context manager for tests and benches."""

    def __init__(self, settings: EmulatorSettings, source: StreamSource | None = None) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.settings = settings
        self.app = create_app(settings, source)
        self._server: BaseWSGIServer = make_server(
            settings.host, settings.port, self.app, threaded=True
        )
        if not settings.public_url:
            settings.public_url = f"http://{settings.host}:{self._server.server_port}"
        self._thread: threading.Thread | None = None
        state = self.app.extensions["emulator"]
        market = state.source
        self.chat: ChatServer | None = (
            ChatServer(settings, market, state.live_clock)
            if settings.chat_enabled and isinstance(market, Market)
            else None
        )
        self.app.extensions["chat"] = self.chat

    @property
    def chat_url(self) -> str:
        """Where the chat server listens (`irc://host:port`); empty without one."""
        return f"irc://{self.settings.host}:{self.chat.port}" if self.chat else ""

    @property
    def url(self) -> str:
        return self.settings.base_url

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["emulator"]

    def serve_forever(self) -> None:
        if self.chat is not None:
            self.chat.start()
        self._server.serve_forever()

    def start(self) -> EmulatorServer:
        if self.chat is not None:
            self.chat.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.chat is not None:
            self.chat.stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
