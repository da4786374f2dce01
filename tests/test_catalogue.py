"""The genre catalogue: sources and their precedence, primary genres, non-game categories,
and the curated file being exactly what its build script makes of the shared evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalogue import NON_GAME, Catalogue, CatalogueError
from catalogue.build import build, write
from catalogue.genres import IGDB_GENRES, ranked
from catalogue.resolve import CURATED_FILE, read_genre_file
from scheduler.games import needs_lookup

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_override_beats_igdb_beats_curated_and_every_genre_keeps_its_source() -> None:
    catalogue = Catalogue(
        curated={"some game": ["Racing"]}, overrides={"123": ["Puzzle", "Arcade"]}
    )
    resolved = catalogue.resolve("123", "Some Game", "77", ["Shooter"], NOW)
    assert resolved.primary_genre == "Puzzle" and resolved.primary_source == "override"
    assert [(g["name"], g["source"]) for g in resolved.genres] == [
        ("Puzzle", "override"),
        ("Arcade", "override"),
        ("Shooter", "igdb"),
        ("Racing", "curated"),
    ]
    assert all(g["fetched_at"] == NOW for g in resolved.genres)
    without_override = Catalogue(curated={"some game": ["Racing"]})
    assert without_override.resolve("1", "Some Game", "77", ["Shooter"], NOW).primary_genre == (
        "Shooter"
    )
    # IGDB knows the game but not its genres yet: the curated file answers.
    fallback = without_override.resolve("1", "Some Game™", "77", [], NOW)
    assert (fallback.primary_genre, fallback.primary_source) == ("Racing", "curated")


def test_a_genre_learned_earlier_keeps_its_first_time() -> None:
    earlier = NOW - timedelta(days=3)
    known = {"genres": [{"name": "Shooter", "source": "igdb", "fetched_at": earlier}]}
    resolved = Catalogue().resolve("1", "X", "9", ["Shooter", "Adventure"], NOW, known=known)
    assert {g["name"]: g["fetched_at"] for g in resolved.genres} == {
        "Shooter": earlier,
        "Adventure": NOW,
    }


def test_non_game_categories_and_unknown_games() -> None:
    catalogue = Catalogue()
    chatting = catalogue.resolve("509658", "Just Chatting", "", [], NOW)
    assert (chatting.primary_genre, chatting.is_game) == (NON_GAME, False)
    unknown = catalogue.resolve("42", "A Brand New Game", "", [], NOW)
    assert unknown.primary_genre is None and unknown.is_game
    # Unknown games are retried after a while, not forgotten.
    document = {"primary_genre": None, "updated_at": NOW}
    assert not needs_lookup(document, NOW + timedelta(hours=1))
    assert needs_lookup(document, NOW + timedelta(hours=7))
    assert not needs_lookup(
        {"primary_genre": "Shooter", "updated_at": NOW}, NOW + timedelta(days=9)
    )


def test_primary_genre_is_the_best_evidenced_then_the_most_specific() -> None:
    assert ranked(["Adventure", "Sport", "Racing", "Sport"]) == ["Sport", "Racing", "Adventure"]
    assert ranked(["Indie", "Adventure"])[0] == "Adventure"  # Indie says who, not what
    assert ranked(["Indie"]) == ["Indie"]


def test_genre_files_reject_unknown_genres_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text("game,genres,note\nChess,Card & Board Game,\nFoo,Dancing,typo\n")
    with pytest.raises(CatalogueError, match=r"overrides\.csv:3.*Dancing"):
        read_genre_file(path, "game")


def test_checked_in_files_load_and_name_only_igdb_genres() -> None:
    catalogue = Catalogue.load()
    assert len(catalogue.curated) > 500
    allowed = set(IGDB_GENRES) | {NON_GAME}
    for genres in (*catalogue.curated.values(), *catalogue.overrides.values()):
        assert set(genres) <= allowed
    assert catalogue.resolve("1", "VALORANT", "", [], NOW).primary_genre == "Shooter"
    assert catalogue.resolve("2", "League of Legends", "", [], NOW).primary_genre == "MOBA"
    assert catalogue.resolve("3", "Rocket League", "", [], NOW).primary_genre in {"Sport", "Racing"}


def test_curated_file_is_what_the_build_makes_of_the_shared_evidence(
    shared_data: Path, tmp_path: Path
) -> None:
    rebuilt = tmp_path / "curated.csv"
    write(build(shared_data), rebuilt)
    assert rebuilt.read_text() == CURATED_FILE.read_text(), (
        "run `python -m catalogue.build ../shared/data` and commit catalogue/curated.csv"
    )


def test_renamed_games_find_their_curated_genres_by_alias() -> None:
    catalogue = Catalogue.load()
    now = datetime(2026, 11, 22, tzinfo=UTC)
    for old, new in [
        ("overwatch", "Overwatch 2"),
        ("playerunknown's battlegrounds", "PUBG: BATTLEGROUNDS"),
    ]:
        renamed = catalogue.resolve("1", old, "", [], now)
        current = catalogue.resolve("2", new, "", [], now)
        assert renamed.primary_genre is not None and renamed.primary_source == "curated"
        assert renamed.primary_genre == current.primary_genre == "Shooter"
    # Every alias names a game the curated file knows (a typo would silently do nothing).
    assert set(catalogue.aliases.values()) <= set(catalogue.curated)
    assert catalogue.resolve("3", "Overwatch 3", "", [], now).primary_genre is None
