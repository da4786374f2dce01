"""Filters shared by every page, kept in the URL query string (`?window=7d&language=es`).

Malformed parameters never break a page: they fall back to defaults and the page says so.
Without a `window` the page shows the last 7 days, or everything stored when that is less,
so a young database is not drawn mostly as "no data".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, available_timezones

import pandas as pd

from dashboard.names import language_name
from dashboard.window import Window
from slots import DEFAULT_CADENCE, Cadence

WINDOWS = {
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
    "custom": None,
}
WINDOW_LABELS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "all": "Everything stored",
    "custom": "Custom dates",
}
WINDOW_SPANS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}
DEFAULT_WINDOW = "7d"
# Every zone is accepted from a link or the browser (old aliases included); the list
# offers the canonical region/city names only, not aliases such as US/Eastern or W-SU.
_KNOWN_ZONES = frozenset(available_timezones())
_REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
TIMEZONES = ["UTC", *sorted(z for z in _KNOWN_ZONES if z.startswith(_REGIONS))]
# Bounds of any window (pandas timestamps end in 2262; Twitch began in 2011).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_VALUE_LENGTH = 100  # longer parameters are nobody's language, genre or zone
DEFAULTS = {"window": "", "start": "", "end": "", "language": "", "genre": "", "tz": "UTC"}


@dataclass(frozen=True)
class Filters:
    window: str = ""  # "": the default, chosen by `resolved` from the stored data
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
        if values["window"] and values["window"] not in WINDOWS:
            problems.append(f"unknown window {values['window']!r}; showing the default")
            values["window"] = ""
        if values["window"] == "custom":
            try:
                start, end = _day(values["start"]), _day(values["end"])
                if start > end:
                    raise ValueError
            except ValueError:
                problems.append(
                    "custom dates must be YYYY-MM-DD with start ≤ end; showing the default"
                )
                values.update(window="", start="", end="")
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

    def resolved(
        self,
        newest: pd.Timestamp | None,
        oldest: pd.Timestamp | None,
        cadence: Cadence = DEFAULT_CADENCE,
    ) -> Filters:
        """These filters with the default window made concrete: the last 7 days, or
        everything stored when the history is shorter than that."""
        if self.window:
            return self
        short = (
            newest is not None
            and oldest is not None
            and newest + cadence.interval - oldest < WINDOWS[DEFAULT_WINDOW]
        )
        return replace(self, window="all" if short else DEFAULT_WINDOW)

    def window_for(
        self,
        newest: pd.Timestamp | None,
        oldest: pd.Timestamp | None = None,
        cadence: Cadence = DEFAULT_CADENCE,
    ) -> Window:
        """The window, ending just after the newest snapshot (so stale data still shows).
        Custom dates are clamped to the stored history [oldest, newest], so no date typed
        into a link can make a page compute over centuries."""
        end = (newest + cadence.interval).to_pydatetime() if newest is not None else None
        if self.window == "custom":
            start = max(_day(self.start), EARLIEST)
            last = min(_day(self.end), LATEST) + timedelta(days=1)
            if end is not None:
                last = min(last, end)
            if oldest is not None:
                start = max(start, oldest.floor("D").to_pydatetime())
            return Window(start, max(start, last))
        end = end or datetime.now(UTC)
        if self.window == "all" or not self.window:
            start = oldest.to_pydatetime() if oldest is not None else end - WINDOWS["7d"]  # type: ignore[operator]
            return Window(start, end)
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

    def describe(
        self,
        window: Window | None = None,
        now: datetime | None = None,
        *,
        oldest: pd.Timestamp | None = None,
        cadence: Cadence = DEFAULT_CADENCE,
    ) -> str:
        """The window in words, saying what the data cover: a preset is "Last 7 days"
        only while its data are fresh and reach back that far; over old data (a
        recording, a stopped collector) it says which days it shows, and over a shorter
        history how much is stored."""
        stale = window is not None and (now or datetime.now(UTC)) - window.end > cadence.stale_after
        covered = (
            window.end - max(window.start, oldest.to_pydatetime())
            if window is not None and oldest is not None
            else None
        )
        if self.window == "custom":
            parts = [f"{self.start} to {self.end}"]
        elif window is not None and (self.window == "all" or not self.window):
            length = covered if covered is not None else window.length
            parts = [f"all {span(length)} stored, to {local_time(window.end, self.tz)}"]
        elif window is not None and covered is not None and covered < window.length:
            parts = [
                f"{WINDOW_LABELS[self.window].lower()} (only {span(covered)} stored, to "
                f"{local_time(window.end, self.tz)})"
            ]
        elif window is not None and stale:
            newest = window.end - cadence.interval
            parts = [f"{WINDOW_SPANS[self.window]} ending {local_time(newest, self.tz)}"]
        else:
            parts = [WINDOW_LABELS[self.window or DEFAULT_WINDOW]]
        if self.language:
            parts.append(f"language {language_name(self.language)}")
        if self.genre:
            parts.append(f"genre {self.genre}")
        return ", ".join(parts)


def span(length: timedelta) -> str:
    """A duration in words: "18 hours", "2.5 days"."""
    hours = length.total_seconds() / 3600
    if hours < 48:
        return f"{hours:,.0f} hour{'s' if round(hours) != 1 else ''}"
    return f"{hours / 24:,.1f} days"


def local_time(when: datetime | pd.Timestamp, tz: str) -> str:
    """`when` as a wall-clock time in the chosen zone, with the zone's abbreviation."""
    local = pd.Timestamp(when).tz_convert(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or tz}"


def _day(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)


def subject_label(filters: Filters, subject: str, game_name: Callable[[str], str]) -> str:
    """What the heat map shows: its subject within the filters that apply to it (a game
    is within the language filter, a language within the genre filter)."""
    kind, _, value = subject.partition(":")
    within = []
    if filters.language and kind != "language":
        within.append(f"language {language_name(filters.language)}")
    if filters.genre and kind in ("all", "language"):
        within.append(f"genre {filters.genre}")
    if kind == "all":
        return "the whole market" if not within else "streams in " + " and ".join(within)
    if kind == "game":
        named = f"game {game_name(value)}"
    elif kind == "language":
        named = f"language {language_name(value)}"
    else:
        named = f"{kind} {value}"
    return named + "".join(f", {part} only" for part in within)
