"""Filters shared by every page, kept in the URL query string (`?window=7d&language=es`).

Malformed parameters never break a page: they fall back to defaults and the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pandas as pd

from dashboard.data import Window
from dashboard.metrics import CADENCE

WINDOWS = {
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "custom": None,
}
WINDOW_LABELS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "custom": "Custom dates",
}
TIMEZONES = sorted(available_timezones())
DEFAULTS = {"window": "7d", "start": "", "end": "", "language": "", "genre": "", "tz": "UTC"}


@dataclass(frozen=True)
class Filters:
    window: str = "7d"
    start: str = ""  # YYYY-MM-DD, custom window only (inclusive)
    end: str = ""  # YYYY-MM-DD, custom window only (inclusive)
    language: str = ""
    genre: str = ""
    tz: str = "UTC"
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: Mapping[str, object]) -> Filters:
        values = {k: str(query.get(k, "") or "") for k in DEFAULTS}
        problems: list[str] = []
        if values["window"] not in WINDOWS:
            if values["window"]:
                problems.append(f"unknown window {values['window']!r}; showing the last 7 days")
            values["window"] = "7d"
        if values["window"] == "custom":
            try:
                start, end = _day(values["start"]), _day(values["end"])
                if start > end:
                    raise ValueError
            except ValueError:
                problems.append(
                    "custom dates must be YYYY-MM-DD with start ≤ end; showing the last 7 days"
                )
                values.update(window="7d", start="", end="")
        else:
            values.update(start="", end="")
        try:
            ZoneInfo(values["tz"] or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"unknown time zone {values['tz']!r}; showing UTC")
            values["tz"] = "UTC"
        values["tz"] = values["tz"] or "UTC"
        return cls(**values, problems=tuple(problems))

    @classmethod
    def from_search(cls, search: str | None) -> Filters:
        return cls.from_query(dict(parse_qsl((search or "").lstrip("?"))))

    def to_search(self) -> str:
        pairs = {
            k: getattr(self, k)
            for k in DEFAULTS
            if getattr(self, k) and getattr(self, k) != DEFAULTS[k]
        }
        return "?" + urlencode(pairs) if pairs else ""

    def window_for(self, newest: pd.Timestamp | None) -> Window:
        """The window, ending just after the newest snapshot (so stale data still shows)."""
        if self.window == "custom":
            return Window(_day(self.start), _day(self.end) + timedelta(days=1))
        end = (newest + CADENCE).to_pydatetime() if newest is not None else datetime.now(UTC)
        length = WINDOWS[self.window]
        assert length is not None
        return Window(end - length, end)

    def describe(self) -> str:
        parts = [
            WINDOW_LABELS[self.window] if self.window != "custom" else f"{self.start} to {self.end}"
        ]
        if self.language:
            parts.append(f"language {self.language}")
        if self.genre:
            parts.append(f"genre {self.genre}")
        return ", ".join(parts)


def _day(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
