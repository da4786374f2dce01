"""Backtest of the rising-games detector on the emulator's planted launches; writes its
section of docs/benchmarks.md.

Weeks of the emulated market (every live stream, every 30 minutes) are summed per game
and slot, straight from the market model (as the collector's whole-market rollups would
hold them), and `dashboard.rising` is evaluated every hour after a first week of
baseline. Each run of flags is matched to the planted launches (`Market.launches`): a
run on a launch's category between its start and two days after its peak is a catch
(lead time = peak − first flag); any other run is a false flag.

    .venv/bin/python bench/advisor.py [--weeks 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, write_section
from dashboard.rising import BASELINE_DAYS, GameSeries, rising_at
from emulator.config import EmulatorSettings
from emulator.market import Market

START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
SLOT = timedelta(minutes=30)


def market_series(market: Market, start: datetime, slots: int) -> pd.DataFrame:
    """Per slot and game: live channels and viewers over the whole market."""
    ids = np.array([c.twitch_id for c in market.categories], dtype=object)
    frames = []
    for i in range(slots):
        slot = start + i * SLOT
        live = market.live_arrays(slot.timestamp())
        channels = np.bincount(live.game, minlength=len(ids))
        viewers = np.bincount(live.game, weights=live.viewers, minlength=len(ids))
        on = np.flatnonzero(channels)
        frames.append(
            pd.DataFrame(
                {"slot": slot, "key": ids[on], "channels": channels[on], "viewers": viewers[on]}
            )
        )
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=9)
    args = parser.parse_args()
    market = Market(EmulatorSettings(_env_file=None))
    slots = args.weeks * 7 * 48
    began = time.perf_counter()
    series = GameSeries.from_frame(market_series(market, START, slots))
    build_seconds = time.perf_counter() - began
    end = START + slots * SLOT
    first = START + timedelta(days=BASELINE_DAYS)
    hours = pd.date_range(first, end, freq="1h", inclusive="left")
    runs: list[tuple[str, pd.Timestamp]] = []  # (game, first flag)
    previous: set[str] = set()
    began = time.perf_counter()
    for at in hours:
        flagged = set(rising_at(series, at))
        runs += [(game, at) for game in sorted(flagged - previous)]
        previous = flagged
    detect_seconds = time.perf_counter() - began

    launches = market.launches(first.timestamp(), end.timestamp())
    name = {c.twitch_id: c.name for c in market.categories}
    caught: dict[int, pd.Timestamp] = {}
    false_by_week: dict[int, list[str]] = defaultdict(list)
    for game, at in runs:
        t = at.timestamp()
        match = [
            launch
            for launch in launches
            if market.categories[launch.category].twitch_id == game
            and launch.start <= t <= launch.peak + 2 * 86_400
        ]
        if match:
            caught.setdefault(match[0].number, at)
        else:
            week = int((at - pd.Timestamp(first)) / pd.Timedelta(days=7))
            false_by_week[week].append(name.get(game, game))
    rows, leads = [], []
    for launch in launches:
        peak = pd.Timestamp(launch.peak, unit="s", tz="UTC")
        if not first.timestamp() <= launch.peak < end.timestamp():
            continue  # its peak is outside the weeks evaluated
        flag = caught.get(launch.number)
        lead = (peak - flag).total_seconds() / 3600 if flag is not None else None
        if lead is not None:
            leads.append(lead)
        rows.append(
            f"| {market.categories[launch.category].name} | {peak:%Y-%m-%d %H:%M} "
            f"| {launch.peak_share:.2%} "
            f"| {'not flagged' if flag is None else f'{flag:%Y-%m-%d %H:%M}'} "
            f"| {'—' if lead is None else f'{lead:.0f} h'} |"
        )
    weeks = (len(hours) + 7 * 24 - 1) // (7 * 24)
    false_counts = [len(false_by_week.get(w, [])) for w in range(weeks)]
    met_lead = len(leads) == len(rows) and all(lead >= 24 for lead in leads)
    met_false = max(false_counts, default=0) <= 1
    examples = sorted({g for games in false_by_week.values() for g in games})[:8]
    report = f"""## Rising games (`bench/advisor.py`)

{machine()}. Command:

    .venv/bin/python bench/advisor.py{f" --weeks {args.weeks}" if args.weeks != 9 else ""}

The emulator's market (550,000 channels, seed 7) from {START:%Y-%m-%d}, {args.weeks} weeks
at 30-minute slots, summed per game ({build_seconds:.0f} s); the detector
(`dashboard.rising`) evaluated every hour from day {BASELINE_DAYS + 1} on
({len(hours):,} evaluations, {detect_seconds:.1f} s). Truth: the planted launches
(`emulator/planted.py`).

| launch | peak | peak share of live channels | first flag | lead before the peak |
|---|---|---|---|---|
{chr(10).join(rows)}

| figure | value | target |
|---|---|---|
| launches peaking in the weeks evaluated, flagged | {len(leads)} of {len(rows)} | all |
| lead from the first flag to the peak, min / median | {min(leads, default=float("nan")):.0f} h / {statistics.median(leads) if leads else float("nan"):.0f} h | ≥ 24 h for every launch ({"met" if met_lead else "not met"}) |
| false flags per week (runs of flags on games that were not launching), max / mean | {max(false_counts, default=0)} / {statistics.mean(false_counts) if false_counts else 0:.1f} | ≤ 1 ({"met" if met_false else "not met"}) |
| games falsely flagged | {", ".join(examples) or "none"} | |

What this shows: the detector recovers the launches the emulator plants, early. What it
cannot show: how it fares on Twitch, whose surges and noise are not the emulator's (the
emulator's game shares of channels move only by chance between planted launches; its
day-to-day noise moves audiences).
"""
    print(report)
    write_section("advisor", report)


if __name__ == "__main__":
    main()
