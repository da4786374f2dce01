"""Rebuild `catalogue/curated.csv` from the tag evidence in `../shared/data`.

    python -m catalogue.build ../shared/data

The curated file is the product's own format: `name,genres,evidence`, with `genres` a
`;`-separated list of IGDB genre names, strongest evidence first (or `Non-game`). It is
checked in; this script only records how it was made, so it can be made again.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

from catalogue.genres import NON_GAME_CATEGORIES, STEAM_TAGS, TWITCH_TAGS, ranked
from catalogue.resolve import CURATED_FILE, NON_GAME, normalise

_NON_GAME_TAGS = {"IRL", "Creative"}


def build(shared_data: Path) -> dict[str, tuple[list[str], list[str]]]:
    """name → (genres, evidence) from Twitch tags (2023) and SteamDB tags (2022)."""
    genres: dict[str, list[str]] = defaultdict(list)
    tags_seen: dict[str, set[str]] = defaultdict(set)
    evidence: dict[str, list[str]] = defaultdict(list)
    with (shared_data / "game_genre_tags.csv").open(encoding="utf-8-sig") as file:
        for row in csv.DictReader(file):
            name, tag = row["GAME_NAME"].strip(), row["CATEGORY"].strip()
            tags_seen[name].add(tag)
            if tag in TWITCH_TAGS:
                genres[name].append(TWITCH_TAGS[tag])
            if "twitch tags 2023" not in evidence[name]:
                evidence[name].append("twitch tags 2023")
    with (shared_data / "games_steam_tags.csv").open(encoding="utf-8-sig") as file:
        for row in csv.DictReader(file):
            name = row["gameName"].strip()
            tags = [t.strip() for t in (row["categories"] or "").split(";") if t.strip()]
            mapped = [STEAM_TAGS[t] for t in tags if t in STEAM_TAGS]
            if mapped:
                genres[name].extend(mapped)
                evidence[name].append("steamdb tags 2022")
    result: dict[str, tuple[list[str], list[str]]] = {}
    display: dict[str, str] = {}  # one row per normalised name ("ELDEN RING" = "Elden Ring")
    for name in sorted(set(genres) | set(tags_seen)):
        key = normalise(name)
        if key in display:
            first = display[key]
            genres[first].extend(genres[name])
            tags_seen[first] |= tags_seen[name]
            evidence[first].extend(e for e in evidence[name] if e not in evidence[first])
        else:
            display[key] = name
    for name in display.values():
        if name in NON_GAME_CATEGORIES or (
            not genres[name] and tags_seen[name] and tags_seen[name] <= _NON_GAME_TAGS
        ):
            result[name] = ([NON_GAME], evidence[name])
        elif genres[name]:
            result[name] = (ranked(genres[name]), evidence[name])
    return result


def write(rows: dict[str, tuple[list[str], list[str]]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["name", "genres", "evidence"])
        for name, (genres, evidence) in sorted(rows.items(), key=lambda r: r[0].casefold()):
            writer.writerow([name, ";".join(genres), "; ".join(evidence)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared_data", type=Path, help="the ../shared/data folder")
    parser.add_argument("--out", type=Path, default=CURATED_FILE)
    args = parser.parse_args(argv)
    rows = build(args.shared_data)
    write(rows, args.out)
    print(f"{len(rows)} games -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
