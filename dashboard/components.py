"""Pieces every page uses: the filter bar, notices, KPI cards, and the page context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pandas as pd
from dash import dcc, html

from dashboard.filters import TIMEZONES, WINDOW_LABELS, Filters, local_time
from dashboard.names import language_options
from dashboard.state import market
from dashboard.view import MarketView
from dashboard.window import Window
from slots import DEFAULT_CADENCE, Cadence
from store import MarketState, StoreError

BACKFILL_ALIVE = timedelta(minutes=10)  # a backfill that wrote nothing for this long died
LOAD_WAIT_SECONDS = 8.0
CATEGORY_LEVEL_NOTE = (
    "These snapshots record whole categories (each category's total viewers), not channels: "
    "figures per channel (channels live, viewers per channel, the best hours to stream, "
    "channel lookups) cannot be computed from them and are left out."
)


@dataclass
class PageContext:
    filters: Filters
    data: MarketView
    window: Window
    slots: pd.DatetimeIndex

    @property
    def category_level(self) -> bool:
        """The window holds category totals (a recording of top categories), not channels:
        per-channel figures are hidden."""
        return self.data.category_level(self.slots)

    def describe(self) -> str:
        """The window and filters in words, saying how much of the window is stored."""
        return self.filters.describe(
            self.window, oldest=self.data.oldest_slot(), cadence=self.data.cadence
        )

    def at(self, when: pd.Timestamp) -> str:
        """A time in the chosen time zone."""
        return local_time(when, self.filters.tz)


def from_url(search: str | None) -> tuple[Filters, MarketView, Window]:
    """What a callback works on: the URL's filters, the current market view and the window."""
    data = market().view()
    filters = Filters.from_search(search).resolved(
        data.newest_slot(), data.oldest_slot(), data.cadence
    )
    return filters, data, filters.window_for(data.newest_slot(), data.oldest_slot(), data.cadence)


def with_param(search: str | None, name: str, value: str) -> str:
    """The query string with `name` set to `value` (or removed when empty), the rest kept."""
    pairs = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k != name]
    if value:
        pairs.append((name, value))
    return "?" + urlencode(pairs) if pairs else ""


def notice(text: str, kind: str = "info") -> html.Div:
    return html.Div(text, className=f"notice notice-{kind}", role="status")


def kpi(label: str, value: str, note: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(label, className="kpi-label"),
            html.Div(value, className="kpi-value"),
            html.Div(note, className="kpi-note"),
        ],
        className="kpi",
    )


def number(value: float) -> str:
    return f"{value:,.0f}"


def filter_bar(filters: Filters, data: MarketView, fixed: str = "") -> html.Div:
    """The filters; `fixed` names one a page compares across (the Languages page splits by
    language), shown disabled rather than offered and ignored."""
    start = filters.start or None
    end = filters.end or None
    zones = TIMEZONES if filters.tz in TIMEZONES else [filters.tz, *TIMEZONES]
    return html.Div(
        [
            html.Label(
                [
                    "Window",
                    dcc.Dropdown(
                        id="f-window",
                        value=filters.window,
                        clearable=False,
                        options=[{"label": v, "value": k} for k, v in WINDOW_LABELS.items()],
                    ),
                ]
            ),
            html.Label(
                [
                    "Dates",
                    dcc.DatePickerRange(
                        id="f-range",
                        start_date=start,
                        end_date=end,
                        display_format="YYYY-MM-DD",
                        disabled=filters.window != "custom",
                    ),
                ]
            ),
            html.Label(
                [
                    "Language",
                    dcc.Dropdown(
                        id="f-language",
                        value=None if fixed == "language" else filters.language or None,
                        placeholder="All (this page compares them)"
                        if fixed == "language"
                        else "All languages",
                        disabled=fixed == "language",
                        options=language_options(data.languages()),
                    ),
                ]
            ),
            html.Label(
                [
                    "Genre",
                    dcc.Dropdown(
                        id="f-genre",
                        value=filters.genre or None,
                        placeholder="All genres",
                        options=data.genres(),
                    ),
                ]
            ),
            html.Label(
                [
                    "Time zone",
                    dcc.Dropdown(id="f-tz", value=filters.tz, clearable=False, options=zones),
                ]
            ),
        ],
        className="filters",
    )


def data_health(
    state: MarketState, now: datetime, cadence: Cadence = DEFAULT_CADENCE
) -> dict[str, Any]:
    """What `/healthz` and the banner say of the data: `empty`, `ok`, `stale` (the newest
    snapshot is old), `backfilling` (old, but a backfill is writing history now) or
    `degraded` (the newest snapshot quarantined too many records)."""
    newest = state.newest_slot
    if newest is None:
        return {"status": "empty", "newest_snapshot": None, "age_seconds": None}
    age = now - newest
    backfill = state.backfill
    heartbeat = backfill.heartbeat if backfill else None
    if state.newest_degraded:
        status = "degraded"
    elif age <= cadence.stale_after:
        status = "ok"
    elif backfill and backfill.running and heartbeat and now - heartbeat < BACKFILL_ALIVE:
        status = "backfilling"
    else:
        status = "stale"
    return {
        "status": status,
        "newest_snapshot": newest.isoformat(),
        "age_seconds": round(age.total_seconds()),
    }


def status_notices(ctx: PageContext) -> list[html.Div]:
    notes = [notice(f"Ignored a bad link parameter: {p}.", "warning") for p in ctx.filters.problems]
    if clamped := ctx.filters.clamp_note(ctx.window):
        notes.append(notice(clamped, "info"))
    if ctx.category_level:
        notes.append(notice(CATEGORY_LEVEL_NOTE, "info"))
    if ctx.data.detail_cut(ctx.window) and ctx.data.detail_start is not None:
        notes.append(
            notice(
                "Channel figures (the streamer page, a game's top channels) and figures "
                "within one language cover the newest days only, from "
                f"{ctx.data.detail_start:%Y-%m-%d}.",
                "info",
            )
        )
    newest = ctx.data.newest_slot()
    if newest is None:
        return notes
    state = MarketState(
        newest_slot=newest.to_pydatetime(),
        newest_degraded=ctx.data.newest_degraded,
        backfill=ctx.data.backfill,
    )
    health = data_health(state, datetime.now(UTC), ctx.data.cadence)
    hours = health["age_seconds"] / 3600
    when = ctx.at(newest)
    if health["status"] == "degraded":
        notes.append(
            notice(
                f"The newest snapshot ({when}) is degraded: the collector had to quarantine "
                "many of the records Twitch sent, so its figures are incomplete.",
                "warning",
            )
        )
    elif health["status"] == "backfilling":
        notes.append(
            notice(f"Backfilling history: the newest snapshot so far is from {when}.", "info")
        )
    elif health["status"] == "stale":
        notes.append(
            notice(
                f"Data is stale: the newest snapshot is {hours:,.1f} hours old "
                f"({when}). Is the collector running?",
                "warning",
            )
        )
    return notes


def loading_page(title: str, error: str) -> html.Div:
    """Shown while the market history is read at start; the page reloads itself."""
    text = (
        "Loading the market history from the database… this page reloads by itself."
        if not error
        else f"Could not read the market history yet ({error}); retrying…"
    )
    return html.Div(
        [
            html.H1(title),
            notice(text, "info" if not error else "error"),
            dcc.Interval(id="loading-timer", interval=5000),
        ],
        className="page",
    )


def page(
    title: str,
    query: Mapping[str, Any],
    body: Callable[[PageContext], list[Any]],
    *extra_key: object,
    memo: bool = True,
    fixed: str = "",
    live: Callable[[PageContext], list[Any]] | None = None,
) -> html.Div:
    """A page: its title, filters and notices, then `body(ctx)`; never a traceback.

    `memo=False` for pages whose data can change without a new data version (frames are
    sampled and labelled after the snapshot that announced the version); `live(ctx)` is a
    part after the body computed on every request for the same reason (highlights)."""
    try:
        holder = market()
        if not holder.loaded:
            holder.start_loading()
            holder.wait_loaded(LOAD_WAIT_SECONDS)
        if not holder.loaded:
            return loading_page(title, holder.load_error)
        data = holder.view()
        filters = Filters.from_query(query).resolved(
            data.newest_slot(), data.oldest_slot(), data.cadence
        )
        window = filters.window_for(data.newest_slot(), data.oldest_slot(), data.cadence)
        ctx = PageContext(filters, data, window, data.window_slots(window))
        header = [html.H1(title), filter_bar(filters, data, fixed), *status_notices(ctx)]
        if data.newest_slot() is None:
            content: list[Any] = [
                notice(
                    "No data yet: the collector has not stored any snapshot. "
                    f"It takes one at {data.cadence.describe()} every hour.",
                    "empty",
                )
            ]
        elif len(ctx.slots) == 0:
            content = [
                notice(
                    f"No snapshots in this window ({ctx.describe()}). "
                    "Choose a longer or another window.",
                    "empty",
                )
            ]
        else:
            # Pages are pure functions of (filters, data version): cache them per version.
            content = (
                data.memo(("page", title, filters, window, *extra_key), lambda: body(ctx))
                if memo
                else body(ctx)
            )
            if live is not None:
                content = [*content, *live(ctx)]
    except StoreError as error:
        header = [html.H1(title)]
        content = [
            notice(
                f"The database cannot be reached right now ({error}). Try again in a minute.",
                "error",
            )
        ]
    return html.Div([*header, html.Div(content, className="page-body")], className="page")
