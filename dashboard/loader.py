"""The dashboard's market loader: the compact history, read into numpy blocks.

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
import logging
import threading
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from dashboard.blocks import FULL_DIMENSIONS, RECENT_DIMENSIONS, Block
from dashboard.cache import ResultCache
from dashboard.view import MarketView
from slots import (
    DEFAULT_CADENCE,
    Cadence,
    day_key,
    parse_day_key,
)
from store import MarketState, StoreReader

log = logging.getLogger(__name__)

DETAIL_DAYS = 31  # a month: the longest preset window
CACHE_BYTES = 48 * 2**20
DAY_CACHE_BYTES = 32 * 2**20  # an audience's directory figures, day by day
MAX_SHARED_STRINGS = 500_000
BY_ID_LIMIT = 8  # more days of a dimension than this are read by one dimension query


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
        # Per-day figures keyed by the day's version: kept when a snapshot clears `cache`.
        self.day_cache = ResultCache(DAY_CACHE_BYTES)
        self._versions: dict[str, dict[str, Any]] = {d: {} for d in empty_blocks()}
        self._view = MarketView(
            empty_blocks(), {}, MarketState(), 0, self.cache, reader, cadence, self.day_cache
        )
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
                blocks,
                games,
                state,
                old.version + 1,
                self.cache,
                self.reader,
                self.cadence,
                self.day_cache,
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
