"""Shared fixtures: a real FerretDB over the wire, emulators over HTTP, and no internet.

FerretDB is the binary `scripts/setup` builds (`.local/bin/ferretdb`, or FERRETDB_BIN);
each test session starts its own on a free loopback port with data in a temporary folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.config import EmulatorSettings
from emulator.server import EmulatorServer
from settings import Settings
from store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FERRETDB_BIN = Path(os.environ.get("FERRETDB_BIN", ROOT / ".local" / "bin" / "ferretdb"))


@pytest.fixture(autouse=True, scope="session")
def _no_internet() -> Iterator[None]:
    """Any connection to a non-loopback address fails the test that makes it."""
    original = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise AssertionError(f"test tried to reach {address!r}: tests must stay on loopback")
        return original(sock, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    yield
    socket.socket.connect = original  # type: ignore[method-assign]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FerretDB:
    """One FerretDB process on loopback; can be stopped and restarted on the same port."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        if not FERRETDB_BIN.exists():
            pytest.fail(f"{FERRETDB_BIN} is missing: run scripts/setup first")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "ferretdb.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(FERRETDB_BIN),
                    "--handler=sqlite",
                    f"--sqlite-url=file:{self.data_dir}/",
                    f"--listen-addr=127.0.0.1:{self.port}",
                    f"--state-dir={self.data_dir}",
                    "--telemetry=disable",
                    "--debug-addr=-",
                    "--log-level=error",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"FerretDB did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerretDB]:
    server = FerretDB(tmp_path_factory.mktemp("ferretdb"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_name() -> str:
    return f"test_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store(ferretdb: FerretDB, database_name: str) -> Iterator[Store]:
    """A Store on a throwaway database, dropped afterwards."""
    connected = Store(ferretdb.uri, database_name, timeout_ms=3000)
    connected.ensure_indexes()
    yield connected
    connected.db.client.drop_database(database_name)
    connected.close()


EmulatorFactory = Callable[..., EmulatorServer]


@pytest.fixture
def make_emulator() -> Iterator[EmulatorFactory]:
    """Start emulators with given settings (port 0, quirks off unless asked); stop them after."""
    servers: list[EmulatorServer] = []
    quiet = {"quirk_last_page_cursor": 0.0, "quirk_short_page": 0.0, "quirk_invalid_cursor": 0.0}

    def start(**overrides: Any) -> EmulatorServer:
        options = {"port": 0, **quiet, **overrides}
        server = EmulatorServer(EmulatorSettings(_env_file=None, **options))  # type: ignore[call-arg]
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


def collector_settings(
    emulator_url: str, mongo_uri: str, database: str, spool: Path, **extra: Any
) -> Settings:
    """Settings for a collector talking to a test emulator and a test database."""
    values: dict[str, Any] = {
        "twitch_client_id": "",
        "emulator_url": emulator_url,
        "mongodb_uri": mongo_uri,
        "mongodb_db": database,
        "mongodb_timeout_ms": 1500,
        "spool_dir": spool,
        "backoff_initial_seconds": 0.01,
        "backoff_max_seconds": 0.2,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED / "data").is_dir():
        pytest.fail(
            f"{SHARED / 'data'} is missing: the shared folder must sit beside the repository"
        )
    return SHARED / "data"
