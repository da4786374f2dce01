"""Slots: the times snapshots are taken at, in one form per place, converted here only.

- in memory: an aware UTC `datetime` (`parse_slot`, `Cadence.current_slot`);
- on disk, inside ids: the slot key `2026-11-22T08:00:00Z` (`slot_key`, `parse_slot_key`);
  a UTC day: its midnight (`day_of`), keyed `2026-11-22` (`day_key`, `parse_day_key`);
- in numpy (the dashboard's columns): naive `datetime64[ns]` in UTC (`to_datetime64`),
  turned back into aware pandas timestamps with `from_datetime64` (`slot_index`).

`Cadence` says which minutes of the hour are slots and what follows each. Every package
takes its slots from here, from the collector to the dashboard's charts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from slots.cadence import (
    DEFAULT_CADENCE,
    DEFAULT_SNAPSHOT_MINUTES,
    STALE_MARGIN,
    Cadence,
    parse_snapshot_minutes,
)

__all__ = [
    "DAY",
    "DEFAULT_CADENCE",
    "DEFAULT_SNAPSHOT_MINUTES",
    "STALE_MARGIN",
    "Cadence",
    "day_key",
    "day_of",
    "days_between",
    "from_datetime64",
    "parse_day_key",
    "parse_slot",
    "parse_slot_key",
    "parse_snapshot_minutes",
    "parse_utc",
    "slot_index",
    "slot_key",
    "to_datetime64",
]

DAY = timedelta(days=1)
_SLOT_KEY = "%Y-%m-%dT%H:%M:%SZ"
_DAY_KEY = "%Y-%m-%d"


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time with a zone (or `Z`), as aware UTC; ValueError without a zone."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time needs a time zone (e.g. 2026-11-22T08:00Z): {text!r}")
    return value.astimezone(UTC)


def parse_slot(text: str) -> datetime:
    """A slot typed on a command line (`--slot 2026-11-22T08:00Z`), to the second."""
    return parse_utc(text).replace(microsecond=0)


def slot_key(slot: datetime) -> str:
    """The slot as it appears inside ids: `2026-11-22T08:00:00Z`."""
    return slot.astimezone(UTC).strftime(_SLOT_KEY)


def parse_slot_key(key: str) -> datetime:
    """The slot of a key written by `slot_key`."""
    return datetime.strptime(key, _SLOT_KEY).replace(tzinfo=UTC)


def day_of(slot: datetime) -> datetime:
    """The UTC day (midnight) a slot belongs to."""
    return slot.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def day_key(day: datetime) -> str:
    """A UTC day inside ids: `2026-11-22`."""
    return day.astimezone(UTC).strftime(_DAY_KEY)


def parse_day_key(key: str) -> datetime:
    """The UTC midnight of a key written by `day_key`."""
    return datetime.strptime(key, _DAY_KEY).replace(tzinfo=UTC)


def days_between(start: datetime, end: datetime) -> list[datetime]:
    """The UTC days that [start, end) touches."""
    days, day = [], day_of(start)
    while day < end:
        days.append(day)
        day += DAY
    return days


def to_datetime64(moments: Iterable[datetime] | pd.DatetimeIndex) -> np.ndarray:
    """Aware times as naive `datetime64[ns]` in UTC: how the dashboard's numpy columns
    hold slots, compared and searched without a time zone in the way."""
    index = moments if isinstance(moments, pd.DatetimeIndex) else pd.DatetimeIndex(list(moments))
    if len(index) and index.tz is None:
        raise ValueError("slots must be aware (UTC) times")
    if index.tz is None:
        index = index.tz_localize(UTC)
    values: np.ndarray = index.tz_convert(UTC).as_unit("ns").tz_localize(None).to_numpy()
    return values


def from_datetime64(values: np.ndarray | pd.Series | pd.Index) -> pd.DatetimeIndex:
    """Aware UTC timestamps from `to_datetime64`'s column."""
    return pd.DatetimeIndex(np.asarray(values, dtype="datetime64[ns]")).tz_localize(UTC)


def slot_index(moments: Iterable[datetime]) -> pd.DatetimeIndex:
    """Aware slots as a pandas index (UTC, nanoseconds; empty gives an empty UTC index)."""
    return from_datetime64(to_datetime64(moments))
