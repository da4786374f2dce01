"""The snapshot cadence: the minutes of each hour a snapshot is taken at, and what follows.

One snapshot stands for the time until the next one. The collector, the chat rollups,
the emulator's history, the backfill and the dashboard's time weights all ask this
module, so a cadence other than the default (`SNAPSHOT_MINUTES`) changes all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_SNAPSHOT_MINUTES = "0,30"
# A snapshot is late once two slots were missed, plus a margin for a slow collection.
STALE_MARGIN = timedelta(minutes=15)


def parse_snapshot_minutes(text: str) -> tuple[int, ...]:
    """`"0,30"` → (0, 30); ValueError for anything else."""
    try:
        minutes = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        minutes = ()
    if not minutes or any(not 0 <= m < 60 for m in minutes):
        raise ValueError(f"snapshot minutes must be 0..59, comma separated: {text!r}")
    return minutes


@dataclass(frozen=True)
class Cadence:
    """Snapshots at `minutes` past every hour (UTC)."""

    minutes: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Cadence:
        return cls(parse_snapshot_minutes(text))

    def _intervals(self) -> list[int]:
        following = (*self.minutes[1:], self.minutes[0])
        return [(b - a) % 60 or 60 for a, b in zip(self.minutes, following, strict=True)]

    @property
    def shortest(self) -> timedelta:
        """The shortest interval between consecutive snapshot minutes."""
        return timedelta(minutes=min(self._intervals()))

    @property
    def interval(self) -> timedelta:
        """The longest interval between consecutive snapshots: what the newest snapshot
        stands for, since the next one is not there yet."""
        return timedelta(minutes=max(self._intervals()))

    @property
    def max_gap(self) -> timedelta:
        """A snapshot stands for at most this long: a longer stretch is a gap (one slot
        missed is bridged, two are not)."""
        return 2 * self.interval

    @property
    def stale_after(self) -> timedelta:
        """The newest snapshot is stale once older than this (two slots missed)."""
        return 2 * self.interval + STALE_MARGIN

    def describe(self) -> str:
        """The minutes in words: ":00 and :30 UTC"."""
        parts = [f":{m:02d}" for m in self.minutes]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{joined} UTC"

    def current_slot(self, now: datetime) -> datetime:
        """The latest slot at or before `now` (UTC, seconds zeroed)."""
        if now.tzinfo is None:
            raise ValueError("current_slot needs an aware datetime")
        now = now.astimezone(UTC).replace(second=0, microsecond=0)
        earlier = [m for m in self.minutes if m <= now.minute]
        if earlier:
            return now.replace(minute=max(earlier))
        return (now - timedelta(hours=1)).replace(minute=max(self.minutes))

    def next_slot(self, slot: datetime) -> datetime:
        """The slot after `slot`: where the interval that `slot` stands for ends."""
        following = slot.astimezone(UTC).replace(second=0, microsecond=0)
        for _ in range(60):
            following += timedelta(minutes=1)
            if following.minute in self.minutes:
                return following
        raise AssertionError("unreachable: every hour holds a snapshot minute")

    def slots_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every slot in [start, end), oldest first."""
        slot = start.astimezone(UTC)
        if slot.minute not in self.minutes or slot.second or slot.microsecond:
            slot = self.next_slot(slot)
        while slot < end:
            yield slot
            slot = self.next_slot(slot)


DEFAULT_CADENCE = Cadence.parse(DEFAULT_SNAPSHOT_MINUTES)
