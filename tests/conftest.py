"""Shared fixtures: a real FerretDB over the wire, emulators over HTTP, and no internet.

FerretDB is the binary `scripts/setup` builds (`.local/bin/ferretdb`, or FERRETDB_BIN);
each test session starts its own on a free loopback port with data in a temporary folder.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from emulator.config import EmulatorSettings
from emulator.server import EmulatorServer
from scheduler.app import build_collector
from scheduler.collect import Collector
from settings import Settings
from store import (
    FrameStore,
    LocalFerretDB,
    SnapshotBatch,
    Store,
    free_port,
    snapshot_document,
    stream_document,
)

if TYPE_CHECKING:
    from classifier.model import ModelCard

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLE_FRAMES = ROOT / "data" / "sample-frames"  # checked-in real game frames
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


FerretDB = LocalFerretDB  # re-exported for the tests
__all__ = ["FerretDB", "free_port"]


@pytest.fixture(scope="session")
def ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerretDB]:
    server = LocalFerretDB(tmp_path_factory.mktemp("ferretdb"), binary=FERRETDB_BIN)
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
FROZEN_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # the tests' usual slot
QUIET = {"quirk_last_page_cursor": 0.0, "quirk_short_page": 0.0, "quirk_invalid_cursor": 0.0}


@pytest.fixture
def make_emulator() -> Iterator[EmulatorFactory]:
    """Start emulators with given settings (port 0, quirks off unless asked); stop them after.

    Their clock stands still at FROZEN_AT unless a test asks for `frozen_at=None`: a
    market that moves with the wall clock (viewer drift every 10 s, channels going live or
    offline, stream ids changing at a channel's midnight) makes a test's outcome depend on
    when it runs and how busy the machine is."""
    servers: list[EmulatorServer] = []

    def start(**overrides: Any) -> EmulatorServer:
        options = {
            "port": 0,
            "chat_port": 0,
            "frozen_at": FROZEN_AT,
            "channels": 20_000,
            **QUIET,
            **overrides,
        }
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
        "snapshot_scope": "top",  # tests of the whole market ask for "market"
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


@pytest.fixture
def frames(ferretdb: FerretDB, database_name: str) -> Iterator[FrameStore]:
    """A frame store on the test's throwaway database."""
    store = FrameStore(ferretdb.uri, database_name, timeout_ms=3000)
    store.ensure_indexes()
    yield store
    store.db.client.drop_database(database_name)
    store.close()


def collect_with_frames(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    database: str,
    tmp_path: Path,
    **extra: object,
) -> Collector:
    """A collector for an emulator whose thumbnails are the checked-in real game frames."""
    # Every channel stays live, so no sampled channel goes offline before its thumbnail is
    # fetched (a drift boundary can pass in between); offline handling has its own tests.
    # The clock stands still, so every run sees the same market (the same top streams,
    # channels and splits), whatever the time of day and however slow the machine.
    # The collector's clock stands there too: frame retention ages frames by that clock,
    # and on the real one the tests' slot would some day be too old to keep.
    emulator = make_emulator(frames_dir=SAMPLE_FRAMES, always_live=True, frozen_at=FROZEN_AT)
    settings = collector_settings(emulator.url, ferretdb.uri, database, tmp_path / "spool", **extra)
    return build_collector(settings, clock=lambda: FROZEN_AT)


@pytest.fixture(scope="session")
def highlight_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A highlight model trained on 60 labelled clips of the emulator's training generator."""
    from emulator.labelled_clips import main as export
    from highlights.dataset import load_folder
    from highlights.model import train

    folder = tmp_path_factory.mktemp("highlight-clips")
    export(["--config", "train", "--clips", "60", "--seconds", "60", "--out", str(folder)])
    model = train(load_folder(folder).clips)
    out = tmp_path_factory.mktemp("highlight-model")
    model.save(out)
    return out


def spooled_batch(slot: datetime, started_at: datetime) -> SnapshotBatch:
    """A whole batch of the current model: one stream, its snapshot document."""
    stream = stream_document(
        slot,
        1,
        stream_id="x",
        user_id="1",
        user_login="someone",
        user_name="Someone",
        game_id="509658",
        game_name="Just Chatting",
        language="en",
        title="hi",
        viewer_count=3,
        started_at=started_at,
        tags=[],
        is_mature=False,
        thumbnail_url="",
    )
    snapshot = snapshot_document(
        slot,
        started_at=slot,
        finished_at=slot,
        status="complete",
        mode="top",
        level="stream",
        top_n=1,
        streams=[stream],
        listed=[stream],
    )
    return SnapshotBatch(slot=slot, snapshot=snapshot, streams=[stream])


def genre_card(validation: dict[str, float] | None = None) -> ModelCard:
    """A genre model's card with two classes at 32 px (imported when called, so tests
    without a classifier load no Keras)."""
    from classifier.model import ModelCard

    return ModelCard(
        version="genre-x",
        target="genre",
        classes=["Puzzle", "Shooter"],
        image_size=32,
        split_by="game",
        seed=0,
        trained_at="",
        backend="",
        data="",
        weights_from=None,
        validation=validation or {},
    )
