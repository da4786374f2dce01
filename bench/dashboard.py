"""Dashboard benchmark over a year of whole-market history; writes its section of
docs/benchmarks.md.

    .venv/bin/python bench/dashboard.py            # 90 and 365 days
    .venv/bin/python bench/dashboard.py --quick    # 7 and 14 days, not written to the docs

1. Fills a private FerretDB (kept in bench/out/ for later runs) with what the dashboard
   reads: the history documents of every day and dimension, the games and `meta`. The
   market is the emulator's at its default size (about 100,000 live channels at peak);
   its per-slot rollups come from `bench/market_history.py` (numpy over the market's
   arrays, checked against `compute_rollups` on one slot) for one week, repeated.
2. Cold start of a dashboard worker in a fresh process (`create_app`, as gunicorn does):
   process start → history loaded → every page served once; resident memory (RSS).
3. Latency of every page and callback at the longest history, cold (result cache empty,
   as after each new snapshot) and warm, p50/p95.
4. The design before (`bench/legacy_loader.py`: every per-snapshot rollup read into long
   frames at start) over 7 days of the same market, measured in the same run.
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, write_section  # noqa: E402

END_DAY = datetime(2026, 11, 22, tzinfo=UTC)  # the newest day of the history
LEGACY_DAYS = 7
HALF_HOUR = timedelta(minutes=30)
# The presets, a custom window of 365 days and everything stored (the whole year).
WINDOWS = ("24h", "7d", "30d", "365d", "all")


def memory() -> dict[str, float]:
    """Resident and peak resident memory of this process, MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


# -- filling -----------------------------------------------------------------------------


def fill(uri: str, lengths: list[int]) -> dict[str, float]:
    """Write each history length into its own database; return seconds per database."""
    from bench.market_history import MarketRollups, game_documents, history_days
    from emulator.config import EmulatorSettings
    from emulator.market import Market
    from slots import day_key
    from store import HISTORY_DIMENSIONS, DayHistory, Store, collection_of, schema

    market = Market(EmulatorSettings(_env_file=None))
    games = game_documents(market, END_DAY)
    rollups = MarketRollups(market, games)
    first_week = END_DAY - timedelta(days=6)
    rollups.check_slot(first_week + timedelta(hours=21), games)
    began = time.perf_counter()
    per_slot = [
        [rollups.slot(first_week + timedelta(days=d) + HALF_HOUR * i) for i in range(48)]
        for d in range(7)
    ]
    week = [
        {
            dim: DayHistory.from_rollups(
                first_week + timedelta(days=d),
                dim,
                [("stream", next(r for r in docs if r["dimension"] == dim)) for docs in slots],
            )
            for dim in HISTORY_DIMENSIONS
        }
        for d, slots in enumerate(per_slot)
    ]
    print(f"  one week of whole-market rollups: {time.perf_counter() - began:.0f} s", flush=True)
    seconds = {}
    for days in lengths:
        began = time.perf_counter()
        store = Store(uri, f"bench_{days}d", timeout_ms=600_000)
        store.ensure_indexes()
        store.db[schema.GAMES].insert_many(games)
        written = datetime.now(UTC)
        versions, newest = {}, END_DAY
        for day in history_days(week, END_DAY - timedelta(days=days - 1), days):
            for history in day.values():
                collection = collection_of(history.dimension, history.day)
                store.db[collection].insert_one(history.to_document(written))
            versions[day_key(day["game"].day)] = written
            newest = day["game"].slots[-1]
        store.db[schema.META].insert_one(
            {
                "_id": schema.ROLLUP_STATE_ID,
                "newest_slot": newest,
                "written_at": written,
                "history_days": versions,
            }
        )
        store.close()
        seconds[f"bench_{days}d"] = time.perf_counter() - began
        print(f"  {days} days written in {seconds[f'bench_{days}d']:.0f} s", flush=True)
    # The design before: per-snapshot rollups (and snapshot documents) of the first days.
    began = time.perf_counter()
    store = Store(uri, "bench_legacy", timeout_ms=600_000)
    store.ensure_indexes()
    for slots in per_slot[:LEGACY_DAYS]:
        for docs in slots:
            store.db[schema.ROLLUPS].insert_many(docs)
        store.db[schema.SNAPSHOTS].insert_many(
            [
                {
                    "_id": schema.snapshot_id(d[0]["slot"]),
                    "slot": d[0]["slot"],
                    "status": "complete",
                }
                for d in slots
            ]
        )
    store.close()
    seconds["bench_legacy"] = time.perf_counter() - began
    return seconds


# -- a worker process --------------------------------------------------------------------


def worker(uri: str, database: str, legacy: bool, channels: Sequence[str] = ()) -> None:
    """Run in a fresh process: start a dashboard worker, serve every page (and the
    Streamer page of each of `channels` too), report."""
    import pymongo
    from bson.codec_options import CodecOptions

    if legacy:
        from bench.legacy_loader import load

        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
        db = client.get_database(database, codec_options=CodecOptions(tz_aware=True, tzinfo=UTC))
        frames, channels, slots = load(db)
        rows = sum(len(f) for f in frames.values()) + len(channels)
        print(
            json.dumps(
                {
                    "loaded": time.perf_counter() - PROCESS_STARTED,
                    "rows": rows,
                    "slots": len(slots),
                    **memory(),
                }
            )
        )
        return
    import dash

    from dashboard import state
    from dashboard.app import create_app
    from store import StoreReader

    create_app(reader=StoreReader(uri, database, timeout_ms=600_000))
    holder = state.market()
    assert holder.wait_loaded(900), holder.load_error
    loaded = time.perf_counter() - PROCESS_STARTED
    pages = {p["path"]: sys.modules[p["module"]] for p in dash.page_registry.values()}
    view = holder.view()
    login = top_login(view)
    for path, module in pages.items():
        module.layout(**({"channel": login} if path == "/streamer" else {}))
    for channel in channels:
        pages["/streamer"].layout(channel=channel)
    served = time.perf_counter() - PROCESS_STARTED
    print(json.dumps({"loaded": loaded, "served": served, **memory()}))


def top_login(view: Any) -> str:
    from dashboard.filters import Filters

    rows = view.channel_rows(Filters().window_for(view.newest_slot()))
    return str(rows.sort_values("viewers").iloc[-1]["login"])


def cold_start(
    uri: str, database: str, legacy: bool = False, channels: Sequence[str] = ()
) -> dict[str, float]:
    began = time.perf_counter()
    command = [sys.executable, __file__, "--worker", uri, database]
    command += (["--legacy"] if legacy else []) + [f"--channel={c}" for c in channels]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - began
    return result


# -- callbacks ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by the nearest-rank method (enough runs that p95 is not the max)."""
    ordered = sorted(values)
    return ordered[max(0, -(-int(q * 100) * len(ordered) // 100) - 1)]


def callbacks(uri: str, database: str, runs: int) -> tuple[list[str], float, float]:
    import dash

    from dashboard import state
    from dashboard.app import create_app
    from dashboard.filters import Filters
    from settings import Settings
    from store import StoreReader

    # No rate limit in the way of the API's runs (the limit is not what is measured).
    settings = Settings(_env_file=None, api_rate_limit="1000000/minute")
    app = create_app(settings, reader=StoreReader(uri, database, timeout_ms=600_000))
    api = app.server.test_client()
    holder = state.market()
    assert holder.wait_loaded(900), holder.load_error
    holder.stop()  # nothing changes during the measurement
    view = holder.view()
    pages = {p["path"]: sys.modules[p["module"]] for p in dash.page_registry.values()}
    overview, games, languages, when, streamer, frames = (
        pages[path] for path in ("/", "/games", "/languages", "/when", "/streamer", "/frames")
    )
    newest = view.newest_slot()
    last_day = newest.date()
    year = {"window": "custom", "start": str(last_day - timedelta(days=364)), "end": str(last_day)}

    def filters_of(window: str) -> Filters:
        return Filters.from_query(year if window == "365d" else {"window": window})

    def query(f: Filters) -> dict[str, str]:
        return {k: v for k, v in vars(f).items() if k in ("window", "start", "end") and v}

    login = top_login(view)
    top_game = view.top_games(1)[0]
    cases: list[tuple[str, Callable[[Filters], Any]]] = [
        ("Overview page", lambda f: overview.layout(**query(f))),
        (
            "Overview: pie by game",
            lambda f: overview.share_figure(view, f.window_for(newest), f, "game"),
        ),
        ("Games page (table, growth, tail)", lambda f: games.layout(**query(f))),
        (
            "Games: one game's detail",
            lambda f: games.game_detail(view, f.window_for(newest), f, top_game),
        ),
        ("Games: a game's page (?game=)", lambda f: games.layout(**query(f), game=top_game)),
        ("Streamer: leaderboard", lambda f: streamer.layout(**query(f))),
        ("Languages page", lambda f: languages.layout(**query(f))),
        ("When to stream page", lambda f: when.layout(**query(f))),
        (
            "When: heat map of a game",
            lambda f: when.heatmap_figure(view, f.window_for(newest), f, f"game:{top_game}"),
        ),
        ("Streamer lookup", lambda f: streamer.lookup(view, f.window_for(newest), login)),
        ("Frames page", lambda f: frames.layout(**query(f))),
        ("API: /api/v1/games", lambda f: api.get(f"/api/v1/games{f.to_search()}").get_json()),
        (
            "API: /api/v1/channels",
            lambda f: api.get(f"/api/v1/channels{f.to_search()}").get_json(),
        ),
    ]
    lines = [
        "| callback | window | cold p50 (ms) | cold p95 (ms) | warm p50 (ms) | warm p95 (ms) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    worst_cold = worst_warm = 0.0
    for name, call in cases:
        for window in WINDOWS:
            filters = filters_of(window)
            assert not filters.problems, filters.problems
            cold, warm = [], []
            for _ in range(runs):
                holder.cache.clear()
                t = time.perf_counter()
                call(filters)
                cold.append((time.perf_counter() - t) * 1000)
            for _ in range(runs):
                t = time.perf_counter()
                call(filters)
                warm.append((time.perf_counter() - t) * 1000)
            worst_cold = max(worst_cold, percentile(cold, 0.95))
            worst_warm = max(worst_warm, percentile(warm, 0.95))
            lines.append(
                f"| {name} | {window} | {statistics.median(cold):.1f} | {percentile(cold, 0.95):.1f} | "
                f"{statistics.median(warm):.2f} | {percentile(warm, 0.95):.2f} |"
            )
    return lines, worst_cold, worst_warm


# -- the report --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="7 and 14 days; not written to the docs"
    )
    parser.add_argument(
        "--runs", type=int, default=20, help="runs per callback, window and cache state"
    )
    parser.add_argument("--worker", nargs=2, metavar=("URI", "DATABASE"), help=argparse.SUPPRESS)
    parser.add_argument("--legacy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--channel", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, legacy=args.legacy, channels=args.channel)
        return
    from store import LocalFerretDB

    lengths = [7, 14] if args.quick else [90, 365]
    folder = ROOT / "bench" / "out" / f"ferretdb-history-{'-'.join(map(str, lengths))}d"
    fresh = not folder.exists()
    db = LocalFerretDB(folder)
    db.start()
    try:
        fill_seconds = fill(db.uri, lengths) if fresh else {}
        starts = {days: cold_start(db.uri, f"bench_{days}d") for days in lengths}
        legacy = cold_start(db.uri, "bench_legacy", legacy=True)
        lines, worst_cold, worst_warm = callbacks(db.uri, f"bench_{lengths[-1]}d", args.runs)
    finally:
        db.stop()
    report = render(args, lengths, fill_seconds, starts, legacy, lines, worst_cold, worst_warm)
    print(report)
    if not args.quick:
        write_section("dashboard", report)


def render(
    args: argparse.Namespace,
    lengths: list[int],
    fill_seconds: dict[str, float],
    starts: dict[int, dict[str, float]],
    legacy: dict[str, float],
    lines: list[str],
    worst_cold: float,
    worst_warm: float,
) -> str:
    start_lines = [
        "| history | worker start → history loaded (s) | → every page served (s) | RSS (MB) | peak RSS (MB) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for days, s in starts.items():
        start_lines.append(
            f"| {days} days | {s['loaded']:.1f} | {s['served']:.1f} | {s['rss_mb']:.0f} | {s['peak_rss_mb']:.0f} |"
        )
    longest = starts[lengths[-1]]
    start_target = "met" if longest["served"] < 30 and longest["peak_rss_mb"] < 400 else "NOT met"
    callback_target = "met" if worst_cold < 1000 and worst_warm < 100 else "NOT met"
    per_day = legacy["loaded"] / LEGACY_DAYS
    filled = (
        "History written in "
        + ", ".join(f"{k}: {v / 60:.1f} min" for k, v in fill_seconds.items())
        + "."
        if fill_seconds
        else "Data reused from `bench/out/` (written by an earlier run of the same command)."
    )
    return (
        f"## Dashboard\nMeasured by `.venv/bin/python bench/dashboard.py{' --quick' if args.quick else ''}` "
        f"on {machine()}, FerretDB v1.24.2 (SQLite): whole-market history of the emulated market "
        f"at its default size, {', '.join(map(str, lengths))} days × 48 snapshots, the top 1,000 "
        f"channels per snapshot. {filled}\n\n"
        "**Cold start of a worker** (a fresh process: imports, `create_app`, the history read "
        "in the background thread, then every page's layout once):\n\n"
        + "\n".join(start_lines)
        + f"\n\nTarget at {lengths[-1]} days: served < 30 s and < 400 MB per worker: **{start_target}**.\n\n"
        f"**The design before**, same run and market: every per-snapshot rollup read into long "
        f"frames at start ({LEGACY_DAYS} days here): {legacy['loaded']:.1f} s, {legacy['rows']:,.0f} rows, "
        f"{legacy['peak_rss_mb']:.0f} MB peak RSS — about {per_day:.1f} s a day, so "
        f"~{per_day * 90 / 60:.0f} min at 90 days and ~{per_day * 365 / 60:.0f} min at 365 days "
        "(extrapolated: it grows linearly with the rollups it reads).\n\n"
        f"**Callbacks at {lengths[-1]} days**, server-side (the layout function or the callback, as Dash "
        f"calls it), {args.runs} runs per cell; cold = result cache empty, warm = cached. "
        "Windows: the three presets, `365d` (a custom window of the last 365 days) and `all` "
        "(everything stored).\n\n"
        + "\n".join(lines)
        + f"\n\nTarget p95 < 100 ms warm and < 1 s cold for every callback: **{callback_target}** "
        f"(worst p95: cold {worst_cold:.0f} ms, warm {worst_warm:.1f} ms)."
    )


if __name__ == "__main__":
    main()
