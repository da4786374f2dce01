"""An audience's directory figures, day by day, kept across snapshots.

A day's directory counts change only when a snapshot of that day is written, and every
such write moves the day's version in `meta.history_days`. So the figures of a day,
keyed by its version, stay right while later snapshots arrive, unlike page results,
which are dropped at each one: after a new snapshot only its own day is read again.
The cache is the market holder's (`MarketData.day_cache`), one per database.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import numpy as np

from dashboard.view import MarketView
from dashboard.window import Window
from slots import day_key, days_between
from store import AudienceDirectory, audience_day, joined_directories

DAY = timedelta(days=1)
READERS = 4  # days read at once


def audience_directory(
    view: MarketView,
    window: Window,
    language: str,
    viewers: int,
    hours: Hashable,
    wanted: Callable[[datetime], bool],
) -> AudienceDirectory:
    """The `AudienceDirectory` of `window`'s slots that `wanted` keeps (`hours` names
    that choice in the cache's keys)."""

    def day_figures(day: datetime) -> AudienceDirectory:
        start, end = max(window.start, day), min(window.end, day + DAY)
        counts = view.reader.directory_day(day, language)
        if counts is None:
            return joined_directories([], viewers)
        part = audience_day(counts, viewers, lambda s: start <= s < end and wanted(s))
        planes = (part.position, part.live, part.near, part.near_viewers)
        # float32 holds these counts exactly and halves what the cache keeps.
        return AudienceDirectory(
            viewers, part.slots, part.games, *(p.astype(np.float32) for p in planes)
        )

    keys: dict[datetime, Hashable] = {}
    for day in days_between(window.start, window.end):
        version = view.history_days.get(day_key(day))
        clipped = (max(window.start, day), min(window.end, day + DAY))
        # A day with no recorded history has no version to key on: read every time.
        keys[day] = (
            None if version is None else (day_key(day), version, language, viewers, clipped, hours)
        )
    known = view.day_cache.known(k for k in keys.values() if k is not None)
    missing = [day for day, key in keys.items() if key not in known]
    # Each day is one read by _id whose time is mostly the server's: a few at once
    # overlap those waits (the decoding releases the GIL too).
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        read = dict(zip(missing, pool.map(day_figures, missing), strict=True))
    for day, figures in read.items():
        if keys[day] is not None:
            view.day_cache.put(keys[day], figures)
    return joined_directories(
        [read[day] if day in read else known[keys[day]] for day in keys], viewers
    )
