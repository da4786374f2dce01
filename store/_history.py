"""The compact history: one document per UTC day and dimension, slots as columns.

Per-snapshot rollups are many small documents; a year of them is slow to read. A
`history` document holds a whole day of one dimension as packed arrays (keys × slots of
int32, little-endian), so a reader loads a year of a dimension in a few hundred
documents and decodes them with numpy, without building a Python object per number.
Documents are rewritten in place whenever a slot of their day is published or its
rollups are rebuilt; `meta.history_days` records when each day last changed, so readers
reload only the days that did. `read_history` gives notebooks the same data as a frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pymongo.database import Database

from slots import day_of, days_between, slot_key
from store import histogram, schema
from store._packing import ENCODING, join_names, pack, split_names, unpack
from store._records import HistoryDocument, RollupDocument, history_id
from store._rollups import HISTOGRAM_DIMENSIONS

HISTORY_DIMENSIONS = ("game", "genre", "language", "genre_language", "game_language", "channel")
_INT32 = np.dtype("<i4")
_INT64 = np.dtype("<i8")


@dataclass
class DayHistory:
    """One day of one dimension: `channels[k, s]` and `viewers[k, s]` for key k at slot s.

    `histogram[k]` (games, genres, languages) sums the viewer-count histograms of the
    day's slots. Channel days also say each channel's game and rank per slot (`game[k, s]`
    indexes `game_ids`, -1 where the channel was not among the stored streams)."""

    day: datetime
    dimension: str
    slots: list[datetime]
    levels: list[str]
    keys: list[str]
    names: list[str]
    channels: np.ndarray
    viewers: np.ndarray
    total_channels: np.ndarray
    total_viewers: np.ndarray
    histogram: np.ndarray | None = None
    scopes: list[str] = field(default_factory=list)  # per slot: market | top
    languages: list[str] = field(default_factory=list)
    game_ids: list[str] = field(default_factory=list)
    game: np.ndarray | None = None
    rank: np.ndarray | None = None

    @classmethod
    def from_rollups(
        cls, day: datetime, dimension: str, rollups: Sequence[tuple[str, RollupDocument]]
    ) -> DayHistory:
        """The day from `(level, rollup)` pairs of its published slots (any order)."""
        ordered = sorted(rollups, key=lambda pair: pair[1]["slot"])
        keys: dict[str, int] = {}
        names: list[str] = []
        languages: list[str] = []
        for _, rollup in ordered:  # a key's name and language: those of its latest slot
            for group in rollup["groups"]:
                if group["key"] not in keys:
                    keys[group["key"]] = len(keys)
                    names.append("")
                    languages.append("")
                names[keys[group["key"]]] = str(group.get("name", ""))
                languages[keys[group["key"]]] = str(group.get("language", ""))
        shape = (len(keys), len(ordered))
        channels = np.zeros(shape, dtype=np.int32)
        viewers = np.zeros(shape, dtype=np.int32)
        is_channel = dimension == "channel"
        hist = (
            np.zeros((len(keys), histogram.BIN_COUNT), dtype=np.int64)
            if dimension in HISTOGRAM_DIMENSIONS
            else None
        )
        game_ids: dict[str, int] = {}
        game = np.full(shape, -1, dtype=np.int32) if is_channel else None
        rank = np.zeros(shape, dtype=np.int32) if is_channel else None
        for column, (_, rollup) in enumerate(ordered):
            for group in rollup["groups"]:
                row = keys[group["key"]]
                channels[row, column] = group["channels"]
                viewers[row, column] = group["viewers"]
                if hist is not None:
                    hist[row] += histogram.padded(group.get("histogram"))
                if game is not None and rank is not None:
                    game[row, column] = game_ids.setdefault(
                        str(group.get("game_id", "")), len(game_ids)
                    )
                    rank[row, column] = int(group.get("rank", 0))
        return cls(
            day=day,
            dimension=dimension,
            slots=[r["slot"] for _, r in ordered],
            levels=[level for level, _ in ordered],
            keys=list(keys),
            names=names,
            channels=channels,
            viewers=viewers,
            total_channels=np.array([r["total_channels"] for _, r in ordered], dtype=np.int64),
            total_viewers=np.array([r["total_viewers"] for _, r in ordered], dtype=np.int64),
            histogram=hist,
            scopes=[str(r.get("scope", "top")) for _, r in ordered],
            languages=languages if is_channel else [],
            game_ids=list(game_ids),
            game=game,
            rank=rank,
        )

    def with_slot(self, level: str, rollup: RollupDocument) -> DayHistory:
        """This day with one more slot (one not in it yet), its columns in slot order."""
        slot = rollup["slot"]
        if slot in self.slots:
            raise ValueError(f"{slot_key(slot)} is in this day already")
        added = DayHistory.from_rollups(self.day, self.dimension, [(level, rollup)])
        rows = {key: i for i, key in enumerate(self.keys)}
        new_keys = [k for k in added.keys if k not in rows]
        keys = [*self.keys, *new_keys]
        index = {key: i for i, key in enumerate(keys)}
        position = sum(s < slot for s in self.slots)
        target = np.array([index[k] for k in added.keys], dtype=np.int64)

        def widened(old: np.ndarray, new: np.ndarray, fill: int) -> np.ndarray:
            grown = np.full((len(keys), old.shape[1]), fill, dtype=old.dtype)
            grown[: old.shape[0]] = old
            column = np.full(len(keys), fill, dtype=old.dtype)
            column[target] = new[:, 0]
            return np.insert(grown, position, column, axis=1)

        # A key's name and language are those of its latest slot: the new one's where the
        # key was not seen after it.
        names, languages = list(self.names), list(self.languages)
        for i, key in enumerate(added.keys):
            row = rows.get(key)
            later = row is not None and bool(self.channels[row, position:].any())
            if row is None:
                names.append(added.names[i])
                if self.dimension == "channel":
                    languages.append(added.languages[i])
            elif not later:
                names[row] = added.names[i]
                if self.dimension == "channel":
                    languages[row] = added.languages[i]
        result = DayHistory(
            day=self.day,
            dimension=self.dimension,
            slots=[*self.slots[:position], slot, *self.slots[position:]],
            levels=[*self.levels[:position], level, *self.levels[position:]],
            keys=keys,
            names=names,
            channels=widened(self.channels, added.channels, 0),
            viewers=widened(self.viewers, added.viewers, 0),
            total_channels=np.insert(self.total_channels, position, added.total_channels),
            total_viewers=np.insert(self.total_viewers, position, added.total_viewers),
            scopes=[*self.scopes[:position], *added.scopes, *self.scopes[position:]],
        )
        if self.histogram is not None and added.histogram is not None:
            result.histogram = np.zeros((len(keys), histogram.BIN_COUNT), dtype=np.int64)
            result.histogram[: len(self.keys)] = self.histogram
            result.histogram[target] += added.histogram
        if self.game is not None and added.game is not None and added.rank is not None:
            game_index = {g: i for i, g in enumerate(self.game_ids)}
            for g in added.game_ids:
                game_index.setdefault(g, len(game_index))
            remap = np.array([game_index[g] for g in added.game_ids] or [0], dtype=np.int32)
            relabelled = np.where(added.game >= 0, remap[np.maximum(added.game, 0)], -1)
            result.game_ids = list(game_index)
            result.game = widened(self.game, relabelled, -1)
            result.rank = widened(
                self.rank if self.rank is not None else self.game * 0, added.rank, 0
            )
            result.languages = languages
        return result

    def to_document(self, written_at: datetime) -> HistoryDocument:
        document: HistoryDocument = {
            "_id": history_id(self.day, self.dimension),
            "day": self.day,
            "dimension": self.dimension,
            "slots": self.slots,
            "levels": self.levels,
            "key_count": len(self.keys),
            "keys": join_names(self.keys),
            "names": join_names(self.names),
            "encoding": ENCODING,
            "channels": pack(self.channels, _INT32),
            "viewers": pack(self.viewers, _INT32),
            "total_channels": [int(v) for v in self.total_channels],
            "total_viewers": [int(v) for v in self.total_viewers],
            "scopes": self.scopes,
            "written_at": written_at,
            "schema_version": schema.SCHEMA_VERSION,
        }
        if self.histogram is not None:
            document["bins"] = list(histogram.VIEWER_BINS)
            document["histogram"] = pack(self.histogram, _INT64)
        if self.game is not None and self.rank is not None:
            document["languages"] = join_names(self.languages)
            document["game_ids"] = join_names(self.game_ids)
            document["game_count"] = len(self.game_ids)
            document["game"] = pack(self.game, _INT32)
            document["rank"] = pack(self.rank, _INT32)
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> DayHistory:
        count = int(document["key_count"])
        keys = split_names(document["keys"], count)
        shape = (len(keys), len(document["slots"]))
        hist = None
        if "histogram" in document:
            hist = unpack(document["histogram"], _INT64, (shape[0], len(document["bins"])))
        optional: dict[str, Any] = {}
        if "game" in document:
            optional = {
                "languages": split_names(document["languages"], count),
                "game_ids": split_names(document["game_ids"], int(document["game_count"])),
                "game": unpack(document["game"], _INT32, shape),
                "rank": unpack(document["rank"], _INT32, shape),
            }
        return cls(
            day=document["day"],
            dimension=document["dimension"],
            slots=list(document["slots"]),
            levels=list(document["levels"]),
            keys=keys,
            names=split_names(document["names"], count),
            channels=unpack(document["channels"], _INT32, shape),
            viewers=unpack(document["viewers"], _INT32, shape),
            total_channels=np.array(document["total_channels"], dtype=np.int64),
            total_viewers=np.array(document["total_viewers"], dtype=np.int64),
            histogram=hist,
            scopes=list(document.get("scopes") or ["top"] * shape[1]),
            **optional,
        )

    def frame(self) -> pd.DataFrame:
        """Long form: one row per slot and key with channels > 0."""
        rows, columns = np.nonzero(self.channels)
        slots = (
            pd.DatetimeIndex(self.slots, tz="UTC") if self.slots else pd.DatetimeIndex([], tz="UTC")
        )
        keys = np.array(self.keys, dtype=object)
        names = np.array(self.names, dtype=object)
        data: dict[str, Any] = {
            "slot": slots[columns],
            "key": keys[rows],
            "name": names[rows],
            "channels": self.channels[rows, columns].astype(np.int64),
            "viewers": self.viewers[rows, columns].astype(np.int64),
        }
        if self.game is not None and self.rank is not None:
            ids = np.array([*self.game_ids, ""], dtype=object)
            data["game_id"] = ids[self.game[rows, columns]]
            data["language"] = np.array(self.languages, dtype=object)[rows]
            data["rank"] = self.rank[rows, columns].astype(np.int64)
        return pd.DataFrame(data)


def collection_of(dimension: str, day: datetime) -> str:
    """The collection holding a dimension's days of one month: `history_game_202611`.

    One per dimension and month keeps every collection small: FerretDB v1 reads a whole
    collection for any query but an exact `_id` match, so a reader of one month of one
    dimension never pays for the rest of the history."""
    return f"{schema.HISTORY}_{dimension}_{day:%Y%m}"


def months_of(dimension: str, db: Database[dict[str, Any]]) -> list[str]:
    """The months (`YYYYMM`) that have history of this dimension, oldest first."""
    prefix = f"{schema.HISTORY}_{dimension}_"
    names = db.list_collection_names(filter={"name": {"$regex": f"^{prefix}[0-9]{{6}}$"}})
    return sorted(n.removeprefix(prefix) for n in names if n.startswith(prefix))


def read_days(
    db: Database[dict[str, Any]], dimension: str, days: Iterable[datetime]
) -> list[DayHistory]:
    """The stored days of a dimension (missing days are skipped), oldest first."""
    return read_documents(db, [(day, dimension) for day in days])


def read_documents(
    db: Database[dict[str, Any]], wanted: Sequence[tuple[datetime, str]]
) -> list[DayHistory]:
    """These (day, dimension) history documents, by `_id`, one query per collection."""
    by_collection: dict[str, list[str]] = {}
    for day, dimension in wanted:
        by_collection.setdefault(collection_of(dimension, day), []).append(
            history_id(day, dimension)
        )
    found = []
    for collection, keys in by_collection.items():
        # Small batches: FerretDB v1 does not split a reply that outgrows its message limit.
        query = {"_id": keys[0]} if len(keys) == 1 else {"_id": {"$in": keys}}
        found += [DayHistory.from_document(d) for d in db[collection].find(query, batch_size=8)]
    return sorted(found, key=lambda h: h.day)


def read_dimension(
    db: Database[dict[str, Any]], dimension: str, since: datetime | None = None
) -> Iterator[DayHistory]:
    """Every stored day of a dimension (from `since` on), month by month."""
    first = f"{since:%Y%m}" if since is not None else ""
    for month in months_of(dimension, db):
        if month < first:
            continue
        for document in db[f"{schema.HISTORY}_{dimension}_{month}"].find({}, batch_size=8):
            history = DayHistory.from_document(document)
            if since is None or history.day >= since:
                yield history


def read_history(
    db: Database[dict[str, Any]], dimension: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """One dimension's per-snapshot groups for slots in [start, end), from the compact
    history: columns `slot`, `key`, `name`, `channels`, `viewers` (channel days add
    `game_id`, `language`, `rank`). Only published (complete) slots are ever in it.

        >>> from store._history import read_history
        >>> read_history(db, "genre", datetime(2026, 11, 1, tzinfo=UTC), datetime.now(UTC))
    """
    frames = [d.frame() for d in read_days(db, dimension, days_between(start, end))]
    if not frames:
        return DayHistory.from_rollups(day_of(start), dimension, []).frame()
    frame = pd.concat(frames, ignore_index=True)
    inside = (frame["slot"] >= pd.Timestamp(start)) & (frame["slot"] < pd.Timestamp(end))
    return frame[inside].reset_index(drop=True)


def read_histograms(
    db: Database[dict[str, Any]], dimension: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """Viewer-count histograms (rows: keys, columns: bin lower edges) summed over the
    whole UTC days that [start, end) touches, for `game`, `genre` or `language`."""
    if dimension not in HISTOGRAM_DIMENSIONS:
        raise ValueError(f"{dimension!r} has no histograms; use one of {HISTOGRAM_DIMENSIONS}")
    total: dict[str, np.ndarray] = {}
    for day in read_days(db, dimension, days_between(start, end)):
        assert day.histogram is not None
        for key, counts in zip(day.keys, day.histogram, strict=True):
            total[key] = total.get(key, 0) + counts
    return pd.DataFrame.from_dict(total, orient="index", columns=list(histogram.VIEWER_BINS))
