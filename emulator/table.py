"""A snapshot of live streams as the emulator serves it: Helix records in Helix order."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamTable:
    """Live stream records sorted by viewers (descending), ties by stream id."""

    records: list[dict[str, Any]]
    keys: list[tuple[int, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
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
        """Helix semantics: user ids and logins are unioned; game and language narrow."""
        rows = self.records
        if user_ids or logins:
            rows = [r for r in rows if r["user_id"] in user_ids or r["user_login"] in logins]
        if game_ids:
            rows = [r for r in rows if r["game_id"] in game_ids]
        if languages:
            rows = [r for r in rows if r["language"] in languages]
        return StreamTable(list(rows)) if rows is not self.records else self

    def after(self, viewers: int, stream_id: str) -> int:
        """Index of the first record that sorts after (viewers, stream_id)."""
        return bisect_right(self.keys, (-viewers, stream_id))

    def before(self, viewers: int, stream_id: str) -> int:
        """Index of the record (viewers, stream_id), or where it would be."""
        return bisect_left(self.keys, (-viewers, stream_id))
