"""Collector benchmarks; writes its section of docs/benchmarks.md.

    .venv/bin/python bench/collect.py            # full run (about 2 minutes)
    .venv/bin/python bench/collect.py --quick    # smaller, for a smoke test

1. A top-1,000 snapshot (`SNAPSHOT_SCOPE=top`) by the production collector, frame
   sampling included, against the emulator at 100 ms latency: requests and wall time,
   beside requests × latency (the pages of a listing are read one after another; the
   first run also looks up every new game; the emulator's paging quirks can add a page
   or two). The whole-market snapshot is measured by `bench/market.py`.
2. Insert time per 1,000-stream snapshot into FerretDB (streams, rollups, history
   documents, snapshot).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emulator_process, machine, write_section
from scheduler.app import build_collector
from scheduler.collect import Collector
from settings import Settings
from store import (
    LocalFerretDB,
    SnapshotBatch,
    Store,
    compute_rollups,
    free_port,
    schema,
    snapshot_document,
    stream_document,
)

LATENCY_MS = 100
SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def collector(url: str, db: LocalFerretDB, database: str, spool: Path) -> Collector:
    """The production collector (`scheduler.app.build_collector`) of the default settings,
    top scope: snapshot, game lookup, rollups, the write, then frame sampling."""
    settings = Settings(
        _env_file=None,
        twitch_client_id="",
        emulator_url=url,
        mongodb_uri=db.uri,  # type: ignore[call-arg]
        mongodb_db=database,
        spool_dir=spool,
        snapshot_scope="top",
    )
    return build_collector(settings)


def bench_top(db: LocalFerretDB, tmp: Path, runs: int) -> str:
    rows = []
    with emulator_process(free_port(), latency_ms=LATENCY_MS) as url:
        job = collector(url, db, "bench_top", tmp / "spool-top")
        for i in range(runs):
            summary = job.collect(SLOT + timedelta(minutes=30 * i))
            assert summary.outcome == "stored" and summary.streams == 1000, summary
            rows.append(summary)
        job.close()
    lines = [
        "| run | games looked up | pages | requests | frames stored | wall (s) "
        "| requests × 100 ms (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, s in enumerate(rows, 1):
        bound = s.requests * LATENCY_MS / 1000
        lines.append(
            f"| {i} | {s.new_games} | {s.pages} | {s.requests} | {s.frames} | {s.seconds:.2f} "
            f"| {bound:.2f} |"
        )
    warm = rows[1:] or rows
    median = statistics.median(s.seconds for s in warm)
    return (
        "### Top-1,000 snapshot, emulator at 100 ms latency\n"
        f"{len(rows)} runs of `Collector.collect` as `scheduler.app.build_collector` builds it "
        "(SNAPSHOT_SCOPE=top, frame sampling at its defaults).\n\n"
        + "\n".join(lines)
        + f"\n\nMedian wall time of runs 2–{len(rows)}: **{median:.2f} s**."
    )


def bench_insert(db: LocalFerretDB, repeats: int) -> str:
    store = Store(db.uri, "bench_insert")
    store.ensure_indexes()
    template = [
        {
            "stream_id": str(40_000_000_000 + i),
            "user_id": str(10_000 + i),
            "user_login": f"user{i}",
            "user_name": f"User{i}",
            "game_id": str(i % 150),
            "game_name": f"Game {i % 150}",
            "language": ("en", "es", "de", "pt")[i % 4],
            "title": "a stream title of realistic length, with words " * 2,
            "viewer_count": 100_000 // (i + 1),
            "started_at": SLOT,
            "tags": ["English"],
            "is_mature": False,
            "thumbnail_url": "x" * 80,
        }
        for i in range(1000)
    ]
    timings = []
    rollup_count = 0
    for r in range(repeats):
        slot = SLOT + timedelta(minutes=30 * r)
        streams = [stream_document(slot, rank, **fields) for rank, fields in enumerate(template, 1)]
        batch = SnapshotBatch(
            slot=slot,
            snapshot=snapshot_document(
                slot,
                started_at=slot,
                finished_at=slot,
                status=schema.COMPLETE,
                mode="market",
                level=schema.STREAM_LEVEL,
                top_n=len(streams),
                streams=streams,
                listed=streams,
            ),
            streams=streams,
            rollups=compute_rollups(slot, streams, lambda g: "Shooter"),
        )
        rollup_count = len(batch.rollups)
        began = time.perf_counter()
        store.write_snapshot(batch)
        timings.append(time.perf_counter() - began)
    store.close()
    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    return (
        "### Insert time per snapshot into FerretDB\n"
        f"`Store.write_snapshot` of 1,000 stream documents + {rollup_count} rollup documents + the snapshot "
        "document, the six history documents of its day and the `meta` update, "
        f"{repeats} consecutive slots into one database (FerretDB v1.24.2, SQLite, loopback).\n\n"
        f"| median (ms) | p95 (ms) | min (ms) | max (ms) |\n| --- | --- | --- | --- |\n"
        f"| {statistics.median(timings) * 1000:.0f} | {p95 * 1000:.0f} | {timings[0] * 1000:.0f} | "
        f"{timings[-1] * 1000:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (smoke test; not written to the docs)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        db = LocalFerretDB(tmp / "ferretdb")
        db.start()
        try:
            sections = [
                bench_top(db, tmp, runs=2 if args.quick else 5),
                bench_insert(db, repeats=5 if args.quick else 30),
            ]
        finally:
            db.stop()
    command = "`.venv/bin/python bench/collect.py`"
    report = f"## Collector\nMeasured by {command} on {machine()}.\n\n" + "\n\n".join(sections)
    print(report)
    if not args.quick:
        write_section("collect", report)


if __name__ == "__main__":
    main()
