"""The simulated market against Twitch's published figures, its planted structure, and the
figures' arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED
from emulator import calibration
from emulator.audience import MARKET_CHANNELS, RANK_KNOTS, deal_by_share, popularity_by_rank
from emulator.catalogue import LANGUAGES, Category
from emulator.config import EmulatorSettings
from emulator.market import LiveArrays, Market
from emulator.planted import (
    DAY,
    LATE_GAMES,
    LAUNCH_LIFE_DAYS,
    SMALL_CHANNEL_AUDIENCE,
    SMALL_CHANNEL_GAMES,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "emulator.md"


def test_rank_curve_passes_through_its_knots_and_only_falls() -> None:
    curve = popularity_by_rank(MARKET_CHANNELS)
    for rank, viewers in RANK_KNOTS:
        assert curve[rank - 1] == pytest.approx(viewers, rel=1e-9)
    assert np.all(np.diff(curve) <= 0)
    # A smaller market keeps the shape: its median channel is the big market's median.
    small = popularity_by_rank(5_500)
    assert np.median(small) == pytest.approx(np.median(curve), rel=0.02)


def test_dealing_gives_each_group_its_share_of_viewers_and_of_small_channels() -> None:
    rng = np.random.default_rng(5)
    popularity = popularity_by_rank(200_000)
    viewer_share = np.array([0.5, 0.3, 0.15, 0.05])
    channel_share = np.array([0.25, 0.25, 0.25, 0.25])
    groups = deal_by_share(rng, popularity, viewer_share, channel_share)
    got = np.bincount(groups, weights=popularity, minlength=4) / popularity.sum()
    assert got == pytest.approx(viewer_share, abs=0.01)
    small = popularity < np.quantile(popularity, 0.5)
    counted = np.bincount(groups[small], minlength=4) / small.sum()
    assert counted == pytest.approx(channel_share, abs=0.01)
    # The biggest channels are spread over the groups, not all given to the largest.
    assert len(set(groups[:10].tolist())) >= 3


@dataclass
class _FakeChannels:
    login: list[str]


class _FakeMarket:
    """Two hours of three channels, laid out by hand."""

    def __init__(self) -> None:
        self.categories = [Category("1", "A", "", (), 1.0), Category("2", "B", "", (), 1.0)]
        self._channels = _FakeChannels(["a", "b", "c"])
        first = LiveArrays(np.array([0, 1, 2]), np.array([10, 2, 0]), np.array([0, 1, 1]), *_no(3))
        second = LiveArrays(np.array([0, 2]), np.array([30, 8]), np.array([0, 0]), *_no(2))
        self.hours = {0.0: first, 3600.0: second}

    def live_arrays(self, t: float) -> LiveArrays:
        return self.hours[t]

    def language_of(self, channels: np.ndarray) -> np.ndarray:
        languages: np.ndarray = np.array([0, 1, 1])[channels]
        return languages


def _no(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n), np.zeros(n, dtype=np.int64)


def test_figures_of_a_tiny_market_worked_by_hand() -> None:
    figures = calibration.measure(_FakeMarket(), start=0.0, hours=2)  # type: ignore[arg-type]
    # Hours watched: a 40, b 2, c 8 (50 in all).
    assert figures.top_share[100] == pytest.approx(1.0)
    assert figures.live_channels == (2, 3)
    assert figures.median_viewers == pytest.approx((2 + 19) / 2)
    assert figures.under_five == pytest.approx((2 / 3 + 0) / 2)
    assert figures.average_viewers == pytest.approx((12 + 38) / 2)
    first, second = LANGUAGES[0].code, LANGUAGES[1].code
    assert figures.language_viewers[first] == pytest.approx(40 / 50)
    assert figures.language_channels[second] == pytest.approx(3 / 5)
    assert figures.category_viewers == pytest.approx({"A": 48 / 50, "B": 2 / 50})
    assert figures.top_languages == 2


@pytest.fixture(scope="module")
def default_market() -> Market:
    return Market(EmulatorSettings(_env_file=None))


@pytest.fixture(scope="module")
def week(default_market: Market) -> tuple[calibration.MarketFigures, dict[str, float]]:
    recorded = SHARED / "data" / "recorded"
    if not recorded.is_dir():
        pytest.fail(f"{recorded} is missing: the shared folder must sit beside the repository")
    return calibration.measure(default_market), calibration.recorded_category_viewers(recorded)


def test_default_market_meets_every_published_target(
    week: tuple[calibration.MarketFigures, dict[str, float]],
) -> None:
    figures, recorded = week
    missed = [
        f"{t.figure}: {t.shown.format(t.value(figures))} (target {t.target})"
        for t in calibration.targets(recorded)
        if not t.met(t.value(figures))
    ]
    assert not missed


def test_docs_show_the_calibration_the_emulator_has_now(
    week: tuple[calibration.MarketFigures, dict[str, float]],
) -> None:
    figures, recorded = week
    assert calibration.table(figures, recorded) in DOC.read_text(encoding="utf-8"), (
        "docs/emulator.md is stale: paste the output of `python -m emulator.calibration`"
    )


def test_a_planted_launch_appears_rises_to_its_peak_and_settles(default_market: Market) -> None:
    start = calibration.WEEK_START
    launch = next(
        item for item in default_market.launches(start, start + 30 * DAY) if item.start > start
    )

    def playing(t: float) -> float:
        now = default_market.live_arrays(t)
        return float((now.game == launch.category).mean())

    assert playing(launch.start - 3600.0) == 0.0  # a new category: nobody before
    at_peak = playing(launch.peak)
    assert at_peak == pytest.approx(launch.peak_share, rel=0.15)
    assert playing(launch.start + 0.3 * (launch.peak - launch.start)) < at_peak / 3
    settled = playing(launch.peak + 10 * DAY)
    assert settled == pytest.approx(launch.settled_share, rel=0.2)
    assert settled < at_peak / 2
    # Its category is reused only once it has faded out.
    assert playing(launch.start + (LAUNCH_LIFE_DAYS + 0.5) * DAY) == 0.0


def test_small_channels_do_better_or_worse_in_the_planted_games(default_market: Market) -> None:
    # The same instants without the planted effect: the same channels and sessions.
    plain = Market(EmulatorSettings(_env_file=None))
    plain._small_boost = np.ones_like(plain._small_boost)
    names = [c.name for c in default_market.categories]
    hours = [calibration.WEEK_START + h * 3 * 3600.0 for h in range(8)]
    for game, factor in SMALL_CHANNEL_GAMES.items():
        streams = 0
        for t in hours:
            now, before = default_market.live_arrays(t), plain.live_arrays(t)
            audience = default_market._channels.popularity[now.channel]
            mine = (now.game == names.index(game)) & (audience < SMALL_CHANNEL_AUDIENCE)
            # Unplanted v = floor(a) means a in [v, v + 1): planted floor(factor * a) lies
            # in [floor(factor * v), factor * (v + 1)].
            planted, unplanted = now.viewers[mine], before.viewers[mine]
            assert np.all(planted >= np.floor(factor * unplanted)), game
            assert np.all(planted <= factor * (unplanted + 1)), game
            streams += int(mine.sum())
        assert streams > 50, game
    # Big channels of those games are left alone.
    now, before = default_market.live_arrays(hours[0]), plain.live_arrays(hours[0])
    big = default_market._channels.popularity[now.channel] >= SMALL_CHANNEL_AUDIENCE
    assert np.array_equal(now.viewers[big], before.viewers[big])


def test_late_games_draw_their_viewers_hours_after_the_evening(default_market: Market) -> None:
    english = [lang.code for lang in LANGUAGES].index("en")  # evening 21:00 local ≈ 02:00 UTC
    game = "Escape from Tarkov"
    index = [c.name for c in default_market.categories].index(game)

    def per_audience(utc_hour: int) -> float:
        ratios = []
        for day in range(4):
            now = default_market.live_arrays(calibration.WEEK_START + day * DAY + utc_hour * 3600)
            mine = (now.game == index) & (default_market.language_of(now.channel) == english)
            audience = default_market._channels.popularity[now.channel[mine]]
            ratios.append(now.viewers[mine] / audience)
        return float(np.concatenate(ratios).mean())

    # Its viewers peak at 03:00 local (08:00 UTC): more there than at the usual 21:00.
    assert per_audience(8) > 1.5 * per_audience(2)
    assert LATE_GAMES[game] == 6.0
