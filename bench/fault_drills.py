"""Fault drills against real processes; writes the results section of docs/reliability.md.

    .venv/bin/python bench/fault_drills.py            # every drill (about 6 minutes)
    .venv/bin/python bench/fault_drills.py --no-write # print only

Each drill runs `python -m scheduler` as its own process against a private FerretDB and
the emulator (in its own process), breaks something, then lets the collector recover the
way production would (the next run, `flush-spool`). Then it counts, per drill, the slots
expected, the slots stored (complete), the stored slots readers were told of (the `meta`
signal), and the slots whose streams hold more than one observation (more stream documents
than the snapshot says, a stream twice, or viewers that disagree with the rollups): that
last number must always be 0, and the first three equal.

After each drill it also checks every dimension's day history against the published
slots (a slot is in all six or in none: "history gaps" counts the days × dimensions that
disagree) and that the site's newest slot is the one `/healthz` names (the `meta` signal).

Drills: kill -9 at every step of a snapshot write, then the same slot again; kill -9 at
each history write with an earlier and with a later slot of the day already stored, then
the next run; FerretDB killed or hung (SIGSTOP) at a history write; FerretDB stopped
before a run; FerretDB killed midway through a write (spooled, flushed by the next
run); FerretDB hung (SIGSTOP) at start and midway; a truncated spool file beside good
ones; two `once` runs of one slot at the same time.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, emulator_process, machine, write_section
from dashboard.loader import MarketData
from store import HISTORY_DIMENSIONS, LocalFerretDB, Store, StoreReader, free_port, schema

RESULTS = ROOT / "docs" / "reliability.md"
SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TOP_N = 300
STEPS = [
    "begin",
    "streams",
    *(f"rollup:{d}" for d in ("game", "genre", "language", "genre_language")),
    *(f"rollup:{d}" for d in ("game_language", "channel")),
    "publish",
    "history",
    *(f"history:{d}" for d in HISTORY_DIMENSIONS),
    "announce",
]
# Runs the scheduler CLI with a phase hook: at step argv[1], send signal argv[3] to the
# process argv[2] ("self" = this process), then go on (if it still lives).
HOOKED = """
import os, signal, sys
from store import set_phase_hook
step, target, signame = sys.argv[1:4]
def hook(name, slot):
    if name == step:
        os.kill(os.getpid() if target == "self" else int(target), getattr(signal, signame))
set_phase_hook(hook)
from scheduler.__main__ import main
sys.exit(main(sys.argv[4:]))
"""


@dataclass
class Drill:
    name: str
    expected: int
    stored: int
    announced: int  # stored slots the `meta` signal has told readers of
    duplicated: int
    gaps: int  # days × dimensions whose history disagrees with the published slots
    site_agrees: bool  # the site's newest slot is the one `/healthz` names
    note: str


class Rig:
    """A FerretDB, an emulator, and a fresh database and spool per drill."""

    def __init__(self, db: LocalFerretDB, emulator_url: str, work: Path) -> None:
        self.db, self.emulator_url, self.work = db, emulator_url, work
        self.database = ""

    def fresh(self, name: str) -> None:
        self.database = name.replace(" ", "_").replace(":", "_")
        (self.work / self.database).mkdir(parents=True, exist_ok=True)

    @property
    def spool(self) -> Path:
        return self.work / self.database / "spool"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWITCH_", "MONGODB_"))}
        env.update(
            EMULATOR_URL=self.emulator_url,
            MONGODB_URI=self.db.uri,
            MONGODB_DB=self.database,
            MONGODB_TIMEOUT_MS="2000",
            SPOOL_DIR=str(self.spool),
            SNAPSHOT_TOP_N=str(TOP_N),
            FRAMES_TOP="0",
            FRAMES_RANDOM="0",
            FRAMES_NON_GAME="0",
            PYTHONPATH=str(ROOT),
        )
        return env

    def scheduler(self, *args: str, hook: tuple[str, str, str] | None = None) -> int:
        prefix = ["-c", HOOKED, *hook] if hook else ["-m", "scheduler"]
        done = subprocess.run(
            [sys.executable, *prefix, *args],
            cwd=self.work / self.database,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.returncode

    def once(self, slot: datetime, hook: tuple[str, str, str] | None = None) -> int:
        return self.scheduler("once", "--slot", slot.isoformat(), hook=hook)

    def count(self, name: str, slots: list[datetime], note: str) -> Drill:
        store = Store(self.db.uri, self.database, timeout_ms=5000)
        reader = StoreReader(self.db.uri, self.database)
        try:
            state = store.db[schema.META].find_one({"_id": schema.ROLLUP_STATE_ID}) or {}
            newest = state.get("newest_slot")
            stored = duplicated = announced = 0
            for slot in slots:
                snapshot = store.db[schema.SNAPSHOTS].find_one({"_id": schema.snapshot_id(slot)})
                if snapshot is None or snapshot.get("status") != schema.COMPLETE:
                    continue
                stored += 1
                duplicated += not one_observation(store, slot, snapshot)
                announced += newest is not None and slot <= newest
            gaps = len(store.history_gaps())
            site = MarketData(reader, refresh_seconds=0)
            site.refresh()  # a dashboard started now: what it lists as newest
            shown = site.view().newest_slot()
            agrees = (shown is None and newest is None) or (
                shown is not None and newest is not None and shown.to_pydatetime() == newest
            )
        finally:
            reader.close()
            store.close()
        return Drill(name, len(slots), stored, announced, duplicated, gaps, agrees, note)


def one_observation(store: Store, slot: datetime, snapshot: dict[str, Any]) -> bool:
    """The slot's documents are one listing: the stored streams are what the snapshot
    says and what its channel rollup adds up; every other rollup adds up the listing."""
    streams = list(
        store.db[schema.STREAMS].find({"slot": slot}, {"stream_id": 1, "viewer_count": 1})
    )
    viewers = sum(s["viewer_count"] for s in streams)
    market = snapshot["market_viewer_count"]
    rollups = list(store.db[schema.ROLLUPS].find({"slot": slot}))

    def adds_up(rollup: dict[str, Any]) -> bool:
        summed = sum(g["viewers"] for g in rollup["groups"])
        return rollup["total_viewers"] == market and summed == (
            viewers if rollup["dimension"] == "channel" else market
        )

    return (
        len(streams) == snapshot["stream_count"]
        and len({s["stream_id"] for s in streams}) == len(streams)
        and viewers == snapshot["viewer_count"]
        and len(rollups) == 6
        and all(adds_up(r) for r in rollups)
    )


@contextmanager
def paused(process: subprocess.Popen[bytes]) -> Iterator[None]:
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def kill_at_each_step(rig: Rig) -> list[Drill]:
    drills = []
    for step in STEPS:
        rig.fresh(f"kill {step}")
        killed = rig.once(SLOT, hook=(step, "self", "SIGKILL"))
        again = rig.once(SLOT)
        note = f"exit {killed} (-9 = killed), then the same slot again: exit {again}"
        drills.append(rig.count(f"kill -9 at `{step}`", [SLOT], note))
    return drills


def kill_at_history_writes(rig: Rig) -> list[Drill]:
    """A slot of a day that already has another: killed at each dimension's history write,
    then the next run (of the following slot, or the same slot again)."""
    drills = []
    for dimension in HISTORY_DIMENSIONS:
        for order, other in (("earlier", SLOT - timedelta(minutes=30)), ("later", SLOT + HOUR)):
            rig.fresh(f"history {dimension} {order}")
            rig.once(other)
            killed = rig.once(SLOT, hook=(f"history:{dimension}", "self", "SIGKILL"))
            following = SLOT + timedelta(minutes=30)
            nxt = rig.once(following)
            note = f"{order} slot stored first; killed: exit {killed}; next run: exit {nxt}"
            drills.append(
                rig.count(
                    f"kill -9 at `history:{dimension}`, {order} slot stored",
                    sorted([other, SLOT, following]),
                    note,
                )
            )
    return drills


def database_faults_at_history(rig: Rig) -> list[Drill]:
    """FerretDB killed, or hung, at the language history write (a later slot stored)."""
    assert rig.db.process is not None
    drills = []
    rig.fresh("db killed at history")
    rig.once(SLOT + HOUR)
    first = rig.once(SLOT, hook=("history:language", str(rig.db.process.pid), "SIGKILL"))
    spooled = len(list(rig.spool.glob("*.json")))
    rig.db.process.wait()
    rig.db.start()
    second = rig.once(SLOT + timedelta(minutes=30))
    drills.append(
        rig.count(
            "FerretDB killed at `history:language`",
            [SLOT, SLOT + timedelta(minutes=30), SLOT + HOUR],
            f"exit {first}, {spooled} spooled; restarted, the next slot: exit {second}",
        )
    )
    rig.fresh("db hung at history")
    rig.once(SLOT - timedelta(minutes=30))
    first = rig.once(SLOT, hook=("history:language", str(rig.db.process.pid), "SIGSTOP"))
    spooled = len(list(rig.spool.glob("*.json")))
    rig.db.process.send_signal(signal.SIGCONT)
    second = rig.once(SLOT + timedelta(minutes=30))
    drills.append(
        rig.count(
            "FerretDB hung at `history:language`",
            [SLOT - timedelta(minutes=30), SLOT, SLOT + timedelta(minutes=30)],
            f"exit {first}, {spooled} spooled; resumed, the next slot: exit {second}",
        )
    )
    return drills


def database_stopped(rig: Rig) -> Drill:
    rig.fresh("db stopped")
    rig.db.stop()
    first = rig.once(SLOT)
    spooled = len(list(rig.spool.glob("*.json")))
    rig.db.start()
    second = rig.once(SLOT)
    note = f"while down: exit {first}, {spooled} spooled; after restart: exit {second}"
    return rig.count("FerretDB stopped before a run", [SLOT], note)


def database_killed_midway(rig: Rig) -> Drill:
    rig.fresh("db killed")
    assert rig.db.process is not None
    first = rig.once(SLOT, hook=("streams", str(rig.db.process.pid), "SIGKILL"))
    spooled = len(list(rig.spool.glob("*.json")))
    rig.db.process.wait()
    rig.db.start()
    later = SLOT + timedelta(minutes=30)
    second = rig.once(later)
    note = (
        f"killed before the streams insert: exit {first}, {spooled} spooled; the next slot "
        f"(exit {second}) flushed it"
    )
    return rig.count("FerretDB killed midway", [SLOT, later], note)


def database_hung(rig: Rig) -> list[Drill]:
    assert rig.db.process is not None
    rig.fresh("db hung start")
    began = time.monotonic()
    with paused(rig.db.process):
        first = rig.once(SLOT)
    waited = time.monotonic() - began
    second = rig.once(SLOT)
    start = rig.count(
        "FerretDB hung at start",
        [SLOT],
        f"exit {first} after {waited:.0f} s; once it answered again: exit {second}",
    )

    rig.fresh("db hung midway")
    began = time.monotonic()
    first = rig.once(SLOT, hook=("streams", str(rig.db.process.pid), "SIGSTOP"))
    waited = time.monotonic() - began
    spooled = len(list(rig.spool.glob("*.json")))
    rig.db.process.send_signal(signal.SIGCONT)
    later = SLOT + timedelta(minutes=30)
    second = rig.once(later)
    midway = rig.count(
        "FerretDB hung midway",
        [SLOT, later],
        f"exit {first} after {waited:.0f} s with {spooled} spooled; resumed, the next slot "
        f"(exit {second}) flushed it",
    )
    return [start, midway]


def corrupt_spool(rig: Rig) -> Drill:
    rig.fresh("corrupt spool")
    slots = [SLOT + timedelta(minutes=30 * i) for i in range(3)]
    for slot in slots:  # three outages midway through a write: three spooled snapshots
        assert rig.db.process is not None
        rig.once(slot, hook=("streams", str(rig.db.process.pid), "SIGKILL"))
        rig.db.process.wait()
        rig.db.start()
    files = sorted(rig.spool.glob("*.json"))
    files[0].write_bytes(files[0].read_bytes()[:500])  # truncated, as by a full disk
    (rig.spool / "tmpcrash.partial").write_text('{"slot": ', encoding="utf-8")
    flushed = rig.scheduler("flush-spool")
    rejected = len(list((rig.spool / "rejected").glob("*.json")))
    partials = len(list(rig.spool.glob("*.partial")))
    note = (
        f"{len(files)} spooled, the oldest truncated: flush-spool exit {flushed}, the "
        f"others written; {rejected} kept in spool/rejected/ with its reason, "
        f"{partials} .partial left"
    )
    return rig.count("Truncated spool file", slots[1:], note)  # the readable ones


def two_writers(rig: Rig) -> Drill:
    rig.fresh("two writers")
    command = [sys.executable, "-m", "scheduler", "once", "--slot", SLOT.isoformat()]
    runs = [
        subprocess.Popen(
            command,
            cwd=rig.work / rig.database,
            env={**rig.env(), "SPOOL_DIR": str(rig.spool / str(i))},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [run.communicate(timeout=300)[1] for run in runs]
    outcomes = sorted(o.split('"outcome":"', 1)[1].split('"', 1)[0] for o in outputs)
    return rig.count("Two `once` of one slot at once", [SLOT], f"outcomes: {', '.join(outcomes)}")


def table(drills: list[Drill]) -> str:
    rows = [
        "| drill | slots expected | stored | announced | duplicated | history gaps "
        "| site newest = /healthz | what happened |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        *(
            f"| {d.name} | {d.expected} | {d.stored} | {d.announced} | {d.duplicated} "
            f"| {d.gaps} | {'yes' if d.site_agrees else 'NO'} | {d.note} |"
            for d in drills
        ),
    ]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print, do not update the doc")
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        db = LocalFerretDB(work / "ferretdb", free_port())
        db.start()
        try:
            # A small market: the drills are about what survives a fault, not scale.
            with emulator_process(free_port(), latency_ms=5, channels=20_000) as url:
                rig = Rig(db, url, work)
                drills = [
                    *kill_at_each_step(rig),
                    *kill_at_history_writes(rig),
                    *database_faults_at_history(rig),
                    database_stopped(rig),
                    database_killed_midway(rig),
                    *database_hung(rig),
                    corrupt_spool(rig),
                    two_writers(rig),
                ]
        finally:
            db.stop()
    seconds = time.monotonic() - began
    markdown = (
        f"`.venv/bin/python bench/fault_drills.py` on {machine()}, {seconds:.0f} s in all; "
        f"whole-market snapshots of a 20,000-channel market, the top {TOP_N} stored in full, "
        f"emulator at 5 ms latency.\n\n{table(drills)}"
    )
    print(markdown)
    if not args.no_write:
        write_section("fault-drills", markdown, RESULTS)
    bad = [
        d
        for d in drills
        if not d.expected == d.stored == d.announced or d.duplicated or d.gaps or not d.site_agrees
    ]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
