"""Highlight delay benchmark; writes its section of docs/benchmarks.md.

    .venv/bin/python bench/highlight_delay.py            # full run (about 17 minutes)
    .venv/bin/python bench/highlight_delay.py --quick    # shorter, for a smoke test

How long a planted moment takes to become a row of the Streamer page's moments, on the
demo's path: `python -m emulator` plants highlight moments (sound, action and a chat
burst) in its streams, live; one collection stores a snapshot; `python -m chat run` reads
the chat of its top channels (per second for the top 5) and `scripts/highlights` (the
demo's job: trains a model if there is none, then `python -m highlights run`) scores
the top 5 every `HIGHLIGHT_EVERY_MINUTES` = 2 with 120-s clips, each its own process, as
in the demo. This process polls the stored clips every 2 s, as the page reads them.

A planted moment is shown at the first poll whose stored moments hold a window that
overlaps it; its delay is from the moment's end to then. Every round's clips are counted
as stored, or failed with their recorded reason.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chat import _wait_port
from bench.common import ROOT, bench_settings, emulator_process, machine, write_section
from emulator.moments import CONFIGS, MomentSchedule
from highlights.features import WINDOW_SECONDS
from scheduler.app import build_collector
from store import LocalFerretDB, Store, free_port, highlight_day_id, newest_channel_games, schema

FOLLOWED = 5
EVERY_MINUTES = 2
CLIP_SECONDS = 120
SEED = 7  # the emulator's default seed: its planted moments


def _stored_moments(store: Store, logins: list[str]) -> dict[str, list[float]]:
    """Each channel's stored moment windows (start, epoch seconds), today and yesterday."""
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    days = {today, today - timedelta(days=1)}
    found: dict[str, list[float]] = {login: [] for login in logins}
    ids = [highlight_day_id(day, login) for day in days for login in logins]
    for document in store.db[schema.HIGHLIGHT_WINDOWS].find({"_id": {"$in": ids}}):
        for clip in document.get("clips", {}).values():
            for moment in clip.get("moments", []):
                when = moment["time"].replace(tzinfo=UTC).timestamp()
                found[document["login"]].append(when)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds measured, not 7")
    args = parser.parse_args()
    rounds = 3 if args.quick else 7
    command = "  .venv/bin/python bench/highlight_delay.py" + (" --quick" if args.quick else "")
    schedule = MomentSchedule(CONFIGS["demo"], SEED)
    with tempfile.TemporaryDirectory() as tmp:
        db = LocalFerretDB(Path(tmp) / "ferretdb")
        db.start()
        chat_port = free_port()
        processes: list[subprocess.Popen[bytes]] = []
        try:
            with emulator_process(
                free_port(), chat_port=chat_port, moments="demo", chat_joins_per_10s=2_000
            ) as url:
                _wait_port(chat_port)
                settings = bench_settings(
                    url,
                    db.uri,
                    "bench_highlights",
                    Path(tmp) / "spool",
                    frames_top=0,
                    frames_random=0,
                    frames_non_game=0,
                )
                collector = build_collector(settings)
                collector.collect(settings.cadence.current_slot(datetime.now(UTC)))
                collector.close()
                env = {
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith(("MONGODB_", "CHAT_", "EMULATOR_", "HIGHLIGHT_"))
                }
                env.update(
                    {
                        "EMULATOR_URL": url,
                        "MONGODB_URI": db.uri,
                        "MONGODB_DB": "bench_highlights",
                        "SPOOL_DIR": str(Path(tmp) / "spool"),
                        "CHAT_IRC_URL": f"irc://127.0.0.1:{chat_port}",
                        "CHAT_JOINS_PER_10S": "2000",
                        "HIGHLIGHT_TOP": str(FOLLOWED),
                        "HIGHLIGHT_EVERY_MINUTES": str(EVERY_MINUTES),
                        "HIGHLIGHT_CLIP_SECONDS": str(CLIP_SECONDS),
                    }
                )
                for job in ([sys.executable, "-m", "chat", "run"], ["scripts/highlights"]):
                    processes.append(
                        subprocess.Popen(
                            job,
                            cwd=ROOT,
                            env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                        )
                    )
                store = Store(db.uri, "bench_highlights")
                logins = list(newest_channel_games(store.db, FOLLOWED))[:FOLLOWED]
                first_seen: dict[tuple[str, float], float] = {}
                first_round: float | None = None
                deadline: float | None = None
                while deadline is None or time.time() < deadline:
                    time.sleep(2)
                    for login, windows in _stored_moments(store, logins).items():
                        for start in windows:
                            first_seen.setdefault((login, start), time.time())
                    if first_round is None and store.db[schema.HIGHLIGHT_WINDOWS].find_one():
                        first_round = time.time()
                        deadline = first_round + rounds * EVERY_MINUTES * 60 + 60
                clips = Counter[str]()
                for document in store.db[schema.HIGHLIGHT_WINDOWS].find():
                    clips["stored"] += len(document.get("clips", {}))
                for failure in store.db[schema.HIGHLIGHT_FAILURES].find():
                    clips[failure["reason"]] += 1
                store.close()
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
            db.stop()
    assert first_round is not None and deadline is not None
    # Moments from the first round's clip start until 3 minutes before the end (each such
    # moment has had a round and its 3 minutes since).
    span = (first_round - CLIP_SECONDS, deadline - 180)
    planted = [
        (login, m)
        for login in logins
        for m in schedule.between(login, *span)
        if m.highlight and span[0] <= m.start and m.end <= span[1]
    ]
    delays, missed = [], 0
    for login, moment in planted:
        seen = [
            at
            for (who, start), at in first_seen.items()
            if who == login and start < moment.end and moment.start < start + WINDOW_SECONDS
        ]
        if seen:
            delays.append(min(seen) - moment.end)
        else:
            missed += 1
    lag = np.array(delays)
    failures = ", ".join(f"{n} {reason}" for reason, n in clips.items() if reason != "stored")
    report = f"""## Highlights: from a planted moment to its row on the page (`bench/highlight_delay.py`)

{machine()}. Command:

{command}

The demo's highlight path, each part its own process: the emulator's live market with
planted moments (`EMULATOR_MOMENTS=demo`), `python -m chat run` on its top channels,
`scripts/highlights` scoring the top {FOLLOWED} every {EVERY_MINUTES} minutes with
{CLIP_SECONDS}-s clips, FerretDB. The stored moments are read every 2 s (the page reads
them on each visit); a planted highlight is shown once a stored moment's window overlaps
it; its delay runs from the moment's end. {rounds} rounds measured.

| figure | value |
|---|---|
| planted highlights in the watched span / shown | {len(planted)} / {len(delays)} ({missed} not found by the model) |
| delay from a planted moment's end to its row, median / p95 / max | {np.median(lag):.0f} s / {np.percentile(lag, 95):.0f} s / {lag.max():.0f} s (target ≤ 3 min) |
| clips of the followed channels: stored / failed | {clips["stored"]} / {sum(clips.values()) - clips["stored"]}{f" ({failures})" if failures else ""} |
"""
    print(report)
    write_section("highlight-delay", report)


if __name__ == "__main__":
    main()
