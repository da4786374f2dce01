"""The dashboard's view of the market: the compact history, held as numpy arrays.

`MarketData` owns a background thread that keeps it current: every `refresh_seconds` it
reads the one `meta` document, loads the history days that changed since (a new slot
rewrites its day; a rebuild or a late spooled write rewrites older ones), builds a new
immutable `MarketView` and swaps it in. A request takes whichever view is current when
it starts and never waits for a load. Results are memoised per view in one cache,
bounded by size (LRU), so many distinct filter URLs cannot grow a worker without limit.

Every day of games, genres and languages is held; the crosses with languages and the
channels only for the newest `DETAIL_DAYS` days: they are most of the bytes.
"""

from __future__ import annotations

import ctypes
import json
import logging
import threading
from collections.abc import Callable, Hashable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import plotly.utils
from cachetools import LRUCache

from dashboard.metrics import snapshot_weights
from slots import (
    DEFAULT_CADENCE,
    Cadence,
    day_key,
    from_datetime64,
    parse_day_key,
    to_datetime64,
)
from store import KEY_SEPARATOR, DayHistory, MarketState, StoreReader, schema

log = logging.getLogger(__name__)
T = TypeVar("T")

FULL_DIMENSIONS = ("game", "genre", "language")
RECENT_DIMENSIONS = ("genre_language", "game_language", "channel")
CROSS_DIMENSIONS = ("genre_language", "game_language")
DETAIL_DAYS = 31  # a month: the longest preset window
CACHE_BYTES = 48 * 2**20
MAX_SHARED_STRINGS = 500_000
BY_ID_LIMIT = 8  # more days of a dimension than this are read by one dimension query


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


def _small(values: np.ndarray, limit: int) -> np.ndarray:
    """The values in uint16 when they fit (most do), else int32: half the memory."""
    return values.astype(np.uint16 if limit < 2**16 else np.int32)


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
    viewers: np.ndarray
    histogram: np.ndarray | None = None  # per key, summed over the day
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
            viewers=history.viewers[row, column].astype(np.int32),
            histogram=None if history.histogram is None else history.histogram.astype(np.int32),
            **optional,
        )

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


def _size_of(value: Any) -> int:
    """Bytes a cached result holds, roughly: pandas objects by their memory, anything
    else (figures, page components) by its JSON, which is what it becomes on the wire."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return int(np.sum(value.memory_usage(index=True))) + 1024  # a Series gives an int
    try:
        return len(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder)) + 1024
    except (TypeError, ValueError):
        return 64 * 1024


class ResultCache:
    """One LRU cache of results, bounded by bytes; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self._cache: LRUCache[Hashable, Any] = LRUCache(maxsize=max_bytes, getsizeof=_size_of)
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock, suppress(ValueError):  # bigger than the cache: served, not kept
            self._cache[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    @property
    def bytes(self) -> int:
        return int(self._cache.currsize)

    def __len__(self) -> int:
        return len(self._cache)


class MarketView:
    """The market as of one refresh: immutable, so a request sees one version throughout."""

    def __init__(
        self,
        blocks: dict[str, dict[str, Block]],
        games: dict[str, dict[str, Any]],
        state: MarketState,
        version: int,
        cache: ResultCache,
        reader: StoreReader,
        cadence: Cadence = DEFAULT_CADENCE,
    ) -> None:
        self.reader = reader  # for the queries that are not history (frames)
        self.cadence = cadence
        self.blocks = blocks
        self.games = games
        self.version = version
        self._cache = cache
        self.newest_degraded = state.newest_degraded
        self.backfill = state.backfill
        language_days = [blocks["language"][k] for k in sorted(blocks["language"])]
        columns = [b.slots for b in language_days] or [to_datetime64([])]
        self.slots = from_datetime64(np.concatenate(columns))
        levels = [level for block in language_days for level in block.levels]
        scopes = [scope for block in language_days for scope in block.scopes]
        category = {
            s for s, level in zip(self.slots, levels, strict=True) if level == schema.CATEGORY_LEVEL
        }
        market = {s for s, scope in zip(self.slots, scopes, strict=True) if scope == "market"}
        self.category_slots = category
        self.market_slots = market  # slots whose rollups cover every live stream
        recent = [b.slots[0] for b in blocks["channel"].values() if len(b.slots)]
        self.detail_start: pd.Timestamp | None = (
            from_datetime64([min(recent)])[0] if recent else None
        )

    # -- bookkeeping -------------------------------------------------------------------

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per view and key (while the cache keeps it)."""
        return self._cache.get((self.version, key), compute)

    def newest_slot(self) -> pd.Timestamp | None:
        return self.slots[-1] if len(self.slots) else None

    def oldest_slot(self) -> pd.Timestamp | None:
        return self.slots[0] if len(self.slots) else None

    def window_slots(self, window: Window) -> pd.DatetimeIndex:
        return self.slots[
            (self.slots >= pd.Timestamp(window.start)) & (self.slots < pd.Timestamp(window.end))
        ]

    def category_level(self, slots: pd.DatetimeIndex) -> bool:
        """Whether any of these slots holds category totals instead of channels."""
        return any(slot in self.category_slots for slot in slots)

    def coverage(self, window: Window) -> str:
        """What the window's figures cover, for labels: "all live channels" when every
        snapshot listed the whole market."""
        slots = self.window_slots(window)
        whole = [slot in self.market_slots for slot in slots]
        if whole and all(whole):
            return "all live channels"
        if any(whole):
            return "all live channels in part of the window, the top streams in the rest"
        return "the top live streams only"

    def detail_cut(self, window: Window) -> bool:
        """Whether the window holds snapshots older than the days that games per language
        and channels are held for (those figures then cover only the newest days)."""
        oldest = self.oldest_slot()
        if self.detail_start is None or oldest is None or oldest >= self.detail_start:
            return False
        return pd.Timestamp(window.start) < self.detail_start

    def genre_of_game(self, game_id: str) -> str:
        return schema.genre_of_stream(self.games.get(game_id))

    def game_name(self, game_id: str) -> str:
        """The catalogue's name of the game; for a game it has not looked up yet, the
        name its streams were listed with (Helix's `game_name`)."""
        game = self.games.get(game_id)
        if game:
            return str(game["name"])
        return self._listed_names().get(game_id) or game_id or "(no category)"

    def _listed_names(self) -> dict[str, str]:
        def build() -> dict[str, str]:
            names: dict[str, str] = {}
            for day in sorted(self.blocks["game"]):  # the newest day's name wins
                block = self.blocks["game"][day]
                names.update((k, n) for k, n in zip(block.keys, block.names, strict=True) if n)
            return names

        return self.memo(("listed-game-names",), build)

    def _blocks(self, dimension: str, window: Window) -> list[Block]:
        first = pd.Timestamp(window.start).floor("D")
        return [
            block
            for key in sorted(self.blocks[dimension])
            if first <= (block := self.blocks[dimension][key]).day < pd.Timestamp(window.end)
        ]

    # -- queries -----------------------------------------------------------------------

    def group_frame(
        self, by: str, window: Window, *, language: str = "", genre: str = ""
    ) -> pd.DataFrame:
        """Per-snapshot viewers and channels by `by` (genre | game | language) in `window`,
        restricted to one language and/or genre when given: columns slot, key, viewers,
        channels, one row per snapshot and group with at least one channel."""
        return self.memo(
            ("group_frame", by, window, language, genre),
            lambda: self._group_frame(by, window, language, genre),
        )

    def _group_frame(self, by: str, window: Window, language: str, genre: str) -> pd.DataFrame:
        if by == "game":
            dimension = "game_language" if language else "game"
        elif by == "genre":
            dimension = "genre_language" if language else "genre"
        else:
            dimension = "genre_language" if genre else "language"
        parts = []
        for block in self._blocks(dimension, window):
            cells = block.cells(window)
            if cells.start == cells.stop:
                continue
            keys = block.second if by == "language" and dimension != "language" else block.first
            wanted = np.ones(len(block.keys), dtype=bool)
            if language and dimension in CROSS_DIMENSIONS:
                wanted &= block.second == language
            if genre:
                genres = (
                    np.array([self.genre_of_game(k) for k in block.first], dtype=object)
                    if by == "game"
                    else block.first
                )
                wanted &= genres == genre
            rows = block.row[cells]
            chosen = wanted[rows]
            parts.append(
                pd.DataFrame(
                    {
                        "slot": block.slots_of(cells)[chosen],
                        "key": keys[rows[chosen]],
                        "viewers": block.viewers[cells][chosen].astype(np.int64),
                        "channels": block.channels[cells][chosen].astype(np.int64),
                    }
                )
            )
        if not parts:
            return _empty_group_frame()
        frame = pd.concat(parts, ignore_index=True)
        if dimension in CROSS_DIMENSIONS and by != "game":  # several crosses make one key
            frame = frame.groupby(["slot", "key"], sort=False)[["viewers", "channels"]].sum()
            frame = frame.reset_index()
        frame["slot"] = from_datetime64(frame["slot"])
        return frame

    def game_frame(self, game_id: str, window: Window, *, language: str = "") -> pd.DataFrame:
        """`group_frame("game", …)` of one game only: its cells are picked out of each day,
        so a game's page does not build the frame of every game."""

        def build() -> pd.DataFrame:
            dimension = "game_language" if language else "game"
            parts = []
            for block in self._blocks(dimension, window):
                cells = block.cells(window)
                wanted = block.first == game_id
                if language:
                    wanted &= block.second == language
                found = np.flatnonzero(wanted)
                if cells.start == cells.stop or not len(found):
                    continue
                picked = cells.start + np.flatnonzero(np.isin(block.row[cells], found))
                at = np.searchsorted(block.offsets, picked, "right") - 1
                parts.append(
                    pd.DataFrame(
                        {
                            "slot": block.slots[at],
                            "key": game_id,
                            "viewers": block.viewers[picked].astype(np.int64),
                            "channels": block.channels[picked].astype(np.int64),
                        }
                    )
                )
            if not parts:
                return _empty_group_frame()
            frame = pd.concat(parts, ignore_index=True)
            frame["slot"] = from_datetime64(frame["slot"])
            return frame

        return self.memo(("game_frame", game_id, window, language), build)

    def subject_frame(
        self, window: Window, subject: str, *, language: str = "", genre: str = ""
    ) -> pd.DataFrame:
        """Per-snapshot viewers and channels of one subject: `all` (the market, within the
        filters), `genre:<name>`, `language:<code>` or `game:<id>`."""
        kind, _, value = subject.partition(":")
        if kind == "game":
            frame = self.group_frame("game", window, language=language)
            return frame[frame["key"] == value]
        if kind == "language":
            frame = self.group_frame("language", window, genre=genre)
            return frame[frame["key"] == value]
        chosen = value if kind == "genre" else genre
        return self.group_frame("genre", window, language=language, genre=chosen)

    def totals(self, window: Window) -> pd.DataFrame:
        """The whole market per snapshot (every live stream): slot, viewers, channels."""
        rows = []
        for block in self._blocks("language", window):
            columns = block.columns(window)
            rows.append(
                pd.DataFrame(
                    {
                        "slot": block.slots[columns],
                        "viewers": block.total_viewers[columns],
                        "channels": block.total_channels[columns],
                    }
                )
            )
        frame = (
            pd.concat(rows, ignore_index=True)
            if rows
            else pd.DataFrame({"slot": [], "viewers": [], "channels": []})
        )
        frame["slot"] = from_datetime64(frame["slot"])
        return frame

    def histograms(self, by: str, window: Window, *, genre: str = "") -> pd.DataFrame:
        """Viewer-count histograms by `by` (game | genre | language) over the whole UTC
        days the window touches: rows keys, columns the bins' lower edges."""

        def build() -> pd.DataFrame:
            parts = []
            for block in self._blocks(by, window):
                if block.histogram is None or not len(block.keys):
                    continue
                keep = np.ones(len(block.keys), dtype=bool)
                if genre:
                    genres = (
                        [self.genre_of_game(k) for k in block.keys] if by == "game" else block.keys
                    )
                    keep &= np.array(genres, dtype=object) == genre
                parts.append(pd.DataFrame(block.histogram[keep], index=block.keys[keep]))
            if not parts:
                return pd.DataFrame()
            return pd.concat(parts).groupby(level=0).sum()

        return self.memo(("histograms", by, window, genre), build)

    def channel_rows(
        self, window: Window, *, login: str = "", game_id: str = "", language: str = ""
    ) -> pd.DataFrame:
        """Observations of stored (top N) channels in `window` for one channel and/or one
        game: slot, login, name, game_id, language, viewers, rank."""
        parts = []
        for block in self._blocks("channel", window):
            cells = block.cells(window)
            if cells.start == cells.stop or block.game is None or block.rank is None:
                continue
            assert block.languages is not None and block.game_ids is not None
            wanted = np.ones(len(block.keys), dtype=bool)
            if login:
                wanted &= block.keys == login
            if language:
                wanted &= block.languages == language
            rows = block.row[cells]
            games = block.game[cells]
            chosen = wanted[rows]
            if game_id:  # by the game's index in this day, not by comparing strings per cell
                chosen &= np.isin(games, np.flatnonzero(block.game_ids == game_id))
            rows = rows[chosen]
            parts.append(
                pd.DataFrame(
                    {
                        "slot": block.slots_of(cells)[chosen],
                        "login": block.keys[rows],
                        "name": block.names[rows],
                        "game_id": block.game_ids[games[chosen]],
                        "language": block.languages[rows],
                        "viewers": block.viewers[cells][chosen].astype(np.int64),
                        "rank": block.rank[cells][chosen].astype(np.int64),
                    }
                )
            )
        columns_out = ["slot", "login", "name", "game_id", "language", "viewers", "rank"]
        if not parts:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns_out}).astype(
                {"slot": "datetime64[ns, UTC]", "viewers": np.int64, "rank": np.int64}
            )
        frame = pd.concat(parts, ignore_index=True)
        frame["slot"] = from_datetime64(frame["slot"])
        return frame

    def daily(self, dimension: str, key: str) -> pd.DataFrame:
        """One group's whole stored history, per UTC day: `day`, `hours` (the hours the
        day's snapshots stand for), `hours_watched`, `hours_streamed`. Read from the day
        blocks directly, so a year costs one pass and no frame of every group."""

        def build() -> pd.DataFrame:
            weights = self.memo(("weights",), lambda: snapshot_weights(self.slots, self.cadence))
            rows = []
            for day in sorted(self.blocks[dimension]):
                block = self.blocks[dimension][day]
                if not len(block.slots):
                    continue
                slot_weights = _slot_weights(block, weights)
                found = np.flatnonzero(block.keys == key)
                watched = streamed = 0.0
                if len(found):
                    cells = np.flatnonzero(block.row == found[0])
                    slot_of_cell = np.searchsorted(block.offsets, cells, "right") - 1
                    cell_weights = slot_weights[slot_of_cell]
                    watched = float((block.viewers[cells] * cell_weights).sum())
                    streamed = float((block.channels[cells] * cell_weights).sum())
                rows.append((block.day, float(slot_weights.sum()), watched, streamed))
            frame = pd.DataFrame(rows, columns=["day", "hours", "hours_watched", "hours_streamed"])
            frame["day"] = pd.to_datetime(frame["day"], utc=True)
            return frame

        return self.memo(("daily", dimension, key), build)

    def channel_totals(self, window: Window) -> pd.DataFrame:
        """Per stored channel over the window: `login`, `name`, `language` (the newest),
        `hours_live`, `hours_watched`, `peak_viewers` and `main_game` (the game id of the
        most hours live). Summed day by day with numpy, so a month of the top 1,000 never
        becomes a frame of every observation."""

        def build() -> pd.DataFrame:
            weights = snapshot_weights(self.window_slots(window), self.cadence)
            parts, plays = [], []
            for block in self._blocks("channel", window):
                cells = block.cells(window)
                if cells.start == cells.stop or block.game is None:
                    continue
                assert block.languages is not None and block.game_ids is not None
                w = _cell_weights(block, cells, weights)
                rows = block.row[cells].astype(np.int64)
                viewers = block.viewers[cells].astype(np.int64)
                n = len(block.keys)
                peak = np.zeros(n, dtype=np.int64)
                np.maximum.at(peak, rows, viewers)
                seen = np.bincount(rows, minlength=n) > 0
                parts.append(
                    pd.DataFrame(
                        {
                            "login": block.keys[seen],
                            "name": block.names[seen],
                            "language": block.languages[seen],
                            "hours_live": np.bincount(rows, weights=w, minlength=n)[seen],
                            "hours_watched": np.bincount(rows, weights=viewers * w, minlength=n)[
                                seen
                            ],
                            "peak_viewers": peak[seen],
                        }
                    )
                )
                # Hours per (channel, game) played: the pairs that occur, not every pair.
                games = len(block.game_ids)
                pairs, which = np.unique(
                    rows * games + block.game[cells].astype(np.int64), return_inverse=True
                )
                plays.append(
                    pd.DataFrame(
                        {
                            "login": block.keys[pairs // games],
                            "game_id": block.game_ids[pairs % games],
                            "hours": np.bincount(which, weights=w),
                        }
                    )
                )
            columns = ["login", "name", "language", "hours_live", "hours_watched"]
            if not parts:
                return pd.DataFrame(columns=[*columns, "peak_viewers", "main_game"])
            days = pd.concat(parts, ignore_index=True)
            grouped = days.groupby("login", sort=False)
            totals = grouped.agg(
                name=("name", "last"),
                language=("language", "last"),
                hours_live=("hours_live", "sum"),
                hours_watched=("hours_watched", "sum"),
                peak_viewers=("peak_viewers", "max"),
            )
            played = pd.concat(plays, ignore_index=True).groupby(["login", "game_id"])["hours"]
            main = played.sum().reset_index().sort_values(["hours", "game_id"], ascending=False)
            totals["main_game"] = main.drop_duplicates("login").set_index("login")["game_id"]
            return totals.reset_index()

        return self.memo(("channel-totals", window), build)

    def languages(self) -> list[str]:
        return self.memo(("languages",), lambda: self._keys_of("language"))

    def genres(self) -> list[str]:
        return self.memo(("genres",), lambda: self._keys_of("genre"))

    def _keys_of(self, dimension: str) -> list[str]:
        keys: set[str] = set()
        for block in self.blocks[dimension].values():
            keys.update(block.keys.tolist())
        return sorted(keys)

    def top_games(self, count: int) -> list[str]:
        """The `count` games with the most viewers over the whole history."""

        def build() -> list[str]:
            totals: dict[str, int] = {}
            for block in self.blocks["game"].values():
                sums = np.bincount(block.row, weights=block.viewers, minlength=len(block.keys))
                for key, value in zip(block.keys.tolist(), sums.tolist(), strict=True):
                    totals[key] = totals.get(key, 0) + int(value)
            return sorted(totals, key=lambda k: -totals[k])[:count]

        return self.memo(("top_games", count), build)


def _empty_group_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "slot": pd.DatetimeIndex([], tz="UTC"),
            "key": pd.Series([], dtype=object),
            "viewers": pd.Series([], dtype=np.int64),
            "channels": pd.Series([], dtype=np.int64),
        }
    )


def _slot_weights(block: Block, weights: pd.Series) -> np.ndarray:
    """The weight (hours) of each of the block's slots; 0 for a slot `weights` lacks."""
    known = weights.index.asi8  # sorted, UTC nanoseconds
    slots = block.slots.astype(np.int64)
    at = np.clip(np.searchsorted(known, slots), 0, max(len(known) - 1, 0))
    values = weights.to_numpy()
    if not len(known):
        return np.zeros(len(slots))
    return np.where(known[at] == slots, values[at], 0.0)


def _cell_weights(block: Block, cells: slice, weights: pd.Series) -> np.ndarray:
    """The weight of each of these cells' slots."""
    per_slot = _slot_weights(block, weights)
    slot_of_cell = np.searchsorted(block.offsets, np.arange(cells.start, cells.stop), "right") - 1
    return per_slot[slot_of_cell]


def release_freed_memory() -> None:
    """Hand the heap freed by a reload (decoded documents, dense days) back to the OS:
    glibc keeps it otherwise, and a web worker is measured by its resident memory."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def empty_blocks() -> dict[str, dict[str, Block]]:
    return {d: {} for d in (*FULL_DIMENSIONS, *RECENT_DIMENSIONS)}


class MarketData:
    """The current `MarketView`, kept up to date by a background thread."""

    def __init__(
        self,
        reader: StoreReader,
        *,
        refresh_seconds: float = 10.0,
        detail_days: int = DETAIL_DAYS,
        cache_bytes: int = CACHE_BYTES,
        cadence: Cadence = DEFAULT_CADENCE,
    ) -> None:
        self.reader = reader
        self.cadence = cadence
        self.refresh_seconds = refresh_seconds
        self.detail_days = detail_days
        self.cache = ResultCache(cache_bytes)
        self._versions: dict[str, dict[str, Any]] = {d: {} for d in empty_blocks()}
        self._view = MarketView(empty_blocks(), {}, MarketState(), 0, self.cache, reader, cadence)
        self._refresh_lock = threading.Lock()  # one refresh at a time; requests never take it
        self._loaded = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._strings: dict[str, str] = {}  # names shared by every block (see Block.of)
        self.load_error = ""

    @property
    def loaded(self) -> bool:
        return self._loaded.is_set()

    def view(self) -> MarketView:
        """The current view (swapped whole by the refresher, so always consistent)."""
        return self._view

    def start_loading(self) -> None:
        """Start the background refresher (once per process)."""
        with self._refresh_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._keep_current, name="market-refresh", daemon=True
                )
                self._thread.start()

    def wait_loaded(self, timeout: float) -> bool:
        return self._loaded.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def _keep_current(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.refresh()
                    self.load_error = ""
                except Exception as error:  # reported on the pages; retried next round
                    self.load_error = f"{type(error).__name__}: {error}"
                    log.warning("could not refresh the market history: %s", self.load_error)
                self._stop.wait(self.refresh_seconds)
        except SystemExit:  # raised into this thread by a server shutting its threads down
            log.info("market refresh stopped")

    def refresh(self) -> bool:
        """Catch up with the store once; True if a new view was swapped in.

        One `meta` read says which days changed; only those are read (by `_id`)."""
        with self._refresh_lock:
            state = self.reader.rollup_state()
            days = state.history_days
            old = self._view
            wanted = self._wanted(days)
            changed = [
                (dimension, key)
                for dimension, keys in wanted.items()
                for key in keys
                if self._versions[dimension].get(key) != days[key]
            ]
            dropped = any(set(old.blocks[d]) - set(k) for d, k in wanted.items())
            unchanged_state = (old.newest_degraded, old.backfill) == (
                state.newest_degraded,
                state.backfill,
            )
            if not changed and not dropped and unchanged_state and self.loaded:
                return False
            blocks = {d: {k: b for k, b in old.blocks[d].items() if k in wanted[d]} for d in wanted}
            for (dimension, key), block in zip(changed, self._read(changed), strict=True):
                if block is None:
                    blocks[dimension].pop(key, None)
                else:
                    blocks[dimension][key] = block
                self._versions[dimension][key] = days[key]
            for dimension in wanted:
                self._versions[dimension] = {
                    k: v for k, v in self._versions[dimension].items() if k in wanted[dimension]
                }
            games = (
                {g["_id"]: g for g in self.reader.games()}
                if changed or not self.loaded
                else old.games
            )
            self._view = MarketView(
                blocks, games, state, old.version + 1, self.cache, self.reader, self.cadence
            )
            self.cache.clear()  # the old view's results: its requests finish without them
            self._loaded.set()
            release_freed_memory()
            return True

    def _wanted(self, days: Mapping[str, datetime]) -> dict[str, list[str]]:
        """Which days each dimension holds: all, or the newest `detail_days`."""
        keys = sorted(days)
        if not keys:
            return {d: [] for d in empty_blocks()}
        newest = parse_day_key(keys[-1])
        cut = day_key(newest - timedelta(days=self.detail_days - 1))
        recent = [k for k in keys if k >= cut]
        return {**{d: keys for d in FULL_DIMENSIONS}, **{d: recent for d in RECENT_DIMENSIONS}}

    def _read(self, wanted: list[tuple[str, str]]) -> list[Block | None]:
        """These (dimension, day) documents as blocks, each decoded and converted as it
        arrives. Few queries: one per dimension and month when many days of a dimension
        are wanted (at start), else one per collection by `_id`."""
        found: dict[tuple[str, str], Block] = {}
        by_dimension: dict[str, list[str]] = {}
        for dimension, key in wanted:
            by_dimension.setdefault(dimension, []).append(key)
        if len(self._strings) > MAX_SHARED_STRINGS:  # channels come and go: start afresh
            self._strings = {}
        few, strings = [], self._strings
        for dimension, keys in by_dimension.items():
            if len(keys) <= BY_ID_LIMIT:
                few += [(parse_day_key(key), dimension) for key in keys]
                continue
            since = parse_day_key(min(keys))
            chosen = set(keys)
            for history in self.reader.history_dimension(dimension, since):
                if day_key(history.day) in chosen:
                    found[(dimension, day_key(history.day))] = Block.of(history, strings)
        for history in self.reader.history_documents(few):
            found[(history.dimension, day_key(history.day))] = Block.of(history, strings)
        return [found.get(item) for item in wanted]
