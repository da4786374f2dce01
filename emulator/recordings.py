"""Convert the real recordings in `shared/data/recorded/` into the emulator's replay format.

    python -m emulator.recordings zfreedman   ../shared/data/recorded  out.jsonl
    python -m emulator.recordings michaelnich ../shared/data/recorded  out.jsonl

Rules (an independent check must apply the same ones):
- zfreedman 2018: per-stream rows; rows less than 2 minutes after the previous row belong
  to the same crawl, i.e. one snapshot, observed at the crawl's first time. A channel seen
  twice in one crawl keeps its highest viewer count. No language is recorded ("").
- michaelnich 2023: top-30 *category* observations; each category becomes one synthetic
  channel (login from the category name) streaming that category, with the category's
  viewers, marked `"level": "category"` (so the site shows no per-channel figures);
  `VIEWS` strings like "492.4 mil espectadores" or "16.5K viewers" are parsed.
  The first snapshots were scraped in Portuguese: localised category names ("Só na
  conversa") are mapped to Twitch's names ("Just Chatting"), so each category is one
  category throughout. A category listed twice at one time keeps its highest count.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CRAWL_GAP = timedelta(minutes=2)
_VIEWS = re.compile(r"^\s*([0-9][0-9.,]*)\s*(k|mil|m)?\b", re.IGNORECASE)
_MULTIPLIER = {None: 1, "k": 1_000, "mil": 1_000, "m": 1_000_000}


def parse_views(text: str) -> int:
    """'492.4 mil espectadores' → 492400; '16.5K viewers' → 16500; '812 viewers' → 812."""
    match = _VIEWS.match(text)
    if not match:
        raise ValueError(f"unparsable viewer count: {text!r}")
    number, unit = match.group(1), match.group(2)
    # Without a unit, "." and "," can only be thousands separators ("1.234 viewers").
    digits = number.replace(",", "") if unit else number.replace(",", "").replace(".", "")
    value = float(digits)
    return round(value * _MULTIPLIER[unit.lower() if unit else None])


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "live",
        "title": "",
        "tags": [],
        "language": "",
        "tag_ids": [],
        "is_mature": False,
        "thumbnail_url": "",
    }
    return {**base, **fields}


def zfreedman(source: Path) -> Iterator[dict[str, Any]]:
    with (source / "zfreedman_2018_streamers.csv").open(encoding="utf-8") as handle:
        streamers = {row["id"]: row["streamer"] for row in csv.DictReader(handle)}
    with (source / "zfreedman_2018_categories.csv").open(encoding="utf-8") as handle:
        categories = {row["id"]: row["category"] for row in csv.DictReader(handle)}
    with (source / "zfreedman_2018_streams.csv").open(encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: (r["created_at"], int(r["id"])))
    crawl_start: datetime | None = None
    previous: datetime | None = None
    best: dict[str, dict[str, Any]] = {}

    def flush() -> Iterator[dict[str, Any]]:
        yield from sorted(best.values(), key=lambda r: r["id"])
        best.clear()

    for row in rows:
        seen = datetime.strptime(row["created_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        if previous is None or seen - previous >= CRAWL_GAP:
            yield from flush()
            crawl_start = seen
        previous = seen
        assert crawl_start is not None
        name = streamers.get(row["streamer_id"], f"streamer{row['streamer_id']}")
        stream_id = f"{int(row['streamer_id']):07d}{crawl_start:%Y%m%d}"
        record = _record(
            observed_at=_iso(crawl_start),
            id=stream_id,
            user_id=row["streamer_id"],
            user_login=name.lower(),
            user_name=name,
            game_id=row["category_id"],
            game_name=categories.get(row["category_id"], ""),
            viewer_count=int(row["current_viewers"]),
            started_at=_iso(crawl_start),
        )
        if stream_id not in best or record["viewer_count"] > best[stream_id]["viewer_count"]:
            best[stream_id] = record
    yield from flush()


# Localised names of Twitch's non-game categories, as the 2023 recording's Portuguese
# scrape shows them (game titles are not translated).
LOCALISED_CATEGORIES = {
    "Só na conversa": "Just Chatting",
    "Esportes": "Sports",
    "Eventos especiais": "Special Events",
    "Música": "Music",
    "Arte": "Art",
}


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug or f"category{zlib.crc32(name.encode())}"


def michaelnich(source: Path) -> Iterator[dict[str, Any]]:
    best: dict[tuple[str, str], dict[str, Any]] = {}  # (time, id) -> record: repeats keep the max
    with (source / "michaelnich_2023_top30_categories.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            seen = datetime.strptime(row["DATE"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
            name = LOCALISED_CATEGORIES.get(row["NAME"], row["NAME"])
            key = zlib.crc32(name.encode("utf-8"))
            record = _record(
                observed_at=_iso(seen),
                id=str(10**10 + key),
                user_id=str(10**9 + key),
                user_login=_slug(name),
                user_name=name,
                game_id=str(key),
                game_name=name,
                viewer_count=parse_views(row["VIEWS"]),
                started_at=_iso(seen.replace(hour=0, minute=0)),
                level="category",  # a category's total, not one channel
            )
            slot = (record["observed_at"], record["id"])
            if slot not in best or record["viewer_count"] > best[slot]["viewer_count"]:
                best[slot] = record
    yield from (best[key] for key in sorted(best))


CONVERTERS = {"zfreedman": zfreedman, "michaelnich": michaelnich}


def convert(kind: str, source: Path, target: Path) -> int:
    """Write the replay file; return the number of records."""
    count = 0
    with target.open("w", encoding="utf-8") as out:
        for record in CONVERTERS[kind](source):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m emulator.recordings",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=sorted(CONVERTERS))
    parser.add_argument("source", type=Path, help="the folder holding the recorded CSV files")
    parser.add_argument("target", type=Path, help="the JSON-lines replay file to write")
    args = parser.parse_args(argv)
    count = convert(args.kind, args.source, args.target)
    print(f"wrote {count} records to {args.target}")  # noqa: T201 (CLI output)


if __name__ == "__main__":
    main()
