"""Filters shared by every page, kept in the URL query string (`?window=7d&language=es`).

Malformed parameters never break a page: they fall back to defaults and the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode
from zoneinfo import available_timezones

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
WINDOW_SPANS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}
STALE_AFTER = timedelta(minutes=75)  # two missed slots and a bit
TIMEZONES = sorted(available_timezones())
_KNOWN_ZONES = frozenset(TIMEZONES)
# Bounds of any window (pandas timestamps end in 2262; Twitch began in 2011).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_VALUE_LENGTH = 100  # longer parameters are nobody's language, genre or zone
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
        for name, value in values.items():
            if len(value) > MAX_VALUE_LENGTH:
                problems.append(f"{name} is too long; ignored")
                values[name] = DEFAULTS[name]
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
        # Only zones of the list are accepted: ZoneInfo would also try odd paths as files.
        if values["tz"] and values["tz"] not in _KNOWN_ZONES:
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

    def window_for(self, newest: pd.Timestamp | None, oldest: pd.Timestamp | None = None) -> Window:
        """The window, ending just after the newest snapshot (so stale data still shows).
        Custom dates are clamped to the stored history [oldest, newest], so no date typed
        into a link can make a page compute over centuries."""
        if self.window == "custom":
            start = max(_day(self.start), EARLIEST)
            end = min(_day(self.end), LATEST) + timedelta(days=1)
            if newest is not None:
                end = min(end, (newest + CADENCE).to_pydatetime())
            if oldest is not None:
                start = max(start, oldest.floor("D").to_pydatetime())
            return Window(start, max(start, end))
        end = (newest + CADENCE).to_pydatetime() if newest is not None else datetime.now(UTC)
        length = WINDOWS[self.window]
        assert length is not None
        return Window(end - length, end)

    def clamp_note(self, window: Window) -> str:
        """What a custom window lost to clamping, or "" when it kept the dates asked."""
        if self.window != "custom":
            return ""
        asked_start, asked_last = _day(self.start), _day(self.end)
        shown_last = window.end - timedelta(microseconds=1)
        if asked_start >= window.start and asked_last.date() <= shown_last.date():
            return ""
        if window.end <= window.start:
            return f"No data is stored between {self.start} and {self.end}."
        return (
            f"Showing {window.start:%Y-%m-%d %H:%M} to {shown_last:%Y-%m-%d %H:%M} UTC: "
            "the stored history does not reach further."
        )

    def describe(self, window: Window | None = None, now: datetime | None = None) -> str:
        """The window in words. A preset is "Last 7 days" only while its data is fresh;
        over old data (a recording, a stopped collector) it says which days it shows."""
        if self.window == "custom":
            parts = [f"{self.start} to {self.end}"]
        elif window is not None and (now or datetime.now(UTC)) - window.end > STALE_AFTER:
            newest = window.end - CADENCE
            parts = [f"{WINDOW_SPANS[self.window]} ending {newest:%Y-%m-%d %H:%M} UTC"]
        else:
            parts = [WINDOW_LABELS[self.window]]
        if self.language:
            parts.append(f"language {self.language}")
        if self.genre:
            parts.append(f"genre {self.genre}")
        return ", ".join(parts)


def _day(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
