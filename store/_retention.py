"""Which stored items a retention by age and count drops."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def beyond_retention(
    items: Iterable[tuple[datetime, str]], now: datetime, max_age: timedelta, max_count: int
) -> list[str]:
    """The ids of (time, id) items older than `max_age`, and of the oldest beyond the
    newest `max_count` (ties by id)."""
    newest_first = sorted(items, reverse=True)
    cutoff = now - max_age
    return [
        item_id
        for position, (at, item_id) in enumerate(newest_first)
        if position >= max_count or at < cutoff
    ]
