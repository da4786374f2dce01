"""Whole-market benchmarks; writes the `market` section of docs/benchmarks.md.

    .venv/bin/python bench/market.py           # about 5 minutes
    .venv/bin/python bench/market.py --quick   # a smaller market, not written to the docs

1. The shape of the emulated market at its default size (what it reproduces of Twitch).
2. A whole-market snapshot at the daily peak (about 110,000 live streams), emulator at
   100 ms latency, into a real FerretDB: the production `collect` (market scope: every
   stream listed, the top 1,000 stored, the whole market rolled up), beside its bounds;
   then the same with the biggest language as one chain (the design before the split).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import emulator_process, machine, write_section
from emulator.config import EmulatorSettings
from emulator.market import Market
from scheduler.app import build_collector
from settings import Settings
from store import LocalFerretDB, free_port

LATENCY_MS = 100
PEAK = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)  # the emulated market's daily peak
POINTS_PER_MINUTE = 800
DEFAULT_CHANNELS = int(EmulatorSettings.model_fields["channels"].default)


def shape(channels: int) -> str:
    market = Market(EmulatorSettings(_env_file=None, channels=channels))
    lines = [
        "| hour (UTC) | live channels | viewers | median channel | under 5 viewers | biggest channel |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for hour in range(0, 24, 3):
        at = PEAK.replace(hour=hour).timestamp()
        viewers = market.live_arrays(at).viewers
        lines.append(
            f"| {hour:02d}:00 | {len(viewers):,} | {int(viewers.sum()):,} | "
            f"{int(np.median(viewers))} | {(viewers < 5).mean():.0%} | {int(viewers.max()):,} |"
        )
    return (
        f"### The emulated market ({channels:,} channels"
        + (", the default" if channels == DEFAULT_CHANNELS else "")
        + ")\n"
        "Twitch has about 60,000–110,000 live channels over a day and 2–3 million concurrent "
        "viewers, most channels with 0–5 viewers and a few with tens of thousands. The emulator's "
        "market over one day:\n\n" + "\n".join(lines)
    )


def snapshot(channels: int, split: bool, tmp: Path, db: LocalFerretDB) -> dict[str, Any]:
    """One whole-market `collect` against a fresh emulator (a full points bucket)."""
    emulated: dict[str, Any] = {
        "channels": channels,
        "latency_ms": LATENCY_MS,
        "frozen_at": PEAK.isoformat(),
    }
    settings = EmulatorSettings(_env_file=None, **emulated)
    live = len(Market(settings).live_arrays(PEAK.timestamp()).viewers)
    with emulator_process(free_port(), **emulated) as url:
        database = f"bench_market_{'split' if split else 'chain'}"
        collector_settings = Settings(
            _env_file=None,
            twitch_client_id="",
            emulator_url=url,
            mongodb_uri=db.uri,
            mongodb_db=database,
            spool_dir=tmp / f"spool-{database}",
            snapshot_scope="market",
            all_streams_split_languages="en" if split else "",
            frames_top=0,
            frames_random=0,
            frames_non_game=0,
        )
        job = build_collector(collector_settings, clock=lambda: PEAK)
        writes: list[float] = []
        write = job.store.write_snapshot

        def timed(batch: Any) -> bool:
            began = time.perf_counter()
            try:
                return write(batch)
            finally:
                writes.append(time.perf_counter() - began)

        job.store.write_snapshot = timed  # type: ignore[method-assign]
        summary = job.collect(PEAK)
        job.close()
    assert summary.outcome == "stored", summary
    return {"live": live, "summary": summary, "write": writes[0]}


def snapshot_section(channels: int, tmp: Path, db: LocalFerretDB) -> str:
    lines = [
        "| listing | streams found | requests | chains | longest chain (pages) | wall (s) | "
        "chain bound (s) | points bound (s) | write (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split in (True, False):
        run = snapshot(channels, split, tmp, db)
        s = run["summary"]
        chain_bound = s.longest_chain * LATENCY_MS / 1000
        points_bound = max(0.0, (s.requests - POINTS_PER_MINUTE) / (POINTS_PER_MINUTE / 60))
        label = (
            "English split in 8 by category (now)" if split else "one chain per language (before)"
        )
        lines.append(
            f"| {label} | {s.listed:,} of {run['live']:,} live ({s.streams:,} stored) | "
            f"{s.requests:,} | "
            f"{s.chains} | {s.longest_chain} | {s.seconds:.1f} | {chain_bound:.1f} | "
            f"{points_bound:.1f} | {run['write']:.2f} |"
        )
    return (
        f"### A whole-market snapshot at the daily peak, emulator at {LATENCY_MS} ms latency\n"
        "The production `collect` in market scope: every live stream listed (6 chains at a "
        "time), the top 1,000 stored in full, the whole market rolled up and written to "
        "FerretDB with its history documents. Wall time is the whole run (token, listing, "
        "game metadata for every category, rollups, write). Chain bound: the longest cursor "
        f"chain × {LATENCY_MS} ms (pages of one chain are sequential). Points bound: what "
        f"the {POINTS_PER_MINUTE} points/min bucket needs beyond its first {POINTS_PER_MINUTE} "
        "points. Write: `Store.write_snapshot` alone. The slot is 30 minutes long.\n\n"
        + "\n".join(lines)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smaller market; not written")
    args = parser.parse_args()
    channels = 60_000 if args.quick else DEFAULT_CHANNELS
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        db = LocalFerretDB(tmp / "ferretdb")
        db.start()
        try:
            sections = [shape(channels), snapshot_section(channels, tmp, db)]
        finally:
            db.stop()
    report = (
        f"## Whole market\nMeasured by `.venv/bin/python bench/market.py` on {machine()}.\n\n"
        + "\n\n".join(sections)
    )
    print(report)
    if not args.quick:
        write_section("market", report)


if __name__ == "__main__":
    main()
