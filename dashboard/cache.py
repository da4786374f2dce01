"""The dashboard's one cache style: results kept in memory, bounded by bytes, thread-safe."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable, Iterable
from contextlib import suppress
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import plotly.utils
from cachetools import Cache, LRUCache, TTLCache

T = TypeVar("T")


def _size_of(value: Any) -> int:
    """Bytes a cached result holds, roughly: pandas objects by their memory, anything
    else (figures, page components) by its JSON, which is what it becomes on the wire."""
    if isinstance(value, bytes):
        return len(value) + 64
    if isinstance(getattr(value, "nbytes", None), int):  # arrays and array records
        return int(value.nbytes) + 1024
    if isinstance(value, pd.DataFrame | pd.Series):
        return int(np.sum(value.memory_usage(index=True))) + 1024  # a Series gives an int
    try:
        return len(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder)) + 1024
    except (TypeError, ValueError):
        return 64 * 1024


class ResultCache:
    """One LRU cache of results, bounded by bytes; thread-safe. With `ttl_seconds`, an
    entry is also dropped that long after it was stored (for results of data that
    changes without telling the cache)."""

    def __init__(self, max_bytes: int, *, ttl_seconds: float | None = None) -> None:
        self._cache: Cache[Hashable, Any] = (
            LRUCache(maxsize=max_bytes, getsizeof=_size_of)
            if ttl_seconds is None
            else TTLCache(maxsize=max_bytes, ttl=ttl_seconds, getsizeof=_size_of)
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock, suppress(ValueError):  # bigger than the cache: served, not kept
            self._cache[key] = value
        return value

    def known(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        """Those of `keys` that are cached, with their values."""
        with self._lock:
            return {k: self._cache[k] for k in keys if k in self._cache}

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock, suppress(ValueError):  # bigger than the cache: not kept
            self._cache[key] = value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    @property
    def bytes(self) -> int:
        return int(self._cache.currsize)

    def __len__(self) -> int:
        return len(self._cache)
