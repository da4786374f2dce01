"""How Twitch-like the simulated market is: its figures over a week beside published ones.

`python -m emulator.calibration` prints the calibration table of `docs/emulator.md`
(target, source, emulator value); a test recomputes it and checks every target and that
the document shows what the emulator does now.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emulator.catalogue import LANGUAGES
from emulator.config import EmulatorSettings
from emulator.market import Market
from emulator.recordings import michaelnich

# A Monday, 00:00 UTC: the week measured.
WEEK_START = 1_780_272_000.0
RECORDED = Path(__file__).resolve().parents[2] / "shared" / "data" / "recorded"
# Categories Twitch renamed or replaced since the 2023 recording, matched to the emulator's.
RENAMED = {"counter-strike: global offensive": "counter-strike", "fifa 23": "ea sports fc 25"}


@dataclass(frozen=True)
class MarketFigures:
    """A week of the market sampled every hour."""

    top_share: dict[int, float]  # the top k channels' share of hours watched
    live_channels: tuple[int, int]  # fewest and most live channels in a sample
    median_viewers: float  # median over samples of the median live channel's viewers
    under_five: float  # mean over samples of the share of live channels under 5 viewers
    average_viewers: float  # viewers of all live channels, mean over samples
    language_viewers: dict[str, float]  # share of hours watched
    language_channels: dict[str, float]  # share of hours streamed
    top_languages: int  # languages among the 20 channels with the most hours watched
    category_viewers: dict[str, float]  # share of hours watched, by category name


def measure(market: Market, start: float = WEEK_START, hours: int = 7 * 24) -> MarketFigures:
    channels = len(market._channels.login)
    watched = np.zeros(channels)
    streamed = np.zeros(channels)
    by_category = np.zeros(len(market.categories))
    live, medians, under_five, viewers = [], [], [], []
    for hour in range(hours):
        now = market.live_arrays(start + hour * 3600.0)
        np.add.at(watched, now.channel, now.viewers)
        np.add.at(streamed, now.channel, 1.0)
        np.add.at(by_category, now.game, now.viewers)
        live.append(len(now.channel))
        medians.append(float(np.median(now.viewers)))
        under_five.append(float((now.viewers < 5).mean()))
        viewers.append(float(now.viewers.sum()))
    ranked = np.sort(watched)[::-1]
    language = market.language_of(np.arange(channels))
    codes = [lang.code for lang in LANGUAGES]
    top = np.argsort(watched)[::-1][:20]
    return MarketFigures(
        top_share={k: float(ranked[:k].sum() / ranked.sum()) for k in (100, 1_000, 10_000)},
        live_channels=(min(live), max(live)),
        median_viewers=float(np.median(medians)),
        under_five=float(np.mean(under_five)),
        average_viewers=float(np.mean(viewers)),
        language_viewers=_shares(codes, np.bincount(language, watched, len(codes))),
        language_channels=_shares(codes, np.bincount(language, streamed, len(codes))),
        top_languages=len(set(language[top].tolist())),
        category_viewers=_shares([c.name for c in market.categories], by_category),
    )


def _shares(names: list[str], totals: np.ndarray) -> dict[str, float]:
    return {name: float(total / totals.sum()) for name, total in zip(names, totals, strict=True)}


def recorded_category_viewers(recorded: Path = RECORDED) -> dict[str, float]:
    """Each category's share of the viewers the 2023 recording saw (top 30 per sample),
    keyed by lower-case name."""
    totals: dict[str, float] = defaultdict(float)
    for record in michaelnich(recorded):
        name = record["game_name"].lower()
        totals[RENAMED.get(name, name)] += record["viewer_count"]
    whole = sum(totals.values())
    return {name: total / whole for name, total in totals.items()}


def category_rank_correlation(figures: MarketFigures, recorded: dict[str, float]) -> float:
    """Spearman correlation of viewer shares over the categories both have."""
    emulated = {name.lower(): share for name, share in figures.category_viewers.items()}
    both = sorted(set(emulated) & set(recorded))
    pair = pd.DataFrame(
        {"emulator": [emulated[n] for n in both], "recorded": [recorded[n] for n in both]}
    )
    return float(pair["emulator"].corr(pair["recorded"], method="spearman"))


@dataclass(frozen=True)
class Target:
    figure: str
    target: str
    source: str
    value: Callable[[MarketFigures], float]
    shown: str  # format of the value
    met: Callable[[float], bool]


_SE = "StreamElements × Rainmaker.gg, State of the Stream, June 2023"
_TT = "TwitchTracker / Streams Charts, 2023 (live channels over a day, channel sizes)"


def targets(recorded: dict[str, float]) -> list[Target]:
    def lang(code: str, kind: str) -> Callable[[MarketFigures], float]:
        return lambda f: getattr(f, f"language_{kind}")[code]

    def runner_up(f: MarketFigures) -> float:
        others = sorted((s for c, s in f.language_viewers.items() if c != "en"), reverse=True)
        return f.language_viewers["en"] / others[0]

    return [
        Target("top 100 channels' share of hours watched", "≈ 20 %", _SE,
               lambda f: f.top_share[100], "{:.1%}", lambda v: 0.17 <= v <= 0.23),
        Target("top 1,000 channels' share of hours watched", "≈ 46 %", _SE,
               lambda f: f.top_share[1_000], "{:.1%}", lambda v: 0.42 <= v <= 0.50),
        Target("top 10,000 channels' share of hours watched", "≈ 76 %", _SE,
               lambda f: f.top_share[10_000], "{:.1%}", lambda v: 0.72 <= v <= 0.80),
        Target("fewest live channels over the week", "≈ 70,000", _TT,
               lambda f: f.live_channels[0], "{:,.0f}", lambda v: 65_000 <= v <= 80_000),
        Target("most live channels over the week", "≈ 105,000", _TT,
               lambda f: f.live_channels[1], "{:,.0f}", lambda v: 95_000 <= v <= 110_000),
        Target("median live channel's viewers", "1–2", _TT,
               lambda f: f.median_viewers, "{:.1f}", lambda v: 1 <= v <= 2),
        Target("live channels under 5 viewers", "70–80 %", _TT,
               lambda f: f.under_five, "{:.1%}", lambda v: 0.70 <= v <= 0.80),
        Target("average concurrent viewers", "≈ 2.4 million",
               "Streams Charts, Twitch 2023 recap (5.28 billion hours watched a quarter)",
               lambda f: f.average_viewers, "{:,.0f}", lambda v: 2.0e6 <= v <= 2.8e6),
        Target("English share of hours watched", "largest, ≈ 40–50 %",
               "worldmetrics.org Stream Statistics 2026 (English 50 % of viewers)",
               lang("en", "viewers"), "{:.1%}", lambda v: 0.40 <= v <= 0.55),
        Target("English over the next language, hours watched", "≥ 3×",
               "same; Streams Charts Q3 2021 (Spanish second)",
               runner_up, "{:.1f}×", lambda v: v >= 3),
        Target("Spanish share of hours watched", "≈ 10.5 %",
               "Streams Charts, Spanish-speaking streamers Q3 2021 (602.7 M of 5.75 B hours)",
               lang("es", "viewers"), "{:.1%}", lambda v: 0.08 <= v <= 0.13),
        Target("English over Spanish, hours streamed", "> 5×",
               "everydays.wtf, “How Twitch became a Spanish-language platform”",
               lambda f: f.language_channels["en"] / f.language_channels["es"], "{:.1f}×",
               lambda v: v > 5),
        Target("languages among the 20 most-watched channels", "≥ 4",
               "Stream Hatchet: six of the top ten peak streams non-English (Dec 2020)",
               lambda f: f.top_languages, "{:.0f}", lambda v: v >= 4),
        Target("rank correlation of category viewer shares with the 2023 recording",
               "≥ 0.8", "`michaelnich_2023_top30_categories.csv` (categories both have)",
               lambda f: category_rank_correlation(f, recorded), "{:.2f}", lambda v: v >= 0.8),
    ]  # fmt: skip


def table(figures: MarketFigures, recorded: dict[str, float]) -> str:
    lines = [
        "| figure | target | source | emulator | met |",
        "|---|---|---|---|---|",
    ]
    for target in targets(recorded):
        value = target.value(figures)
        met = "yes" if target.met(value) else "**no**"
        lines.append(
            f"| {target.figure} | {target.target} | {target.source} "
            f"| {target.shown.format(value)} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recorded", type=Path, default=RECORDED)
    args = parser.parse_args(argv)
    market = Market(EmulatorSettings(_env_file=None))
    print(table(measure(market), recorded_category_viewers(args.recorded)))  # noqa: T201 (CLI output)


if __name__ == "__main__":
    main()
