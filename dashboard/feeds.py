"""Atom feeds: a subscription is its URL. Each feed is computed from the stored market
when it is read; nothing is written. An entry stands for one run of a game rising (its
id holds the run's start), so a reader sees a new entry when a game starts rising."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from flask import Flask, Response, request

from dashboard.filters import Filters
from dashboard.loader import MarketData
from dashboard.names import language_name
from dashboard.rising import Rise, rising_now

ATOM = "application/atom+xml; charset=utf-8"


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


def register(server: Flask, market: MarketData) -> None:
    """Add the feeds' routes to the dashboard's Flask server."""

    @server.get("/feeds/rising.atom")
    def rising() -> Response:
        if not market.loaded:
            return Response("loading", status=503, mimetype="text/plain")
        filters = Filters.from_query(request.args)
        base = request.host_url.rstrip("/")
        return Response(rising_feed(market, base, filters.language), mimetype=ATOM)
