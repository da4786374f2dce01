"""A game's genres from every source, and the one primary genre charts use.

Sources, strongest first: a manual override (`overrides.csv`), IGDB (through the game's
Helix `igdb_id`), the curated file (`curated.csv`, built from real tag evidence). Every
genre keeps its source and the time it was learned; the primary genre comes from the
strongest source that has one. Categories that are not games count as "Non-game".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from catalogue.errors import CatalogueError
from catalogue.genres import IGDB_GENRES, NON_GAME_CATEGORIES, ranked

CURATED_FILE = Path(__file__).with_name("curated.csv")
OVERRIDES_FILE = Path(__file__).with_name("overrides.csv")
ALIASES_FILE = Path(__file__).with_name("aliases.csv")
NON_GAME = "Non-game"
SOURCES = ("override", "igdb", "curated")  # strongest first


def normalise(name: str) -> str:
    """Names compare without case, trademark signs and repeated spaces."""
    return re.sub(r"\s+", " ", re.sub(r"[™®©]", "", name)).strip().casefold()


def read_genre_file(path: Path, key_column: str) -> dict[str, list[str]]:
    """`key → genres` from a CSV with a `genres` column of `;`-separated IGDB names."""
    rows: dict[str, list[str]] = {}
    if not path.exists():
        return rows
    allowed = set(IGDB_GENRES) | {NON_GAME}
    with path.open(encoding="utf-8") as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            key = (row.get(key_column) or "").strip()
            genres = [g.strip() for g in (row.get("genres") or "").split(";") if g.strip()]
            unknown = [g for g in genres if g not in allowed]
            if not key or not genres or unknown:
                raise CatalogueError(
                    f"{path}:{line}: need a {key_column} and IGDB genre names"
                    + (f"; unknown genre(s) {unknown}" if unknown else "")
                )
            rows[key if key.isdigit() else normalise(key)] = genres
    return rows


def read_aliases(path: Path) -> dict[str, str]:
    """`normalised old or other name → normalised catalogue name` (renamed games)."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for line, row in enumerate(rows, start=2):
        if not (row.get("alias") or "").strip() or not (row.get("name") or "").strip():
            raise CatalogueError(f"{path}:{line}: need an alias and a name")
    return {normalise(row["alias"]): normalise(row["name"]) for row in rows}


@dataclass(frozen=True)
class Resolution:
    genres: list[dict[str, Any]]  # {name, source, fetched_at}, strongest source first
    primary_genre: str | None  # None: not known yet (retried later)
    primary_source: str | None
    is_game: bool


@dataclass
class Catalogue:
    curated: dict[str, list[str]] = field(default_factory=dict)  # normalised name → genres
    overrides: dict[str, list[str]] = field(default_factory=dict)  # twitch id or name → genres
    aliases: dict[str, str] = field(default_factory=dict)  # normalised alias → curated name

    @classmethod
    def load(
        cls,
        curated: Path = CURATED_FILE,
        overrides: Path = OVERRIDES_FILE,
        aliases: Path = ALIASES_FILE,
    ) -> Catalogue:
        return cls(
            read_genre_file(curated, "name"),
            read_genre_file(overrides, "game"),
            read_aliases(aliases),
        )

    def curated_genres(self, name: str) -> list[str]:
        """The curated genres of a game by its name, or by the name it was renamed to."""
        key = normalise(name)
        return self.curated.get(key) or self.curated.get(self.aliases.get(key, ""), [])

    def resolve(
        self,
        game_id: str,
        name: str,
        igdb_id: str,
        igdb_genres: list[str],
        now: datetime,
        *,
        known: Mapping[str, Any] | None = None,
    ) -> Resolution:
        """Genres of one game. `known` is its stored document: genres learned before keep
        their original time, so `fetched_at` says when each was first learned."""
        by_source = {
            "override": self.overrides.get(game_id) or self.overrides.get(normalise(name), []),
            "igdb": list(igdb_genres),
            "curated": self.curated_genres(name),
        }
        learned = {
            (g.get("name"), g.get("source")): g.get("fetched_at")
            for g in (known or {}).get("genres", [])
        }
        genres = [
            {"name": genre, "source": source, "fetched_at": learned.get((genre, source)) or now}
            for source in SOURCES
            for genre in by_source[source]
        ]
        non_game = normalise(name) in {normalise(n) for n in NON_GAME_CATEGORIES} and not igdb_id
        for source in SOURCES:
            names = by_source[source]
            if names:
                # An override is written in the order its author meant; evidence is ranked.
                primary = names[0] if source == "override" else ranked(names)[0]
                return Resolution(genres, primary, source, primary != NON_GAME)
        if non_game:
            return Resolution(genres, NON_GAME, "category", False)
        return Resolution(genres, None, None, True)
