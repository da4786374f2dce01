"""Directory counts: each slot, how many live channels of a game had how many viewers,
over the whole listing and within each language.

They answer "where would a channel of V viewers stand in this game's directory" (1 + the
live channels with more viewers) for any game, language and slot, and give the long-tail
figures (median channel, share under 5 viewers) with a language filter, without reading
any channel's rows. Bins are one viewer wide up to 10, then start one above round
audiences (11, 16, 21, 26, 31, 41, 51, 76, 101, …), so the channels above 10, 15, 20, 25,
30, 40, 50, 75, 100, … viewers are counted exactly.

One document per UTC day and language (`*` for all languages) in the day's collection
`directory_counts_<YYYYMMDD>`: its slots, the games seen that day and a packed
slots × games × bins int32 array, rewritten as each slot lands. Kept for ever (about
1–2 MB a day for a Twitch-sized market).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pymongo.database import Database

from slots import day_of, days_between
from store import schema
from store._channels import ChannelListing
from store._packing import join_names, pack_planes, split_names, unpack_planes
from store._partitions import day_collection

# Lower edges of the bins; the last is open-ended.
DIRECTORY_BINS: tuple[int, ...] = (
    *range(11),
    *(11, 16, 21, 26, 31, 41, 51, 76, 101, 151, 201, 301, 501, 1001, 2001, 5001, 10_001),
)
ALL_LANGUAGES = "*"
_EDGES = np.array(DIRECTORY_BINS, dtype=np.int64)
_INT32 = np.dtype("<i4")


@dataclass(frozen=True)
class DirectoryCounts:
    """One day of one language: `counts[s, g, b]` live channels of game `game_ids[g]` at
    `slots[s]` whose viewers fall in bin b (lower edges `DIRECTORY_BINS`)."""

    day: datetime
    language: str
    slots: list[datetime]
    game_ids: list[str]
    counts: np.ndarray

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.language,
            "day": self.day,
            "language": self.language,
            "bins": list(DIRECTORY_BINS),
            "slots": self.slots,
            "games": len(self.game_ids),
            "game_ids": join_names(self.game_ids),
            "counts": pack_planes(self.counts, _INT32),
            "schema_version": schema.SCHEMA_VERSION,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> DirectoryCounts:
        slots = list(document["slots"])
        games = int(document["games"])
        bins = len(document["bins"])
        values = unpack_planes(document["counts"], _INT32, len(slots) * games * bins)
        return cls(
            day=document["day"],
            language=str(document["language"]),
            slots=slots,
            game_ids=split_names(document["game_ids"], games),
            counts=values.reshape(len(slots), games, bins).astype(np.int32),
        )

    def with_slot(self, slot: datetime, game_ids: list[str], counts: np.ndarray) -> DirectoryCounts:
        """This day with `slot`'s counts (`counts[g, b]` for `game_ids`) added, or put in
        place of what the slot had (a slot written again replaces its counts)."""
        known = {game: i for i, game in enumerate(self.game_ids)}
        all_games = self.game_ids + [g for g in game_ids if g not in known]
        slots = sorted({*self.slots, slot})
        merged = np.zeros((len(slots), len(all_games), len(DIRECTORY_BINS)), dtype=np.int32)
        rows = [slots.index(s) for s in self.slots]
        merged[rows, : len(self.game_ids)] = self.counts
        position = {game: i for i, game in enumerate(all_games)}
        merged[slots.index(slot)] = 0
        merged[slots.index(slot), [position[g] for g in game_ids]] = counts
        return DirectoryCounts(self.day, self.language, slots, all_games, merged)


def bin_of(viewers: np.ndarray) -> np.ndarray:
    bins: np.ndarray = np.searchsorted(_EDGES, np.maximum(viewers, 0), side="right") - 1
    return bins


def slot_directory_counts(listing: ChannelListing) -> dict[str, tuple[list[str], np.ndarray]]:
    """Per language (and `*`), the games live in it and their (games × bins) counts."""
    bins = bin_of(listing.viewers)
    found: dict[str, tuple[list[str], np.ndarray]] = {}
    groups = [(ALL_LANGUAGES, np.ones(len(listing), dtype=bool))] + [
        (language, listing.language == i) for i, language in enumerate(listing.languages)
    ]
    for language, rows in groups:
        games, game_rows = np.unique(listing.game[rows], return_inverse=True)
        counts = np.zeros((len(games), len(DIRECTORY_BINS)), dtype=np.int32)
        np.add.at(counts, (game_rows, bins[rows]), 1)
        found[language] = ([listing.game_ids[int(g)] for g in games], counts)
    return found


def write_directory_counts(db: Database[Any], listing: ChannelListing) -> None:
    """Add the slot's counts to its day's documents (one per language and `*`)."""
    day = day_of(listing.slot)
    collection = db[day_collection(schema.DIRECTORY_COUNTS, day, None)]
    stored = {d["_id"]: d for d in collection.find({})}  # a day's few documents, one scan
    for language, (game_ids, counts) in slot_directory_counts(listing).items():
        earlier = stored.get(language)
        base = (
            DirectoryCounts.from_document(earlier)
            if earlier is not None
            else DirectoryCounts(day, language, [], [], np.zeros((0, 0, len(DIRECTORY_BINS))))
        )
        document = base.with_slot(listing.slot, game_ids, counts).to_document()
        if earlier is None:
            collection.insert_one(document)
        else:
            collection.replace_one({"_id": language}, document)


def read_directory_counts(
    db: Database[Any], start: datetime, end: datetime, language: str = ALL_LANGUAGES
) -> Iterator[DirectoryCounts]:
    """The days touching [start, end) of one language (`*`: all), each cut to the slots
    inside the window; days without counts are skipped."""
    for day in days_between(start, end):
        document = db[day_collection(schema.DIRECTORY_COUNTS, day, None)].find_one(
            {"_id": language}
        )
        if document is None:
            continue
        counts = DirectoryCounts.from_document(document)
        inside = [i for i, s in enumerate(counts.slots) if start <= s < end]
        if inside:
            yield DirectoryCounts(
                counts.day,
                counts.language,
                [counts.slots[i] for i in inside],
                counts.game_ids,
                counts.counts[inside],
            )


def channels_above(counts: np.ndarray, viewers: int) -> np.ndarray:
    """Live channels with more than `viewers` viewers, from counts over the last axis
    (bins). Exact when `viewers` + 1 is a bin edge (0–10, 15, 20, 25, 30, 40, 50, 75, 100,
    …); otherwise the bin holding `viewers` + 1 is split in proportion to its width."""
    values = np.asarray(counts, dtype=np.float64)
    edge = int(np.searchsorted(_EDGES, viewers + 1, side="right")) - 1
    above: np.ndarray = values[..., edge + 1 :].sum(axis=-1)
    if _EDGES[edge] == viewers + 1:
        share = 1.0
    elif edge + 1 >= len(_EDGES):  # inside the open last bin: nothing known above
        share = 0.0
    else:
        width = float(_EDGES[edge + 1] - _EDGES[edge])
        share = float(_EDGES[edge + 1] - (viewers + 1)) / width
    result: np.ndarray = above + values[..., edge] * share
    return result


def directory_frame(
    db: Database[Any], start: datetime, end: datetime, language: str = ALL_LANGUAGES
) -> pd.DataFrame:
    """Directory counts as a frame for notebooks: one row per slot and game (columns:
    slot, game_id, then one per bin's lower edge)."""
    frames = []
    for day in read_directory_counts(db, start, end, language):
        slots, games = len(day.slots), len(day.game_ids)
        frame = pd.DataFrame(
            day.counts.reshape(slots * games, len(DIRECTORY_BINS)), columns=list(DIRECTORY_BINS)
        )
        frame.insert(0, "game_id", np.tile(np.array(day.game_ids, dtype=object), slots))
        frame.insert(0, "slot", np.repeat(np.array(day.slots, dtype=object), games))
        frames.append(frame[frame[list(DIRECTORY_BINS)].sum(axis=1) > 0])
    if not frames:
        return pd.DataFrame(columns=["slot", "game_id", *DIRECTORY_BINS])
    return pd.concat(frames, ignore_index=True)


def directory_totals(
    db: Database[Any], start: datetime, end: datetime, language: str = ALL_LANGUAGES
) -> pd.DataFrame:
    """Directory counts summed over the slots of [start, end) that have them: rows game
    ids, columns the bins' lower edges (empty when none has). Read day by day, so a long
    window never holds more than one day's counts."""
    totals: dict[str, np.ndarray] = {}
    for day in read_directory_counts(db, start, end, language):
        for game, counts in zip(day.game_ids, day.counts.sum(axis=0), strict=True):
            if game in totals:
                totals[game] = totals[game] + counts
            else:
                totals[game] = counts.astype(np.int64)
    if not totals:
        return pd.DataFrame(columns=list(DIRECTORY_BINS))
    return pd.DataFrame.from_dict(totals, orient="index", columns=list(DIRECTORY_BINS))


def game_directory_counts(
    db: Database[Any], start: datetime, end: datetime, language: str, game_id: str
) -> tuple[list[datetime], np.ndarray]:
    """One game's counts at each slot of [start, end) that has directory counts (slots ×
    bins; zeros where the game had no live channel in the language)."""
    slots: list[datetime] = []
    rows: list[np.ndarray] = []
    for day in read_directory_counts(db, start, end, language):
        slots += day.slots
        if game_id in day.game_ids:
            rows.append(day.counts[:, day.game_ids.index(game_id)])
        else:
            rows.append(np.zeros((len(day.slots), len(DIRECTORY_BINS)), dtype=np.int32))
    counts = np.concatenate(rows) if rows else np.zeros((0, len(DIRECTORY_BINS)), np.int32)
    return slots, counts


def viewers_up_to(counts: np.ndarray, ceiling: int) -> tuple[np.ndarray, np.ndarray]:
    """Live channels with at most `ceiling` viewers and the viewers they hold, from counts
    over the last axis (bins). Exact up to 10 viewers; a wider bin counts each channel at
    its middle, and the bin holding `ceiling` is split in proportion to its width."""
    values = np.asarray(counts, dtype=np.float64)
    channels = values.sum(axis=-1) - channels_above(values, ceiling)
    upper = np.append(_EDGES[1:], _EDGES[-1] + 1) - 1  # last viewer count of each bin
    inside = np.clip((ceiling - _EDGES + 1) / (upper - _EDGES + 1), 0.0, 1.0)
    top = np.minimum(upper, ceiling)
    middle = (_EDGES + np.maximum(top, _EDGES)) / 2.0
    viewers: np.ndarray = (values * inside * middle).sum(axis=-1)
    return channels, viewers


@dataclass(frozen=True)
class AudienceDirectory:
    """Every game's directory seen by a channel of `viewers` viewers, slot by slot (slots ×
    games arrays; a game not live at a slot has position 1 and zeros elsewhere):
    `position` 1 + live channels with more viewers; `live` live channels; `near` live
    channels with at most twice `viewers`, and `near_viewers` the viewers they hold."""

    viewers: int
    slots: list[datetime]
    games: list[str]
    position: np.ndarray
    live: np.ndarray
    near: np.ndarray
    near_viewers: np.ndarray

    @property
    def nbytes(self) -> int:
        planes = (self.position, self.live, self.near, self.near_viewers)
        return sum(p.nbytes for p in planes) + 64 * (len(self.slots) + len(self.games))


def audience_day(
    day: DirectoryCounts, viewers: int, wanted: Callable[[datetime], bool]
) -> AudienceDirectory:
    """One day's `AudienceDirectory`: its slots that `wanted` keeps, its games."""
    keep = [i for i, slot in enumerate(day.slots) if wanted(slot)]
    counts = day.counts[keep].astype(np.float64)
    near, near_viewers = viewers_up_to(counts, 2 * viewers)
    return AudienceDirectory(
        viewers,
        [day.slots[i] for i in keep],
        list(day.game_ids),
        1.0 + channels_above(counts, viewers),
        counts.sum(axis=2),
        near,
        near_viewers,
    )


def joined_directories(parts: Iterable[AudienceDirectory], viewers: int) -> AudienceDirectory:
    """Days' `AudienceDirectory`s as one, over the union of their games."""
    parts = [p for p in parts if p.slots]
    slots = [slot for part in parts for slot in part.slots]
    games = sorted({g for part in parts for g in part.games})
    column = {g: i for i, g in enumerate(games)}
    planes = [np.ones((len(slots), len(games)))] + [
        np.zeros((len(slots), len(games))) for _ in range(3)
    ]
    row = 0
    for part in parts:
        columns = [column[g] for g in part.games]
        rows = slice(row, row + len(part.slots))
        values = (part.position, part.live, part.near, part.near_viewers)
        for plane, value in zip(planes, values, strict=True):
            plane[rows, columns] = value
        row += len(part.slots)
    return AudienceDirectory(viewers, slots, games, *planes)


def audience_directory(
    days: Iterable[DirectoryCounts], viewers: int, wanted: Callable[[datetime], bool]
) -> AudienceDirectory:
    """`AudienceDirectory` of the slots that `wanted` keeps, from days of counts (one
    language), holding only the per-game figures of one day at a time."""
    return joined_directories((audience_day(day, viewers, wanted) for day in days), viewers)


def read_directory_day(db: Database[Any], day: datetime, language: str) -> DirectoryCounts | None:
    """One UTC day's counts of one language (`*`: all), None when it has none."""
    document = db[day_collection(schema.DIRECTORY_COUNTS, day, None)].find_one({"_id": language})
    return DirectoryCounts.from_document(document) if document is not None else None


def directory_positions(
    db: Database[Any],
    start: datetime,
    end: datetime,
    language: str,
    viewers: int,
    wanted: Callable[[datetime], bool],
) -> AudienceDirectory:
    """For the slots of [start, end) that `wanted` keeps: every game's directory as a
    channel of `viewers` viewers sees it (`AudienceDirectory`). Read day by day."""
    return audience_directory(read_directory_counts(db, start, end, language), viewers, wanted)
