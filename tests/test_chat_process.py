"""The chat reader as a real process: it stops within seconds of SIGTERM, and what it
counted up to then is stored."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from bson import json_util

from emulator.server import EmulatorServer
from store import Store
from store.schema import CHAT_MINUTES
from tests.conftest import FERRETDB_BIN, EmulatorFactory, FerretDB
from tests.test_chat_integration import _top_logins
from tests.test_scheduler_process import environment

pytestmark = pytest.mark.integration


def _ledger(emulator_url: str) -> int:
    response = requests.get(f"{emulator_url}/_emulator/chat/sent", timeout=10)
    response.raise_for_status()
    return int(response.json()["messages"])


def _reader(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "chat", "run"], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True
    )


def _stored(store: Store) -> int:
    return sum(
        int(entry["messages"])
        for document in store.db[CHAT_MINUTES].find()
        for entry in document["channels"]
    )


def _reader_env(
    emulator: EmulatorServer, uri: str, database: str, tmp: Path, follow: int
) -> dict[str, str]:
    env = environment(emulator.url, uri, database, tmp)
    env.update(
        {
            "CHAT_IRC_URL": emulator.chat_url,
            "CHAT_JOINS_PER_10S": "200",
            "CHAT_FOLLOW_SECONDS": "1",
            # No round of writes before the stop: what is stored is the final flush's.
            "CHAT_FLUSH_SECONDS": "3600",
            "HIGHLIGHT_CHANNELS": ",".join(_top_logins(emulator, follow)),
        }
    )
    return env


def _read_then_pause(reader: subprocess.Popen[str], emulator_url: str, lines: int) -> int:
    """Wait until the emulator sent `lines` lines to the reader, pause its chat and give
    the last lines a second to arrive; the lines sent."""
    deadline = time.monotonic() + 60
    while _ledger(emulator_url) < lines:
        assert reader.poll() is None, reader.communicate()[1]
        assert time.monotonic() < deadline, "no chat reached the reader"
        time.sleep(0.2)
    requests.post(f"{emulator_url}/_emulator/chat/pause", timeout=10).raise_for_status()
    sent = _ledger(emulator_url)
    time.sleep(1.0)  # the last lines on their way to the reader
    return sent


def _stop(reader: subprocess.Popen[str]) -> tuple[float, str]:
    """SIGTERM; the seconds until the process ended, and its log."""
    stopped_at = time.monotonic()
    reader.send_signal(signal.SIGTERM)
    _, log = reader.communicate(timeout=30)
    return time.monotonic() - stopped_at, log


def test_the_chat_reader_stops_within_five_seconds_of_sigterm_and_stores_what_it_counted(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    # Slow Helix answers: the emote lists of 40 channels take the reader ~10 s to fetch,
    # and the stop comes in the middle of that round.
    emulator = make_emulator(chat_rate_scale=3.0, chat_joins_per_10s=200, latency_ms=250)
    env = _reader_env(emulator, ferretdb.uri, database_name, tmp_path, follow=40)
    reader = _reader(env, tmp_path)
    try:
        sent = _read_then_pause(reader, emulator.url, 500)
        took, log = _stop(reader)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, log
    assert took < 5.0, f"stopped {took:.1f} s after SIGTERM"
    assert _stored(store) == sent


def test_a_reader_stopped_with_its_store_spools_what_it_counted_and_the_next_run_stores_it(
    make_emulator: EmulatorFactory, database_name: str, tmp_path: Path
) -> None:
    # The demo's teardown: the store stops in the same instant as the reader.
    server = FerretDB(tmp_path / "ferretdb", binary=FERRETDB_BIN)
    server.start()
    emulator = make_emulator(chat_rate_scale=3.0, chat_joins_per_10s=200)
    env = _reader_env(emulator, server.uri, database_name, tmp_path, follow=20)
    reader = _reader(env, tmp_path)
    try:
        sent = _read_then_pause(reader, emulator.url, 300)
        server.stop()
        took, log = _stop(reader)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, log
    assert took < 5.0, f"stopped {took:.1f} s after SIGTERM: {log}"
    spooled = sorted((tmp_path / "spool" / "chat").glob("*.json"))
    in_spool = sum(
        int(entry["messages"])
        for path in spooled
        for entry in json_util.loads(path.read_text(encoding="utf-8"))["entries"]
    )
    assert spooled and in_spool == sent

    server.start()
    store = Store(server.uri, database_name)
    again = _reader(env, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while _stored(store) < sent and time.monotonic() < deadline:
            assert again.poll() is None, again.communicate()[1]
            time.sleep(0.5)
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=30)
        assert _stored(store) == sent
        assert list((tmp_path / "spool" / "chat").glob("*.json")) == []
    finally:
        if again.poll() is None:
            again.kill()
        store.close()
        server.stop()
