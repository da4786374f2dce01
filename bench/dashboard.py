"""Dashboard benchmark at 90 days; writes its section of docs/benchmarks.md.

    .venv/bin/python bench/dashboard.py                 # 90 days × 48 snapshots × 1,000 streams
    .venv/bin/python bench/dashboard.py --days 3 --quick

1. Fills a private FerretDB with the history (bulk inserts, documents built by the
   collector's own code) — or reuses it from bench/out/ when it is already there.
2. Times the dashboard's history load (the background read at start) and its memory.
3. Server-side latency of every page and callback, cold (results cache empty, as after
   each new snapshot) and warm (cached), p50/p95.
4. The naive approach in the same run: read the window's raw streams into pandas per
   request and compute the Overview's genre figures from them.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
from pymongo.errors import ExecutionTimeout

from bench.common import ROOT, machine, write_section
from catalogue import Catalogue
from emulator.catalogue import IGDB_GENRES
from emulator.config import EmulatorSettings
from emulator.market import Market
from store import Store, schema
from store.localdb import LocalFerretDB
from store.reader import StoreReader
from store.rollups import compute_rollups
from twitch_client.models import Game, Stream

END = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
CHUNK = 20_000
NAIVE_LIMIT_SECONDS = 300


def fill(store: Store, days: int) -> float:
    """Bulk-write `days` of history; return seconds taken."""
    began = time.perf_counter()
    market = Market(EmulatorSettings(_env_file=None))  # type: ignore[call-arg]
    genre_catalogue = Catalogue.load()
    games = [
        schema.game_document(
            Game(id=c.twitch_id, name=c.name, igdb_id=c.igdb_id),
            genre_catalogue.resolve(
                c.twitch_id, c.name, c.igdb_id, [IGDB_GENRES[g] for g in c.igdb_genre_ids], END
            ),
            END,
        )
        for c in market.categories
    ]
    store.db[schema.GAMES].insert_many(games)
    catalogue = {g["_id"]: g for g in games}
    streams: list[dict[str, Any]] = []
    rollups: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    slots = [END - timedelta(days=days) + timedelta(minutes=30 * i) for i in range(days * 48)]
    for number, slot in enumerate(slots, 1):
        records = market.table(slot.timestamp()).records[:1000]
        docs = [
            schema.stream_document(slot, Stream.model_validate(r), rank)
            for rank, r in enumerate(records, 1)
        ]
        streams += docs
        rollups += compute_rollups(
            slot, docs, lambda g: schema.genre_of(catalogue.get(g)), written_at=slot
        )
        snapshots.append(
            {
                "_id": schema.snapshot_id(slot),
                "slot": slot,
                "status": "complete",
                "stream_count": len(docs),
                "schema_version": schema.SCHEMA_VERSION,
            }
        )
        if len(streams) >= CHUNK or number == len(slots):
            store.db[schema.STREAMS].insert_many(streams, ordered=False)
            store.db[schema.ROLLUPS].insert_many(rollups, ordered=False)
            store.db[schema.SNAPSHOTS].insert_many(snapshots, ordered=False)
            streams, rollups, snapshots = [], [], []
            print(
                f"  {number}/{len(slots)} slots written ({time.perf_counter() - began:.0f} s)",
                flush=True,
            )
    store.db[schema.META].replace_one(
        {"_id": schema.ROLLUP_STATE_ID}, {"newest_slot": slots[-1], "written_at": END}, upsert=True
    )
    return time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument(
        "--runs", type=int, default=10, help="repetitions per callback and cache state"
    )
    parser.add_argument("--quick", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()

    folder = ROOT / "bench" / "out" / f"ferretdb-{args.days}d"
    fresh = not folder.exists()
    db = LocalFerretDB(folder)
    db.start()
    try:
        store = Store(db.uri, "bench_dashboard", timeout_ms=600_000)
        fill_seconds = fill(store, args.days) if fresh else float("nan")
        if fresh:
            store.ensure_indexes()
        report = measure(db, args, fill_seconds)
        store.close()
    finally:
        db.stop()
    print(report)
    if not args.quick:
        write_section("dashboard", report)


def measure(db: LocalFerretDB, args: argparse.Namespace, fill_seconds: float) -> str:
    import dash

    from dashboard import state
    from dashboard.app import create_app
    from dashboard.filters import Filters
    from dashboard.metrics import group_metrics, snapshot_weights

    reader = StoreReader(db.uri, "bench_dashboard", timeout_ms=600_000)
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    create_app(reader=reader)  # starts the background history load, as gunicorn workers do
    data = state.market()
    data.start_loading().join()
    load_seconds = time.perf_counter() - began
    assert data.loaded, data.load_error
    data._refresh_seconds = 3600.0  # nothing changes during the measurement
    pages = {p["path"]: sys.modules[p["module"]] for p in dash.page_registry.values()}
    overview, games, languages, when, streamer = (
        pages[path] for path in ("/", "/games", "/languages", "/when", "/streamer")
    )
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = (
        len(data.frames["game_language"]) + len(data.frames["genre_language"]) + len(data.channels)
    )

    newest = data.newest_slot()
    top_login = str(
        data.channel_rows(Filters().window_for(newest)).sort_values("viewers").iloc[-1]["login"]
    )
    top_game = "509658"
    cases: list[tuple[str, Callable[[Filters], Any]]] = [
        ("Overview page", lambda f: overview.layout(**query(f))),
        (
            "Overview: pie by game",
            lambda f: overview.share_figure(data, f.window_for(newest), f, "game"),
        ),
        ("Games page (table, growth)", lambda f: games.layout(**query(f))),
        (
            "Games: one game's detail",
            lambda f: games.game_detail(data, f.window_for(newest), f, top_game),
        ),
        ("Languages page", lambda f: languages.layout(**query(f))),
        ("When to stream page", lambda f: when.layout(**query(f))),
        (
            "When: heat map of a game",
            lambda f: when.heatmap_figure(data, f.window_for(newest), f, f"game:{top_game}"),
        ),
        ("Streamer lookup", lambda f: streamer.lookup(data, f.window_for(newest), top_login)),
    ]
    lines = [
        "| callback | window | cold p50 (ms) | cold p95 (ms) | warm p50 (ms) | warm p95 (ms) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    worst_cold = worst_warm = 0.0
    for name, call in cases:
        for window in ("24h", "7d", "30d"):
            filters = Filters(window=window)
            cold, warm = [], []
            for _ in range(args.runs):
                data._memo.clear()
                t = time.perf_counter()
                call(filters)
                cold.append((time.perf_counter() - t) * 1000)
            for _ in range(args.runs):
                t = time.perf_counter()
                call(filters)
                warm.append((time.perf_counter() - t) * 1000)
            worst_cold = max(worst_cold, percentile(cold, 0.95))
            worst_warm = max(worst_warm, percentile(warm, 0.95))
            lines.append(
                f"| {name} | {window} | {statistics.median(cold):.1f} | {percentile(cold, 0.95):.1f} | "
                f"{statistics.median(warm):.2f} | {percentile(warm, 0.95):.2f} |"
            )

    naive_lines = [
        "| naive: raw streams → pandas per request | window | seconds | streams read |",
        "| --- | --- | --- | --- |",
    ]
    for window in ("24h",):
        w = Filters(window=window).window_for(newest)
        t = time.perf_counter()
        try:
            cursor = reader._db[schema.STREAMS].find(
                {"slot": {"$gte": w.start, "$lt": w.end}},
                {"_id": 0, "slot": 1, "game_id": 1, "viewer_count": 1},
                max_time_ms=NAIVE_LIMIT_SECONDS * 1000,
            )
            raw = pd.DataFrame(list(cursor))
            raw["key"] = raw["game_id"].map(data.genre_of_game)
            per_slot = (
                raw.groupby(["slot", "key"])["viewer_count"].agg(["sum", "count"]).reset_index()
            )
            per_slot.columns = ["slot", "key", "viewers", "channels"]
            group_metrics(per_slot, snapshot_weights(pd.DatetimeIndex(per_slot["slot"].unique())))
            naive_lines.append(
                f"| Overview genre figures | {window} | {time.perf_counter() - t:.1f} | {len(raw):,} |"
            )
        except ExecutionTimeout:
            naive_lines.append(
                f"| Overview genre figures | {window} | > {NAIVE_LIMIT_SECONDS} (stopped by maxTimeMS) | — |"
            )
    reader.close()

    target = "met" if worst_cold < 1000 and worst_warm < 100 else "NOT met"
    return (
        f"## Dashboard\nMeasured by `.venv/bin/python bench/dashboard.py --days {args.days}` on {machine()}: "
        f"{args.days} days × 48 snapshots × 1,000 streams in FerretDB v1.24.2 (SQLite), "
        f"{args.runs} runs per cell. "
        + (
            f"Data written in {fill_seconds / 60:.1f} min.\n\n"
            if fill_seconds == fill_seconds
            else "Data reused from `bench/out/` (written by an earlier run of the same command).\n\n"
        )
        + f"**History load at start** (one background read of the per-snapshot rollups into memory): "
        f"{load_seconds:.1f} s, {rows:,} rows, +{(rss_after - rss_before) / 1024:.0f} MB resident. "
        "New snapshots are then fetched by `_id`, one at a time.\n\n"
        "**Callbacks**, server-side (the page's layout function or the callback itself, as Dash calls it). "
        "Cold = results cache empty (as after every new snapshot); warm = cached.\n\n"
        + "\n".join(lines)
        + f"\n\nTarget p95 < 100 ms warm and < 1 s cold for every callback: **{target}** "
        f"(worst p95: cold {worst_cold:.0f} ms, warm {worst_warm:.1f} ms).\n\n"
        "**Naive approach**, same run and database: read the window's raw streams into pandas per request "
        "(FerretDB v1 serves no secondary index, so every such query scans the whole collection).\n\n"
        + "\n".join(naive_lines)
    )


def query(filters: Any) -> dict[str, str]:
    return {"window": filters.window}


if __name__ == "__main__":
    main()
