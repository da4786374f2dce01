"""The daemon as a real process: a snapshot at start, a clean stop on SIGTERM, and the CLI."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import ROOT, EmulatorFactory, FerretDB
from scheduler.daemon import build_scheduler
from slots import DEFAULT_CADENCE
from store import Store, schema

pytestmark = pytest.mark.integration


def environment(emulator_url: str, mongo_uri: str, database: str, tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWITCH_", "MONGODB_", "EMULATOR_"))
    }
    env.update(
        {
            "EMULATOR_URL": emulator_url,
            "MONGODB_URI": mongo_uri,
            "MONGODB_DB": database,
            "SPOOL_DIR": str(tmp / "spool"),
            "SNAPSHOT_TOP_N": "200",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def test_daemon_catches_up_the_current_slot_at_start_and_stops_cleanly_on_sigterm(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    emulator = make_emulator()
    # No flag: a daemon that starts (after a crash or a deploy) takes the current slot.
    daemon = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "run"],
        cwd=tmp_path,
        env=environment(emulator.url, ferretdb.uri, database_name, tmp_path),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert daemon.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = daemon.stderr.readline()
        lines.append(line)
        if "scheduler.summary" in line:
            break
    summary = json.loads(lines[-1].split("snapshot ", 1)[1])
    assert summary["outcome"] == "stored" and summary["streams"] == 200
    daemon.send_signal(signal.SIGTERM)
    _, rest = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, rest
    assert "received SIGTERM" in rest and "scheduler stopped" in rest
    assert store.db[schema.SNAPSHOTS].count_documents({}) == 1

    second = subprocess.run(
        [sys.executable, "-m", "scheduler", "once", "--slot", summary["slot"]],
        cwd=tmp_path,
        env=environment(emulator.url, ferretdb.uri, database_name, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0 and '"outcome":"skipped"' in second.stderr


def test_help_explains_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for word in ("run", "once", "replay", "flush-spool", ":00 and :30 UTC", "spool"):
        assert word in result.stdout


def test_snapshot_job_is_one_at_a_time_coalesced_and_on_the_half_hours() -> None:
    scheduler = build_scheduler(object(), cadence=DEFAULT_CADENCE, misfire_grace_seconds=600)  # type: ignore[arg-type]
    job = scheduler.get_job("snapshot")
    assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time == 600
    assert str(job.trigger) == "cron[minute='0,30']"
    with pytest.raises(ValueError, match="misfire grace"):
        build_scheduler(object(), cadence=DEFAULT_CADENCE, misfire_grace_seconds=1800)  # type: ignore[arg-type]


class SlowCollector:
    """Takes each slot by moving a fake clock on: the first run outlasts its slot."""

    def __init__(self, start: datetime, durations: list[timedelta]) -> None:
        self.now, self.durations, self.taken = start, durations, []

    def clock(self) -> datetime:
        return self.now

    def collect(self, slot: datetime) -> None:
        self.taken.append(slot)
        self.now += self.durations.pop(0) if self.durations else timedelta(minutes=1)


def test_a_slot_that_begins_while_a_run_overruns_is_taken_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    start = datetime(2026, 11, 22, 17, 0, 5, tzinfo=UTC)
    collector = SlowCollector(start, [timedelta(minutes=31), timedelta(minutes=2)])
    scheduler = build_scheduler(
        collector,  # type: ignore[arg-type]
        cadence=DEFAULT_CADENCE,
        misfire_grace_seconds=600,
        clock=collector.clock,
    )
    with caplog.at_level(logging.WARNING, logger="scheduler.daemon"):
        scheduler.get_job("snapshot").func()
    slot = start.replace(second=0)
    assert collector.taken == [slot, slot + timedelta(minutes=30)]
    assert "began while" in caplog.text

    on_time = SlowCollector(start, [timedelta(minutes=5)])
    build_scheduler(
        on_time,  # type: ignore[arg-type]
        cadence=DEFAULT_CADENCE,
        misfire_grace_seconds=600,
        clock=on_time.clock,
    ).get_job("snapshot").func()
    assert on_time.taken == [slot]
