"""The Dash market website. `gunicorn dashboard.app:server` serves it (see Procfile).

Reads MongoDB through MONGODB_URI_READONLY (falling back to the local default) with
:class:`store._reader.StoreReader`, which has no write method: the site has no write path.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import dash
from dash import Dash, Input, Output, State, dcc, html, no_update
from flask import Response, jsonify

from dashboard import api, clips, feeds
from dashboard.chat_data import ChatData
from dashboard.chat_live import ChatLive
from dashboard.components import data_health
from dashboard.filters import DEFAULTS, Filters
from dashboard.inputs import callback_failed, checked
from dashboard.loader import MarketData
from dashboard.state import set_chat, set_chat_live, set_market
from settings import Settings
from settings.cli import settings_or_exit
from store import StoreError, StoreReader, shard_label

HERE = Path(__file__).resolve().parent
NAV = [
    ("What to stream", "/what-to-stream"),
    ("Overview", "/"),
    ("Games", "/games"),
    ("Languages", "/languages"),
    ("When to stream", "/when"),
    ("Streamer", "/streamer"),
    ("Channels like me", "/like"),
    ("Chat", "/chat"),
    ("Frames", "/frames"),
]


def create_app(settings: Settings | None = None, reader: StoreReader | None = None) -> Dash:
    settings = settings or settings_or_exit("dashboard")
    reader = reader or StoreReader(
        settings.dashboard_mongodb_uri, settings.mongodb_db, timeout_ms=settings.mongodb_timeout_ms
    )
    data = MarketData(reader, cadence=settings.cadence)
    set_market(data)
    chat = ChatData(reader)
    set_chat(chat)
    chat.preload()
    shards = [shard_label(i, settings.chat_shards) for i in range(settings.chat_shards)]
    set_chat_live(ChatLive(reader, shards, flush_seconds=settings.chat_flush_seconds))
    data.start_loading()  # read the history now, before the first visitor asks
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,
        title="Genre Radar",
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        on_error=callback_failed,
    )
    app.layout = html.Div(
        [
            html.Header(
                [
                    html.Span("Genre Radar", className="brand"),
                    html.Nav(
                        [
                            dcc.Link(label, href=path, id=f"nav-{i}", className="nav-link")
                            for i, (label, path) in enumerate(NAV)
                        ]
                    ),
                ],
                className="topbar",
            ),
            dcc.Store(id="browser-zone"),
            # A spinner while a page (not each chart on it) is computed.
            dcc.Loading(
                dash.page_container,
                target_components={"_pages_content": "children"},
                delay_show=300,
                overlay_style={"visibility": "visible", "opacity": 0.5},
                type="circle",
            ),
        ]
    )
    api.register(app.server, data, settings.api_rate_limit)
    feeds.register(app.server, data)
    clips.register(app.server, reader)

    @app.callback(
        Output("_pages_location", "search"),
        Input("f-window", "value"),
        Input("f-range", "start_date"),
        Input("f-range", "end_date"),
        Input("f-language", "value"),
        Input("f-genre", "value"),
        Input("f-tz", "value"),
        State("_pages_location", "search"),
        prevent_initial_call=True,
    )
    @checked
    def filters_to_url(
        window: str | None,
        start: str | None,
        end: str | None,
        language: str | None,
        genre: str | None,
        tz: str | None,
        search: str | None,
    ) -> str:
        if window == "custom" and not (start and end):
            return no_update  # wait until both dates are picked
        view = data.view()
        chosen = Filters.from_query(
            {
                "window": window or "",
                "start": (start or "")[:10],
                "end": (end or "")[:10],
                "language": language or "",
                "genre": genre or "",
                "tz": tz or "",
            }
        )
        # The default window stays out of the link (it follows the data as they grow).
        default = Filters().resolved(view.newest_slot(), view.oldest_slot(), view.cadence)
        if chosen.window == default.window:
            chosen = replace(chosen, window="")
        # Parameters of a page's own (the Chat page's comparison, say) stay in the URL.
        own = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k not in DEFAULTS]
        wanted = chosen.to_search()
        if own:
            wanted += ("&" if wanted else "?") + urlencode(own)
        return no_update if wanted == (search or "") else wanted

    # Without `tz` in the link, times are shown in the browser's zone: the page is opened
    # again with the zone in the URL (once: links within the site keep it), so a shared
    # link shows what its sender saw.
    app.clientside_callback(
        """function(search) {
            const params = new URLSearchParams(search || "");
            const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
            if (!params.has("tz") && zone && zone !== "UTC") {
                params.set("tz", zone);
                window.location.replace(window.location.pathname + "?" + params.toString());
            }
            return zone || "";
        }""",
        Output("browser-zone", "data"),
        Input("_pages_location", "search"),
    )

    @app.callback(Output("f-range", "disabled"), Input("f-window", "value"))
    @checked
    def dates_only_for_custom(window: str | None) -> bool:
        return window != "custom"

    @app.callback(
        [Output(f"nav-{i}", "href") for i in range(len(NAV))], Input("_pages_location", "search")
    )
    @checked
    def nav_keeps_filters(search: str | None) -> list[str]:
        # The site's filters go along; a page's own inputs (a game, a channel) stay behind.
        kept = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k in DEFAULTS]
        query = f"?{urlencode(kept)}" if kept else ""
        return [path + query for _, path in NAV]

    # While the history loads, the loading page reloads itself.
    app.clientside_callback(
        "function(n) { if (n) { window.location.reload(); }"
        " return window.dash_clientside.no_update; }",
        Output("loading-timer", "disabled"),
        Input("loading-timer", "n_intervals"),
        prevent_initial_call=True,
    )

    @app.server.route("/healthz")
    def healthz() -> Response:
        # The `meta` document (one `_id` read) rather than a sorted query over snapshots:
        # uptime monitors call this every minute.
        try:
            state = reader.rollup_state()
        except StoreError as error:
            response = jsonify({"status": "error", "error": str(error)})
            response.status_code = 503
            return response
        health = data_health(state, datetime.now(UTC), settings.cadence)
        return jsonify(health)

    return app


@functools.cache
def _default_app() -> Dash:
    return create_app()


def __getattr__(name: str) -> object:
    # `gunicorn dashboard.app:server` builds the app on first access, not at import time
    # (and once: Dash pages register globally).
    if name == "server":
        return _default_app().server
    raise AttributeError(name)
