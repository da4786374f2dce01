"""What pages say and draw, without a browser: default windows, labels, names, colours."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from catalogue.genres import IGDB_GENRES
from dashboard.figures import GENRE_COLOURS, colour
from dashboard.filters import Filters, span, subject_label
from dashboard.metrics import OTHER
from dashboard.names import language_name
from settings import TWITCH_LANGUAGES
from slots import Cadence

NEWEST = pd.Timestamp("2026-11-30 12:00", tz="UTC")


@pytest.mark.parametrize(
    ("stored", "window"), [(timedelta(days=1), "all"), (timedelta(days=9), "7d")]
)
def test_the_default_window_is_seven_days_or_everything_when_less_is_stored(
    stored: timedelta, window: str
) -> None:
    assert Filters().resolved(NEWEST, NEWEST - stored).window == window
    assert Filters(window="30d").resolved(NEWEST, NEWEST - stored).window == "30d"
    assert Filters().resolved(None, None).window == "7d"  # nothing stored yet


def test_a_window_says_how_much_of_it_is_stored() -> None:
    oldest = NEWEST - timedelta(hours=23, minutes=30)
    now = NEWEST.to_pydatetime() + timedelta(minutes=10)
    week = Filters(window="7d")
    window = week.window_for(NEWEST, oldest)
    assert window.length == timedelta(days=7)
    assert week.describe(window, now, oldest=oldest) == (
        "last 7 days (only 24 hours stored, to 2026-11-30 12:30 UTC)"
    )
    everything = Filters(window="all", tz="Asia/Tokyo")
    window = everything.window_for(NEWEST, oldest)
    assert (window.start, window.end) == (oldest, NEWEST + timedelta(minutes=30))
    assert everything.describe(window, now, oldest=oldest) == (
        "all 24 hours stored, to 2026-11-30 21:30 JST"
    )
    fresh = Filters(window="24h", language="es")
    assert fresh.describe(fresh.window_for(NEWEST, oldest), now, oldest=oldest) == (
        "Last 24 hours, language Spanish"
    )


def test_an_hourly_cadence_weights_the_newest_snapshot_an_hour() -> None:
    hourly = Cadence((0,))
    window = Filters(window="24h").window_for(NEWEST, NEWEST - timedelta(days=3), hourly)
    assert window.end == NEWEST + timedelta(hours=1)


def test_spans_in_words() -> None:
    assert span(timedelta(hours=1)) == "1 hour"
    assert span(timedelta(hours=30)) == "30 hours"
    assert span(timedelta(days=2, hours=12)) == "2.5 days"


def test_every_twitch_language_has_a_name_and_other_is_not_the_bucket() -> None:
    names = {code: language_name(code) for code in TWITCH_LANGUAGES}
    assert names["en"] == "English" and names["zh-hk"] == "Chinese (Hong Kong)"
    assert names["el"] == "Greek" and names["asl"] == "American Sign Language"
    assert all(name != code for code, name in names.items())  # no bare ISO code
    assert names["other"] != OTHER
    assert len(set(names.values())) == len(names)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_every_genre_has_a_colour_of_its_own() -> None:
    genres = [*IGDB_GENRES, "Non-game", "Unknown"]
    assert set(genres) <= set(GENRE_COLOURS)
    colours = [colour(g) for g in genres] + [colour(OTHER)]
    assert len(set(colours)) == len(colours)
    # Far apart, not only different: the pairs once drawn alike, and every pair.
    for a, b in [("Shooter", "Fighting"), ("Non-game", "Card & Board Game"), ("Unknown", OTHER)]:
        assert _distance(colour(a), colour(b)) > 100, (a, b)
    closest = min(_distance(a, b) for a, b in itertools.combinations(colours, 2))
    assert closest > 50
    assert colour("Racing (classifier)") == colour("Racing")


def _distance(a: str, b: str) -> float:
    return sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b), strict=True)) ** 0.5


def test_the_newest_slot_is_described_in_the_chosen_zone() -> None:
    from dashboard.filters import local_time

    when = datetime(2026, 7, 1, 15, 30, tzinfo=UTC)
    assert local_time(when, "America/New_York") == "2026-07-01 11:30 EDT"
    assert local_time(when, "UTC") == "2026-07-01 15:30 UTC"


def test_a_heat_map_of_nearly_equal_hours_does_not_spread_them_over_every_colour() -> None:
    import numpy as np

    from dashboard.figures import colour_range, heatmap

    flat = np.array([[43.5, 46.5], [45.0, np.nan]])
    low, high = colour_range(flat)  # type: ignore[misc]
    assert low <= 45.0 * 0.75 and high >= 45.0 * 1.25
    wide = np.array([[2.0, 40.0], [10.0, 20.0]])
    assert colour_range(wide) == (2.0, 40.0)  # a real spread keeps its own ends
    assert colour_range(np.full((2, 2), np.nan)) is None
    figure = heatmap(pd.DataFrame(flat, index=[0, 1], columns=[0, 1]), "t", "UTC")
    assert figure.data[0].zmin == low and figure.data[0].zmax == high


@pytest.mark.parametrize(
    ("query", "subject", "label"),
    [
        ({}, "all:", "the whole market"),
        ({"language": "de"}, "all:", "streams in language German"),
        (
            {"language": "de", "genre": "Shooter"},
            "all:",
            "streams in language German and genre Shooter",
        ),
        ({"language": "de"}, "game:33214", "game Fortnite, language German only"),
        ({"genre": "Shooter"}, "language:de", "language German, genre Shooter only"),
        ({"genre": "Shooter"}, "game:33214", "game Fortnite"),
        ({"language": "de"}, "genre:Shooter", "genre Shooter, language German only"),
    ],
)
def test_the_heat_maps_title_names_the_filters_that_apply_to_it(
    query: dict[str, str], subject: str, label: str
) -> None:
    names = {"33214": "Fortnite"}
    assert subject_label(Filters.from_query(query), subject, names.__getitem__) == label
