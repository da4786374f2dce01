"""Live chat delay benchmark; writes its section of docs/benchmarks.md.

    .venv/bin/python bench/chat_live.py            # full run (about 6 minutes)
    .venv/bin/python bench/chat_live.py --quick    # shorter, for a smoke test

How long a chat line takes from the emulator's socket to the Chat page's live chart, on
the production path: `python -m emulator` serves the chat of its market at the daily
peak; one collection stores a snapshot; `python -m chat run` (its own process, default
settings) reads the top 1,000 channels of it and writes its minutes to FerretDB; this
process is the dashboard's side: `ChatLive.current()` as the live section calls it every
`LIVE_REFRESH_MS`, from a visitor who opened the page at a random moment.

The emulator's ledger total is polled every 0.2 s, so each line has a send time (to
within 0.2 s); a line is shown at the first refresh whose view counts that many messages.
The delay of a line is the difference, over lines picked uniformly from the measured span.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bson
import numpy as np
import pymongo
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chat import MARKET_AT, _wait_port
from bench.common import ROOT, bench_settings, emulator_process, machine, write_section
from dashboard.chat_live import LIVE_REFRESH_MS, ChatLive
from scheduler.app import build_collector
from store import LocalFerretDB, StoreReader, chat_minute_id, free_port
from store.schema import CHAT_LIVE, CHAT_MINUTES

CHANNELS = 1_000


def _ledger(url: str, stop: threading.Event, samples: list[tuple[float, int]]) -> None:
    session = requests.Session()
    while not stop.is_set():
        asked = time.monotonic()
        total = int(
            session.get(f"{url}/_emulator/chat/sent?only=total", timeout=10).json()["messages"]
        )
        samples.append(((asked + time.monotonic()) / 2, total))
        stop.wait(0.2)


def _sizes(uri: str, database: str) -> tuple[int, int]:
    """The BSON bytes of the last complete minute's `chat_minutes` and `chat_live`
    documents."""
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    document_id = chat_minute_id(minute, "0of1")
    with pymongo.MongoClient(uri) as client:
        minutes, live = (
            client[database][name].find_one({"_id": document_id}) or {}
            for name in (CHAT_MINUTES, CHAT_LIVE)
        )
        return len(bson.encode(minutes)), len(bson.encode(live))


def delays(
    ledger: list[tuple[float, int]], shown: list[tuple[float, int]], rng: np.random.Generator
) -> np.ndarray:
    """Per sampled line: when the first refresh counted it minus when it was sent."""
    sent_at, sent = np.array(ledger).T
    seen_at, seen = np.array(shown).T
    low, high = max(sent[0], seen[0]), seen[-1]
    lines = rng.integers(int(low) + 1, int(high) + 1, 20_000)
    written = sent_at[np.searchsorted(sent, lines, "left")]  # the first sample that counts it
    counted = seen_at[np.searchsorted(seen, lines, "left")]
    return np.asarray(counted - written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 minute measured, not 4")
    args = parser.parse_args()
    measured = 60.0 if args.quick else 240.0
    warm_up = 60.0
    command = "  .venv/bin/python bench/chat_live.py" + (" --quick" if args.quick else "")
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = LocalFerretDB(Path(tmp) / "ferretdb")
        db.start()
        chat_port = free_port()
        try:
            with emulator_process(
                free_port(),
                chat_port=chat_port,
                chat_joins_per_10s=2_000,
                frozen_at=MARKET_AT,
            ) as url:
                _wait_port(chat_port)
                settings = bench_settings(
                    url,
                    db.uri,
                    "bench_live",
                    Path(tmp) / "spool",
                    snapshot_top_n=CHANNELS,
                    frames_top=0,
                    frames_random=0,
                    frames_non_game=0,
                )
                collector = build_collector(settings)
                collector.collect(datetime.fromisoformat(MARKET_AT))
                collector.close()
                env = {
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith(("MONGODB_", "CHAT_", "EMULATOR_"))
                }
                env.update(
                    {
                        "EMULATOR_URL": url,
                        "MONGODB_URI": db.uri,
                        "MONGODB_DB": "bench_live",
                        "SPOOL_DIR": str(Path(tmp) / "spool"),
                        "CHAT_IRC_URL": f"irc://127.0.0.1:{chat_port}",
                        "CHAT_JOINS_PER_10S": "2000",
                    }
                )
                reader_process = subprocess.Popen(
                    [sys.executable, "-m", "chat", "run"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                stop = threading.Event()
                ledger: list[tuple[float, int]] = []
                poller = threading.Thread(target=_ledger, args=(url, stop, ledger), daemon=True)
                poller.start()
                dashboard = StoreReader(db.uri, "bench_live")
                live = ChatLive(dashboard, ["0of1"])
                try:
                    time.sleep(warm_up + rng.uniform(0, LIVE_REFRESH_MS / 1000))
                    shown: list[tuple[float, int]] = []
                    refresh: list[float] = []
                    began = time.monotonic()
                    while time.monotonic() - began < measured:
                        asked = time.monotonic()
                        view = live.current()
                        refresh.append(time.monotonic() - asked)
                        counted = int(view.per_minute()["messages"].sum())
                        shown.append((time.monotonic(), counted))
                        time.sleep(max(0.0, asked + LIVE_REFRESH_MS / 1000 - time.monotonic()))
                    # The lines sent in the last refresh period have had no refresh to
                    # show them yet: the sample ends one period before the last refresh.
                    cut = shown[-1][0] - LIVE_REFRESH_MS / 1000 - 15
                    stop.set()
                    poller.join(timeout=10)
                    sizes = _sizes(db.uri, "bench_live")
                finally:
                    stop.set()
                    reader_process.terminate()
                    reader_process.wait(timeout=30)
                    dashboard.close()
        finally:
            db.stop()
    last_line = max(total for at, total in ledger if at <= cut)
    shown_in_span = [(at, min(total, last_line)) for at, total in shown]
    lag = delays(ledger, shown_in_span, rng)
    rate = (ledger[-1][1] - ledger[0][1]) / (ledger[-1][0] - ledger[0][0])
    report = f"""## Live chat: from a line sent to its count on the live chart (`bench/chat_live.py`)

{machine()}. Command:

{command}

The emulator's chat at its market's daily peak (default message rate); `python -m chat run`
reading the top {CHANNELS:,} channels of a stored snapshot with default settings (its
minutes written every `CHAT_FLUSH_SECONDS`, each first packed for the live view in
`chat_live`); the Chat page's live section read every
{LIVE_REFRESH_MS / 1000:.0f} s (`ChatLive.current()`), over {measured / 60:.0f} minutes after a
{warm_up:.0f} s start. Each sampled line's delay is from the ledger sample that first counts
it (polled every 0.2 s) to the first refresh whose view counts it.

| figure | value |
|---|---|
| lines sent per second (ledger) | {rate:,.0f} |
| delay from a line sent to its count on the live chart, median / p95 / max (20,000 lines sampled) | {np.median(lag):.1f} s / {np.percentile(lag, 95):.1f} s / {lag.max():.1f} s (target p95 ≤ 20 s) |
| a refresh of the live view (the newest minutes read again, settled ones kept), median / max | {np.median(refresh[1:]) * 1000:.0f} ms / {max(refresh[1:]) * 1000:.0f} ms |
| the first refresh of a worker (every stored minute of the last hour read) | {refresh[0] * 1000:.0f} ms |
| a minute of the top {CHANNELS:,} channels: `chat_minutes` document (the record) / `chat_live` document (what the view reads) | {sizes[0] / 1e6:.2f} MB / {sizes[1] / 1e6:.2f} MB |
"""
    print(report)
    write_section("chat-live", report)


if __name__ == "__main__":
    main()
