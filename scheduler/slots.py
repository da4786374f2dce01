"""Snapshot slots: the nominal :00 / :30 UTC instants a snapshot stands for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from settings import parse_snapshot_minutes as parse_minutes

__all__ = ["current_slot", "next_slot", "parse_minutes", "parse_slot"]


def current_slot(now: datetime, minutes: tuple[int, ...] = (0, 30)) -> datetime:
    """The latest slot at or before `now` (UTC, seconds zeroed)."""
    if now.tzinfo is None:
        raise ValueError("current_slot needs an aware datetime")
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    earlier = [m for m in minutes if m <= now.minute]
    if earlier:
        return now.replace(minute=max(earlier))
    return (now - timedelta(hours=1)).replace(minute=max(minutes))


def next_slot(slot: datetime, minutes: tuple[int, ...] = (0, 30)) -> datetime:
    """The slot after `slot`: where the interval that `slot` stands for ends."""
    following = slot.astimezone(UTC).replace(second=0, microsecond=0)
    for _ in range(60):
        following += timedelta(minutes=1)
        if following.minute in minutes:
            return following
    raise ValueError(f"no snapshot minute in {minutes!r}")


def parse_slot(text: str) -> datetime:
    """An ISO 8601 time with a zone (or `Z`), as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"slot needs a time zone (e.g. 2026-11-22T08:00Z): {text!r}")
    return value.astimezone(UTC).replace(microsecond=0)
