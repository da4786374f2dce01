"""Rollups against an independent pandas computation over the same raw stream documents."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from store import compute_rollups, derive_genre_rollups, histogram, schema

SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
GENRES = {"1": "Shooter", "2": "Shooter", "3": "Role-playing (RPG)", "4": "Non-game"}


def random_streams(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    streams = []
    for _ in range(n):
        game = rng.choice(["1", "2", "3", "4", "99"])
        streams.append(
            {
                "stream_id": str(rng.randrange(n * 2)),
                "game_id": game,
                "user_login": f"user{rng.randrange(50)}",
                "game_name": f"game {game}",
                "language": rng.choice(["en", "es", "de", "unknown"]),
                "viewer_count": int(rng.paretovariate(1.2) * 10),
            }
        )
    return streams


def expected(streams: list[dict[str, Any]], column: str) -> dict[str, tuple[int, int]]:
    frame = pd.DataFrame(streams).drop_duplicates("stream_id", keep="first")
    frame["genre"] = frame["game_id"].map(GENRES).fillna("Unknown")
    grouped = frame.groupby(column).agg(
        channels=("stream_id", "nunique"), viewers=("viewer_count", "sum")
    )
    return {str(k): (int(r.channels), int(r.viewers)) for k, r in grouped.iterrows()}


def test_rollups_match_pandas_for_every_dimension() -> None:
    for seed in range(5):
        streams = random_streams(seed, 400)
        rollups = {
            r["dimension"]: r
            for r in compute_rollups(SLOT, streams, lambda g: GENRES.get(g, "Unknown"))
        }
        frame = pd.DataFrame(streams)
        frame["genre_language"] = (
            frame["game_id"].map(GENRES).fillna("Unknown") + "|" + frame["language"]
        )
        frame["game_language"] = frame["game_id"] + "|" + frame["language"]
        crossed = frame.to_dict("records")
        for dimension, column in (
            ("game", "game_id"),
            ("genre", "genre"),
            ("language", "language"),
            ("genre_language", "genre_language"),
            ("game_language", "game_language"),
            ("channel", "user_login"),
        ):
            got = {g["key"]: (g["channels"], g["viewers"]) for g in rollups[dimension]["groups"]}
            assert got == expected(crossed, column), (seed, dimension)
        distinct = frame.drop_duplicates("stream_id")
        assert rollups["genre"]["total_viewers"] == int(distinct["viewer_count"].sum())
        assert rollups["genre"]["total_channels"] == len(distinct)


def test_groups_are_sorted_by_viewers_and_carry_game_names() -> None:
    streams = [
        {
            "stream_id": "a",
            "game_id": "1",
            "game_name": "One",
            "language": "en",
            "viewer_count": 5,
            "user_login": "x",
            "rank": 2,
        },
        {
            "stream_id": "b",
            "game_id": "3",
            "game_name": "Three",
            "language": "en",
            "viewer_count": 50,
            "user_login": "y",
            "rank": 1,
        },
    ]
    game = next(r for r in compute_rollups(SLOT, streams, GENRES.get) if r["dimension"] == "game")
    assert [(g["key"], g["name"]) for g in game["groups"]] == [("3", "Three"), ("1", "One")]
    assert game["_id"] == "2026-11-22T08:00:00Z/game" and game["slot"] == SLOT
    channel = next(
        r for r in compute_rollups(SLOT, streams, GENRES.get) if r["dimension"] == "channel"
    )
    assert [(g["key"], g["game_id"], g["rank"], g["viewers"]) for g in channel["groups"]] == [
        ("y", "3", 1, 50),
        ("x", "1", 2, 5),
    ]


def test_an_empty_snapshot_has_empty_rollups() -> None:
    rollups = compute_rollups(SLOT, [], GENRES.get)
    assert [r["groups"] for r in rollups] == [[]] * 8  # six dimensions, two of tags
    assert all(r["total_viewers"] == 0 for r in rollups)


def test_histograms_count_every_stream_of_each_game_genre_and_language() -> None:
    streams = random_streams(11, 600)
    rollups = {
        r["dimension"]: r
        for r in compute_rollups(SLOT, streams, lambda g: GENRES.get(g, "Unknown"))
    }
    frame = pd.DataFrame(streams).drop_duplicates("stream_id", keep="first")
    frame["genre"] = frame["game_id"].map(GENRES).fillna("Unknown")
    for dimension, column in (("game", "game_id"), ("genre", "genre"), ("language", "language")):
        for group in rollups[dimension]["groups"]:
            values = frame.loc[frame[column] == group["key"], "viewer_count"]
            expected_counts = list(histogram.histogram(values.to_numpy()))
            assert list(histogram.padded(group["histogram"])) == expected_counts
    assert all("histogram" not in g for g in rollups["game_language"]["groups"])


def test_only_the_top_ranked_streams_get_channel_groups_but_all_count() -> None:
    streams = [{**s, "rank": i} for i, s in enumerate(random_streams(3, 300), 1)]
    rollups = {
        r["dimension"]: r
        for r in compute_rollups(SLOT, streams, GENRES.get, channel_limit=20, scope="market")
    }
    distinct = pd.DataFrame(streams).drop_duplicates("stream_id", keep="first")
    top = distinct[distinct["rank"] <= 20]
    assert {g["key"] for g in rollups["channel"]["groups"]} == set(top["user_login"])
    assert rollups["game"]["total_channels"] == len(distinct)
    assert sum(g["channels"] for g in rollups["language"]["groups"]) == len(distinct)
    assert {r["scope"] for r in rollups.values()} == {"market"}


def test_genre_rollups_rebuilt_from_game_rollups_equal_ones_computed_from_streams() -> None:
    streams = random_streams(5, 500)
    before = {
        r["dimension"]: r
        for r in compute_rollups(SLOT, streams, lambda g: GENRES.get(g, "Unknown"))
    }
    learned = {**GENRES, "99": "Strategy", "4": "Puzzle"}  # genres known later

    def genre_of(game: str) -> str:
        return learned.get(game, "Unknown")

    fresh = {r["dimension"]: r for r in compute_rollups(SLOT, streams, genre_of)}
    genre, genre_language = derive_genre_rollups(before["game"], before["game_language"], genre_of)
    assert genre["groups"] == fresh["genre"]["groups"]
    assert genre_language["groups"] == fresh["genre_language"]["groups"]


def test_a_game_without_catalogue_genre_counts_under_its_classifier_genre() -> None:
    streams = random_streams(8, 200)
    documents = {
        "1": {"primary_genre": "Shooter", "classifier_genre": "Racing"},  # catalogue wins
        "99": {"classifier_genre": "Racing"},
    }
    rollups = {
        r["dimension"]: r
        for r in compute_rollups(SLOT, streams, lambda g: schema.genre_of_stream(documents.get(g)))
    }
    genres = {g["key"]: g for g in rollups["genre"]["groups"]}
    once: dict[str, dict[str, Any]] = {}
    for stream in streams:  # a stream listed twice counts once
        once.setdefault(stream["stream_id"], stream)
    of_99 = [s for s in once.values() if s["game_id"] == "99"]
    of_1 = [s for s in once.values() if s["game_id"] == "1"]
    others = [s for s in once.values() if s["game_id"] not in documents]
    assert genres["Racing (classifier)"]["channels"] == len(of_99)
    assert genres["Racing (classifier)"]["viewers"] == sum(s["viewer_count"] for s in of_99)
    assert genres["Shooter"]["viewers"] == sum(s["viewer_count"] for s in of_1)
    assert genres["Unknown"]["viewers"] == sum(s["viewer_count"] for s in others)
    moved = histogram.padded(genres["Racing (classifier)"]["histogram"])
    assert list(moved) == list(histogram.histogram([s["viewer_count"] for s in of_99]))
