"""A snapshot of live streams as the emulator serves it: Helix records in Helix order."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamTable:
    """Live stream records sorted by viewers (descending), ties by stream id."""

    records: list[dict[str, Any]]
    presorted: bool = False
    keys: list[tuple[int, str]] = field(init=False, repr=False)
    _filtered: dict[tuple[frozenset[str], ...], StreamTable] = field(
        init=False, repr=False, default_factory=dict
    )
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.presorted:
            self.records.sort(key=lambda r: (-r["viewer_count"], r["id"]))
        self.keys = [(-r["viewer_count"], r["id"]) for r in self.records]

    def filter(
        self,
        *,
        user_ids: Collection[str] = (),
        logins: Collection[str] = (),
        game_ids: Collection[str] = (),
        languages: Collection[str] = (),
    ) -> StreamTable:
        """Helix semantics: user ids and logins are unioned; game and language narrow.

        Cached per table: a client paging one filtered listing asks for the same subset
        on every page, and the table lives for one drift period.
        """
        key = (frozenset(user_ids), frozenset(logins), frozenset(game_ids), frozenset(languages))
        with self._lock:
            cached = self._filtered.get(key)
        if cached is not None:
            return cached
        rows = self.records
        if user_ids or logins:
            rows = [r for r in rows if r["user_id"] in user_ids or r["user_login"] in logins]
        if game_ids:
            rows = [r for r in rows if r["game_id"] in game_ids]
        if languages:
            rows = [r for r in rows if r["language"] in languages]
        result = StreamTable(list(rows), presorted=True) if rows is not self.records else self
        with self._lock:
            self._filtered[key] = result
        return result

    def after(self, viewers: int, stream_id: str) -> int:
        """Index of the first record that sorts after (viewers, stream_id)."""
        return bisect_right(self.keys, (-viewers, stream_id))

    def before(self, viewers: int, stream_id: str) -> int:
        """Index of the record (viewers, stream_id), or where it would be."""
        return bisect_left(self.keys, (-viewers, stream_id))
