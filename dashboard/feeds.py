"""Atom feeds: a subscription is its URL. Each feed is computed from the stored market
when it is read; nothing is written. In the rising feed an entry stands for one run of a
game rising (its id holds the run's start), so a reader sees a new entry when a game
starts rising; in the what-to-stream feed, for a day whose top of the ranking differs
from the day before's."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from flask import Flask, Response, request

from dashboard.advice import Ask, top_changes
from dashboard.filters import Filters, span
from dashboard.loader import MarketData
from dashboard.names import language_name
from dashboard.rising import Rise, rising_now

ATOM = "application/atom+xml; charset=utf-8"
# The query parameters a what-to-stream feed's URL keeps (its page's).
ASKED = (
    "viewers",
    "from",
    "to",
    "days",
    "like",
    "language",
    "genre",
    "window",
    "start",
    "end",
    "tz",
)


def describe(rise: Rise) -> str:
    if rise.ratio == float("inf"):
        return f"new: {rise.channel_share:.2%} of live channels"
    return (
        f"{rise.ratio:.1f}× its usual share of live channels "
        f"({rise.usual_share:.2%} → {rise.channel_share:.2%})"
    )


def rising_feed(market: MarketData, base_url: str, language: str) -> bytes:
    """The games rising now, one entry per run of rising."""
    view = market.view()
    window, rises = rising_now(view, language)
    query = f"?{urlencode({'language': language})}" if language else ""
    where = f" in {language_name(language)}" if language else ""
    feed = FeedGenerator()
    feed.id(f"{base_url}/feeds/rising.atom{query}")
    feed.title(f"Genre Radar: rising games{where}")
    feed.link(href=f"{base_url}/feeds/rising.atom{query}", rel="self")
    feed.link(href=f"{base_url}/games{query}", rel="alternate")
    feed.updated(window.end if window is not None else datetime.now(UTC))
    for rise in reversed(rises):  # feedgen puts the last added first
        name = view.game_name(rise.game)
        params = {"game": rise.game, **({"language": language} if language else {})}
        page = f"{base_url}/games?{urlencode(params)}"
        entry = feed.add_entry()
        entry.id(f"{page}#rising-{rise.since:%Y%m%dT%H%MZ}")
        entry.title(f"{name} is rising{where}")
        entry.link(href=page)
        entry.updated(rise.since.to_pydatetime())
        entry.summary(f"{name}: {describe(rise)}, since {rise.since:%Y-%m-%d %H:%M} UTC.")
    return bytes(feed.atom_str(pretty=True))


def what_feed(market: MarketData, base_url: str, query: dict[str, str]) -> bytes:
    """The top of the what-to-stream ranking for the asked query, one entry per change."""
    view = market.view()
    filters = Filters.from_query(query).resolved(
        view.newest_slot(), view.oldest_slot(), view.cadence
    )
    window = filters.window_for(view.newest_slot(), view.oldest_slot(), view.cadence)
    ask = Ask.from_query(query)
    asked = {k: v for k, v in query.items() if k in ASKED}
    encoded = f"?{urlencode(asked)}" if asked else ""
    page = f"{base_url}/what-to-stream{encoded}"
    where = f" in {language_name(filters.language)}" if filters.language else ""
    who = f"{ask.audience} viewer{'s' if ask.audience != 1 else ''}{where}"
    hours = f"{ask.hours} ({filters.tz})"
    feed = FeedGenerator()
    feed.id(f"{base_url}/feeds/what-to-stream.atom{encoded}")
    feed.title(f"Genre Radar: what to stream with {who}, {hours}")
    feed.link(href=f"{base_url}/feeds/what-to-stream.atom{encoded}", rel="self")
    feed.link(href=page, rel="alternate")
    changes = top_changes(view, window, filters, ask)
    feed.updated(changes[0].at if changes else window.end)
    for change in reversed(changes):  # feedgen puts the last added first
        names = [view.game_name(g) for g in change.games]
        entry = feed.add_entry()
        entry.id(f"{page}#top-{change.at:%Y%m%dT%H%MZ}-{'.'.join(change.games)}")
        entry.title(f"Top games for {who}: {', '.join(names)}")
        entry.link(href=page)
        entry.updated(change.at)
        new = [view.game_name(g) for g in change.games if g not in change.before]
        summary = (
            f"The ranking by lift at your size over the {span(window.length)} to "
            f"{change.at:%Y-%m-%d %H:%M} UTC: {', '.join(names)}."
        )
        if change.before:
            before = ", ".join(view.game_name(g) for g in change.before)
            added = ", ".join(new) or "none, the order changed"
            summary += f" New in the top {len(change.games)}: {added}; before: {before}."
        if ask.problems:
            summary += " " + " ".join(ask.problems)
        entry.summary(summary)
    return bytes(feed.atom_str(pretty=True))


def register(server: Flask, market: MarketData) -> None:
    """Add the feeds' routes to the dashboard's Flask server."""

    @server.get("/feeds/rising.atom")
    def rising() -> Response:
        if not market.loaded:
            return Response("loading", status=503, mimetype="text/plain")
        filters = Filters.from_query(request.args)
        base = request.host_url.rstrip("/")
        return Response(rising_feed(market, base, filters.language), mimetype=ATOM)

    @server.get("/feeds/what-to-stream.atom")
    def what() -> Response:
        if not market.loaded:
            return Response("loading", status=503, mimetype="text/plain")
        base = request.host_url.rstrip("/")
        query = {k: str(v) for k, v in request.args.items()}
        return Response(what_feed(market, base, query), mimetype=ATOM)
