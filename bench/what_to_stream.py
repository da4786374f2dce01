"""What-to-stream page, API and feed over a year of history; writes its section of
docs/benchmarks.md.

    .venv/bin/python bench/what_to_stream.py [--runs 20]

Uses the year of whole-market history `bench/dashboard.py` keeps in bench/out/ (written
first when absent) and adds the directory counts of its last 37 days (a 30-day window
and the feed's 7 days before it; older days are never read at that window: counts are
read by day). The counts are the emulator market's (every live channel, every language,
every 30 minutes) for one week, repeated. Then, in this process, a dashboard worker as
gunicorn starts it: each call cold (result cache empty, as after each new snapshot) and
warm, p50/p95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, write_section
from bench.dashboard import END_DAY, HALF_HOUR, fill, percentile

DATABASE = "bench_365d"
COUNT_DAYS = 37
MARKER = "what_to_stream_counts"


def add_directory_counts(uri: str) -> float:
    """Write the last COUNT_DAYS days of directory counts (once); seconds taken."""
    from emulator.catalogue import LANGUAGES
    from emulator.config import EmulatorSettings
    from emulator.market import Market
    from store import ALL_LANGUAGES, DIRECTORY_BINS, DirectoryCounts, Store, schema
    from store._directory_counts import bin_of
    from store._partitions import day_collection

    store = Store(uri, DATABASE, timeout_ms=600_000)
    if store.db[schema.META].find_one({"_id": MARKER}) is not None:
        store.close()
        return 0.0
    began = time.perf_counter()
    market = Market(EmulatorSettings(_env_file=None))
    game_ids = [c.twitch_id for c in market.categories]
    games, bins = len(game_ids), len(DIRECTORY_BINS)
    codes = [ALL_LANGUAGES] + [language.code for language in LANGUAGES]
    first = END_DAY - timedelta(days=COUNT_DAYS - 1)
    week: list[np.ndarray] = []  # per day: languages × slots × games × bins
    for day in range(7):
        planes = np.zeros((len(codes), 48, games, bins), dtype=np.int32)
        for i in range(48):
            live = market.live_arrays((first + timedelta(days=day) + HALF_HOUR * i).timestamp())
            cell = live.game * bins + bin_of(live.viewers)
            planes[0, i] = np.bincount(cell, minlength=games * bins).reshape(games, bins)
            language = market.language_of(live.channel)
            for code in range(len(LANGUAGES)):
                mine = cell[language == code]
                counts = np.bincount(mine, minlength=games * bins).reshape(games, bins)
                planes[code + 1, i] = counts
        week.append(planes)
    for number in range(COUNT_DAYS):
        day = first + timedelta(days=number)
        slots: list[datetime] = [day + HALF_HOUR * i for i in range(48)]
        collection = store.db[day_collection(schema.DIRECTORY_COUNTS, day, None)]
        collection.delete_many({})
        for code, counts in zip(codes, week[number % 7], strict=True):
            live = counts.sum(axis=(0, 2)) > 0
            document = DirectoryCounts(
                day, code, slots, [g for g, on in zip(game_ids, live, strict=True) if on],
                counts[:, live],
            ).to_document()  # fmt: skip
            collection.insert_one(document)
    store.db[schema.META].insert_one({"_id": MARKER, "days": COUNT_DAYS})
    store.close()
    return time.perf_counter() - began


def measure(uri: str, runs: int) -> tuple[list[str], tuple[float, float, float], float]:
    import dash

    from dashboard import state
    from dashboard.app import create_app
    from settings import Settings
    from store import StoreReader

    began = time.perf_counter()
    settings = Settings(_env_file=None, api_rate_limit="1000000/minute")
    app = create_app(settings, reader=StoreReader(uri, DATABASE, timeout_ms=600_000))
    client = app.server.test_client()
    holder = state.market()
    assert holder.wait_loaded(900), holder.load_error
    loaded = time.perf_counter() - began
    holder.stop()  # nothing changes during the measurement
    what = next(
        sys.modules[p["module"]]
        for p in dash.page_registry.values()
        if p["path"] == "/what-to-stream"
    )
    query = {"window": "30d", "tz": "UTC"}
    search = "window=30d&tz=UTC"
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("What-to-stream page, 3 viewers, every hour", lambda: what.layout(**query)),
        (
            "What-to-stream page, 10 viewers, weekends, German",
            lambda: what.layout(**query, viewers="10", days="weekend", language="de"),
        ),
        (
            "API /api/v1/what-to-stream",
            lambda: client.get(f"/api/v1/what-to-stream?{search}").get_json(),
        ),
        (
            "Feed /feeds/what-to-stream.atom",
            lambda: client.get(f"/feeds/what-to-stream.atom?{search}").data,
        ),
    ]
    lines = [
        "| call (30-day window, 365 days stored) | first p50 (ms) | first p95 (ms) "
        "| after a snapshot p50 (ms) | after a snapshot p95 (ms) | warm p50 (ms) "
        "| warm p95 (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    newest_day = max(holder.view().history_days)
    worst_first = worst_after = worst_warm = 0.0
    for name, call in cases:
        first, after, warm = [], [], []
        for _ in range(runs):  # nothing cached: a worker's first call
            holder.cache.clear()
            holder.day_cache.clear()
            t = time.perf_counter()
            call()
            first.append((time.perf_counter() - t) * 1000)
        for run in range(runs):  # a new snapshot: results dropped, its day changed
            holder.cache.clear()
            holder.view().history_days[newest_day] = f"snapshot {run}"
            t = time.perf_counter()
            call()
            after.append((time.perf_counter() - t) * 1000)
        for _ in range(runs):
            t = time.perf_counter()
            call()
            warm.append((time.perf_counter() - t) * 1000)
        worst_first = max(worst_first, percentile(first, 0.95))
        worst_after = max(worst_after, percentile(after, 0.95))
        worst_warm = max(worst_warm, percentile(warm, 0.95))
        lines.append(
            f"| {name} | {statistics.median(first):.0f} | {percentile(first, 0.95):.0f} "
            f"| {statistics.median(after):.0f} | {percentile(after, 0.95):.0f} "
            f"| {statistics.median(warm):.1f} | {percentile(warm, 0.95):.1f} |"
        )
    response = client.get(f"/api/v1/what-to-stream?{search}").get_json()
    assert response["rows"], "the benchmark's history has no directory counts"
    return lines, (worst_first, worst_after, worst_warm), loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from store import LocalFerretDB

    folder = ROOT / "bench" / "out" / "ferretdb-history-90-365d"
    fresh = not folder.exists()
    db = LocalFerretDB(folder)
    db.start()
    try:
        if fresh:
            fill(db.uri, [90, 365])
        counts_seconds = add_directory_counts(db.uri)
        lines, (worst_first, worst_after, worst_warm), loaded = measure(db.uri, args.runs)
    finally:
        db.stop()
    written = (
        f"written in {counts_seconds:.0f} s" if counts_seconds else "written by an earlier run"
    )
    report = f"""## What to stream at a year of history (`bench/what_to_stream.py`)

{machine()}. Command:

    .venv/bin/python bench/what_to_stream.py{f" --runs {args.runs}" if args.runs != 20 else ""}

FerretDB holding `bench/dashboard.py`'s 365 days of whole-market history, with the
directory counts of the last {COUNT_DAYS} days (every language; {written}). A dashboard
worker loaded the year in {loaded:.0f} s; then each call {args.runs} times as a worker's
first (every cache empty), {args.runs} times as after a new snapshot (page results
dropped and the newest day's version moved, so that day's directory figures are read
again while the other days' are kept, `dashboard/directory_days.py`) and {args.runs}
times warm.

{chr(10).join(lines)}

| target | value |
|---|---|
| cold p95 < 1 s: after a new snapshot (page results dropped), worst call | {worst_after:.0f} ms ({"met" if worst_after < 1000 else "not met"}) |
| cold p95 < 1 s: a worker's first call (nothing cached), worst call | {worst_first:.0f} ms ({"met" if worst_first < 1000 else "not met"}) |
| warm p95 < 100 ms | {worst_warm:.1f} ms ({"met" if worst_warm < 100 else "not met"}) |
"""
    print(report)
    write_section("what-to-stream", report)


if __name__ == "__main__":
    main()
