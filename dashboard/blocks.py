"""The block format: one day of one dimension of the compact history, as numpy cells.

A `store.DayHistory` is dense (keys × slots); most cells are empty, since a game or a
channel is live in few of the day's slots. A `Block` keeps only the cells with a stream,
in slot order, in the smallest integer types that hold them: what the dashboard holds in
memory for a year of history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dashboard.window import Window
from slots import (
    to_datetime64,
)
from store import KEY_SEPARATOR, DayHistory

FULL_DIMENSIONS = ("game", "genre", "language")
RECENT_DIMENSIONS = ("genre_language", "game_language", "channel")
CROSS_DIMENSIONS = ("genre_language", "game_language")


def _small(values: np.ndarray, limit: int) -> np.ndarray:
    """The values in uint16 when they fit (most do), else int32: half the memory."""
    return values.astype(np.uint16 if limit < 2**16 else np.int32)


@dataclass(frozen=True)
class Counts:
    """Non-negative integer cells at two bytes each: the few values of 2**16 and more
    (the top games' viewers) are kept apart by position. A year of viewer cells is the
    largest array a worker holds, and almost every cell is small."""

    low: np.ndarray  # uint16: the value, or 0 where it is one of the large ones
    at: np.ndarray  # int32, ascending: the positions of the large values
    high: np.ndarray  # int32: the large values

    @classmethod
    def of(cls, values: np.ndarray) -> Counts:
        values = np.asarray(values, dtype=np.int64)
        if len(values) and values.min() < 0:
            raise ValueError("counts are never negative")
        large = values >= 2**16
        return cls(
            low=np.where(large, 0, values).astype(np.uint16),
            at=np.flatnonzero(large).astype(np.int32),
            high=values[large].astype(np.int32),
        )

    def __len__(self) -> int:
        return len(self.low)

    @property
    def nbytes(self) -> int:
        return int(self.low.nbytes + self.at.nbytes + self.high.nbytes)

    def __getitem__(self, index: slice | np.ndarray) -> np.ndarray:
        """The values at a slice (step 1) or at integer positions, as int64."""
        values = self.low[index].astype(np.int64)
        if not len(self.at):
            return values
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self.low))
            if step != 1:
                raise ValueError("only contiguous slices")
            first, last = np.searchsorted(self.at, [start, stop])
            values[self.at[first:last] - start] = self.high[first:last]
            return values
        positions = np.asarray(index, dtype=np.int64).ravel()
        found = np.clip(np.searchsorted(self.at, positions), 0, len(self.at) - 1)
        hit = self.at[found] == positions
        values.reshape(-1)[hit] = self.high[found[hit]]
        return values

    def to_numpy(self) -> np.ndarray:
        return self[:]


@dataclass(frozen=True)
class Block:
    """One day of one dimension as cells: one per (slot, group) with a stream, sorted by
    slot. For cross dimensions `first` and `second` are the key's parts (game or genre,
    language); otherwise `first` is the key and `second` is empty."""

    day: pd.Timestamp
    slots: np.ndarray  # datetime64[ns], UTC
    levels: list[str]
    scopes: list[str]
    keys: np.ndarray
    first: np.ndarray
    second: np.ndarray
    names: np.ndarray
    total_channels: np.ndarray
    total_viewers: np.ndarray
    offsets: np.ndarray  # cells of slot s: offsets[s] up to offsets[s + 1]
    row: np.ndarray  # the cell's key (index into `keys`)
    channels: np.ndarray
    viewers: Counts
    histogram: Counts | None = None  # per key, summed over the day: keys × bins, flat
    languages: np.ndarray | None = None  # channel days: each channel's language
    game_ids: np.ndarray | None = None  # channel days: `game` indexes these
    game: np.ndarray | None = None
    rank: np.ndarray | None = None

    @classmethod
    def of(cls, history: DayHistory, strings: dict[str, str] | None = None) -> Block:
        """The day's cells. `strings` shares equal names between blocks: the same games,
        languages and channels recur every day, and a string object costs ~60 bytes."""
        shared = strings if strings is not None else {}

        def texts(values: list[str]) -> np.ndarray:
            return np.array([shared.setdefault(v, v) for v in values], dtype=object)

        keys = texts(history.keys)
        if history.dimension in CROSS_DIMENSIONS:
            parts = [k.rpartition(KEY_SEPARATOR) for k in history.keys]
            first, second = texts([p[0] for p in parts]), texts([p[2] for p in parts])
        else:
            first, second = keys, np.full(len(keys), "", dtype=object)
        # Cells in slot order: nonzero of the transposed (slots × keys) matrix.
        column, row = np.nonzero(history.channels.T)
        optional: dict[str, Any] = {}
        if history.game is not None and history.rank is not None:
            optional = {
                "languages": texts(history.languages),
                "game_ids": texts([*history.game_ids, ""]),
                "game": _small(history.game[row, column], len(history.game_ids) + 1),
                "rank": _small(history.rank[row, column], int(history.rank.max(initial=0)) + 1),
            }
        return cls(
            day=pd.Timestamp(history.day),
            slots=to_datetime64(history.slots),
            levels=list(history.levels),
            scopes=list(history.scopes),
            keys=keys,
            first=first,
            second=second,
            names=texts(history.names),
            total_channels=history.total_channels,
            total_viewers=history.total_viewers,
            offsets=np.searchsorted(column, np.arange(len(history.slots) + 1)).astype(np.int32),
            row=_small(row, len(keys)),
            channels=_small(
                history.channels[row, column], int(history.channels.max(initial=0)) + 1
            ),
            viewers=Counts.of(history.viewers[row, column]),
            histogram=None if history.histogram is None else Counts.of(history.histogram.ravel()),
            **optional,
        )

    def histograms(self) -> np.ndarray:
        """Per key, the viewer-count histogram summed over the day (keys × bins)."""
        if self.histogram is None:
            return np.zeros((len(self.keys), 0), dtype=np.int64)
        return self.histogram.to_numpy().reshape(len(self.keys), -1)

    def columns(self, window: Window) -> slice:
        """The slots of this day inside the window."""
        start, end = to_datetime64([window.start, window.end])
        return slice(
            int(np.searchsorted(self.slots, start, "left")),
            int(np.searchsorted(self.slots, end, "left")),
        )

    def cells(self, window: Window) -> slice:
        """The cells of the slots inside the window (cells are in slot order)."""
        columns = self.columns(window)
        return slice(int(self.offsets[columns.start]), int(self.offsets[columns.stop]))

    def slots_of(self, cells: slice) -> np.ndarray:
        """The slot of each of these cells."""
        first = int(np.searchsorted(self.offsets, cells.start, "right")) - 1
        last = int(np.searchsorted(self.offsets, cells.stop, "left"))
        counts = np.diff(np.clip(self.offsets[first : last + 1], cells.start, cells.stop))
        return np.repeat(self.slots[first:last], counts)

    def slot_weights(self, weights: pd.Series) -> np.ndarray:
        """The weight (hours) of each of the block's slots; 0 for a slot `weights` lacks."""
        known = weights.index.asi8  # sorted, UTC nanoseconds
        slots = self.slots.astype(np.int64)
        at = np.clip(np.searchsorted(known, slots), 0, max(len(known) - 1, 0))
        values = weights.to_numpy()
        if not len(known):
            return np.zeros(len(slots))
        return np.where(known[at] == slots, values[at], 0.0)

    def cell_weights(self, cells: slice, weights: pd.Series) -> np.ndarray:
        """The weight of each of these cells' slots."""
        per_slot = self.slot_weights(weights)
        slot_of_cell = (
            np.searchsorted(self.offsets, np.arange(cells.start, cells.stop), "right") - 1
        )
        return per_slot[slot_of_cell]
