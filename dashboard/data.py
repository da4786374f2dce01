"""The dashboard's view of the market: rollups held in memory, refreshed incrementally.

Rollups never change once written (except when rebuilt, which bumps `written_at`), so the
dashboard loads each one once and afterwards only asks for rollups written since. Every
page computes from these frames, never from raw streams; the streamer page and a game's
channel concentration use indexed queries. Results are memoised per data version (the
newest `written_at`), so repeated views cost nothing and a new snapshot invalidates them.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from dashboard.metrics import CADENCE
from store import schema
from store.reader import StoreReader
from store.rollups import KEY_SEPARATOR

T = TypeVar("T")
CROSS_DIMENSIONS = ["genre_language", "game_language"]
CHANNELS = "channel"
LOADED_DIMENSIONS = [*CROSS_DIMENSIONS, CHANNELS]


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end) in UTC."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Window:
        return Window(self.start - self.length, self.start)


class _Columns:
    """Rows accumulated column by column while documents stream in: strings as categorical
    codes, numbers in typed arrays. 90 days are ~4 million channel rows; held as Python
    objects they took several GB, as codes they take ~100 MB."""

    def __init__(self, text: list[str], numbers: list[str]) -> None:
        self._codes: dict[str, tuple[dict[str, int], array[int]]] = {
            c: ({}, array("i")) for c in text
        }
        self._numbers: dict[str, array[int]] = {c: array("q") for c in numbers}
        self._slots: array[int] = array("q")

    def add(self, slot_ns: int, texts: tuple[str, ...], numbers: tuple[int, ...]) -> None:
        self._slots.append(slot_ns)
        for (lookup, codes), text in zip(self._codes.values(), texts, strict=True):
            codes.append(lookup.setdefault(text, len(lookup)))
        for column, number in zip(self._numbers.values(), numbers, strict=True):
            column.append(number)

    def frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {
            "slot": pd.to_datetime(np.frombuffer(self._slots, dtype=np.int64), utc=True)
        }
        for name, (lookup, codes) in self._codes.items():
            data[name] = pd.Categorical.from_codes(
                np.frombuffer(codes, dtype=np.int32), categories=list(lookup)
            )
        for name, values in self._numbers.items():
            data[name] = np.frombuffer(values, dtype=np.int64)
        return pd.DataFrame(data)


def _read(
    documents: Iterable[dict[str, Any]],
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, set[datetime]]:
    """Stream rollup documents into frames: one per cross dimension, and the channels."""
    cross = {
        d: _Columns(["key", "language", "name"], ["channels", "viewers"]) for d in CROSS_DIMENSIONS
    }
    channels = _Columns(["login", "name", "game_id", "language"], ["viewers", "rank"])
    slots: set[datetime] = set()
    for doc in documents:
        slots.add(doc["slot"])
        slot_ns = int(doc["slot"].timestamp()) * 1_000_000_000
        if doc["dimension"] == CHANNELS:
            for g in doc["groups"]:
                texts = (g["key"], g.get("name", ""), g.get("game_id", ""), g.get("language", ""))
                channels.add(slot_ns, texts, (g["viewers"], g.get("rank", 0)))
        else:
            columns = cross[doc["dimension"]]
            for g in doc["groups"]:
                first, _, language = g["key"].rpartition(KEY_SEPARATOR)
                columns.add(
                    slot_ns, (first, language, g.get("name", "")), (g["channels"], g["viewers"])
                )
    return {d: c.frame() for d, c in cross.items()}, channels.frame(), slots


def _append(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Concatenate two frames of the same columns, keeping categoricals categorical."""
    if old.empty:
        return new
    if new.empty:
        return old
    data = {}
    for column in old.columns:
        if isinstance(old[column].dtype, pd.CategoricalDtype):
            data[column] = union_categoricals([old[column], new[column]], ignore_order=True)
        else:
            data[column] = np.concatenate([old[column].to_numpy(), new[column].to_numpy()])
    return pd.DataFrame(data)


class MarketData:
    """In-memory rollups of the cross dimensions, plus the snapshot slots and the game catalogue."""

    def __init__(self, reader: StoreReader, *, refresh_seconds: float = 10.0) -> None:
        self.reader = reader
        self._refresh_seconds = refresh_seconds
        self._lock = threading.RLock()
        self._checked_at = -float("inf")
        self._state: tuple[Any, Any] | None = None  # (newest_slot, rebuilt_at) loaded
        frames, channels, _ = _read([])
        self.frames: dict[str, pd.DataFrame] = frames
        self.channels = channels
        self.slots = pd.DatetimeIndex([], tz="UTC")
        self.loaded = False
        self.load_error: str = ""
        self._loader: threading.Thread | None = None
        self.games: dict[str, dict[str, Any]] = {}
        self.category_slots: set[pd.Timestamp] = set()  # slots of category totals
        self.newest_degraded = False  # the newest snapshot quarantined too many records
        self.backfill: dict[str, Any] = {}  # `{running, until, heartbeat}` while one runs
        self._memo: dict[Hashable, Any] = {}

    @property
    def version(self) -> tuple[Any, Any] | None:
        return self._state

    def start_loading(self) -> threading.Thread:
        """Read the history in the background (the first full read can take minutes on a
        slow server); pages say "loading" until it is done."""
        with self._lock:
            if self._loader is None or (not self._loader.is_alive() and not self.loaded):
                self._loader = threading.Thread(
                    target=self._initial_load, name="market-load", daemon=True
                )
                self._loader.start()
            return self._loader

    def _initial_load(self) -> None:
        try:
            self.refresh(force=True)
            self.loaded, self.load_error = True, ""
        except Exception as error:  # reported on the pages; the next page view retries
            self.load_error = f"{type(error).__name__}: {error}"

    def refresh(self, *, force: bool = False) -> None:
        """Catch up with the store (at most every `refresh_seconds`).

        One small `meta` read tells whether anything changed; new snapshots' rollups are
        then fetched by `_id`, and only a rebuild of old rollups triggers a full reload.
        """
        with self._lock:
            now = time.monotonic()
            if not force and now - self._checked_at < self._refresh_seconds:
                return
            self._checked_at = now
            state = self.reader.rollup_state()
            if state is None:
                return
            self.backfill = state.get("backfill") or {}
            wanted = (state.get("newest_slot"), state.get("rebuilt_at"))
            if wanted == self._state:
                return
            newest = pd.Timestamp(wanted[0])
            if self._state is None or wanted[1] != self._state[1] or not self._catch_up(newest):
                self._load_everything()
            self.games = {g["_id"]: g for g in self.reader.games()}
            self._state = wanted
            self.newest_degraded = bool(state.get("newest_degraded"))
            self._memo.clear()

    def _load_everything(self) -> None:
        published = self.reader.published_slots()
        self.category_slots = {pd.Timestamp(s) for s in self.reader.category_level_slots()}
        rollups = self.reader.rollups(LOADED_DIMENSIONS)
        self.frames, self.channels, slots = _read(d for d in rollups if d["slot"] in published)
        self.slots = pd.DatetimeIndex(sorted(slots)).tz_convert("UTC")

    def _catch_up(self, newest: pd.Timestamp) -> bool:
        """Fetch the slots after the loaded ones, up to `newest`; False if that is not a
        plain run of half-hour slots (then the caller reloads everything)."""
        if not len(self.slots) or newest <= self.slots[-1] or (newest - self.slots[-1]) % CADENCE:
            return False
        candidates = pd.date_range(self.slots[-1] + CADENCE, newest, freq=CADENCE)
        if len(candidates) > 96:  # more than two days behind: one full read is cheaper
            return False
        documents = []
        for slot in (c.to_pydatetime() for c in candidates):
            level = self.reader.published_level(slot)
            if level is None:
                continue
            if level == schema.CATEGORY_LEVEL:
                self.category_slots.add(pd.Timestamp(slot))
            documents += [
                doc
                for dimension in LOADED_DIMENSIONS
                if (doc := self.reader.rollup(slot, dimension)) is not None
            ]
        frames, channels, slots = _read(documents)
        for dimension in CROSS_DIMENSIONS:
            self.frames[dimension] = _append(self.frames[dimension], frames[dimension])
        self.channels = _append(self.channels, channels)
        self.slots = self.slots.union(pd.DatetimeIndex(sorted(slots)).tz_convert("UTC"))
        return True

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per data version and key."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = compute()
        with self._lock:
            self._memo[key] = value
        return value

    def newest_slot(self) -> pd.Timestamp | None:
        return self.slots[-1] if len(self.slots) else None

    def category_level(self, slots: pd.DatetimeIndex) -> bool:
        """Whether any of these slots holds category totals instead of channels."""
        return any(slot in self.category_slots for slot in slots)

    def oldest_slot(self) -> pd.Timestamp | None:
        return self.slots[0] if len(self.slots) else None

    def window_slots(self, window: Window) -> pd.DatetimeIndex:
        return self.slots[
            (self.slots >= pd.Timestamp(window.start)) & (self.slots < pd.Timestamp(window.end))
        ]

    def genre_of_game(self, game_id: str) -> str:
        return schema.genre_of(self.games.get(game_id))

    def game_name(self, game_id: str) -> str:
        game = self.games.get(game_id)
        return str(game["name"]) if game else (game_id or "(no category)")

    def group_frame(
        self, by: str, window: Window, *, language: str = "", genre: str = ""
    ) -> pd.DataFrame:
        """Per-snapshot viewers and channels by `by` (genre | game | language) in `window`,
        restricted to one language and/or genre when given."""
        return self.memo(
            ("group_frame", by, window, language, genre),
            lambda: self._group_frame(by, window, language, genre),
        )

    def _group_frame(self, by: str, window: Window, language: str, genre: str) -> pd.DataFrame:
        source = self.frames["game_language" if by == "game" else "genre_language"]
        rows = source[
            (source["slot"] >= pd.Timestamp(window.start))
            & (source["slot"] < pd.Timestamp(window.end))
        ]
        if language:
            rows = rows[rows["language"] == language]
        if genre:
            genres = rows["key"] if by != "game" else rows["key"].map(self.genre_of_game)
            rows = rows[genres == genre]
        column = "language" if by == "language" else "key"
        grouped = rows.groupby(["slot", column], observed=True, sort=False)[
            ["viewers", "channels"]
        ].sum()
        result = grouped.reset_index().rename(columns={column: "key"})
        # Plain keys out: the frames store categorical codes, callers add labels like "Other".
        return result.astype({"key": object})

    def channel_rows(
        self, window: Window, *, login: str = "", game_id: str = "", language: str = ""
    ) -> pd.DataFrame:
        """Per-channel observations in `window` for one channel and/or one game."""
        rows = self.channels
        rows = rows[
            (rows["slot"] >= pd.Timestamp(window.start)) & (rows["slot"] < pd.Timestamp(window.end))
        ]
        if login:
            rows = rows[rows["login"] == login]
        if game_id:
            rows = rows[rows["game_id"] == game_id]
        if language:
            rows = rows[rows["language"] == language]
        return rows

    def languages(self) -> list[str]:
        frame = self.frames["genre_language"]
        return sorted(frame["language"].unique().tolist()) if not frame.empty else []

    def genres(self) -> list[str]:
        frame = self.frames["genre_language"]
        return sorted(frame["key"].unique().tolist()) if not frame.empty else []
