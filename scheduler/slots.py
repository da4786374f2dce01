"""Slot times typed on the command line (`--slot 2026-11-22T08:00Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_slot(text: str) -> datetime:
    """An ISO 8601 time with a zone (or `Z`), as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"slot needs a time zone (e.g. 2026-11-22T08:00Z): {text!r}")
    return value.astimezone(UTC).replace(microsecond=0)
