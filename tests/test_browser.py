"""The dashboard in headless Chromium: every page, filters, interactions, no console errors.

One app for the session over a FerretDB database seeded with two days of market history
(with gaps); drawn numbers are checked against the raw streams in that database.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
import numpy as np
import pandas as pd
import pytest
from dash import Dash
from dash.testing import errors as dash_errors
from dash.testing.wait import until
from plotly.utils import PlotlyJSONEncoder
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import QUIET, SHARED, FerretDB, collector_settings
from dashboard.filters import Filters
from dashboard.loader import MarketData
from dashboard.state import market, set_market
from dashboard.window import Window
from emulator.config import EmulatorSettings
from emulator.market import Market
from emulator.recordings import convert
from emulator.server import EmulatorServer
from scheduler.app import build_collector
from scheduler.replay import replay_recording
from seed import SMALL_MARKET, slots_between, write_history
from settings import Settings
from slots import DEFAULT_CADENCE, slot_key
from store import FollowerReading, Store, StoreReader, schema
from store import frame_id as frame_id_of
from store.schema import HIGHLIGHT_GAMES

pytestmark = [pytest.mark.integration, pytest.mark.browser]
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")
TIMEOUT = 20
EVIL = '<a href="https://evil.example/">Evil</a> & co'


@pytest.fixture(scope="session")
def seeded(ferretdb: FerretDB) -> Iterator[Store]:
    store = Store(ferretdb.uri, "browser_market")
    store.ensure_indexes()
    end = DEFAULT_CADENCE.current_slot(datetime.now(UTC))
    slots = list(
        slots_between(end - timedelta(days=2), end + timedelta(minutes=30), skip={20, 21, 22, 60})
    )
    write_history(store, slots, top_n=150)
    # A game whose name is markup: every page must show it as text, never as a link. It is
    # the most watched game after Just Chatting, so the Overview's pie of games shows it.
    watched: Counter[str] = Counter()
    for rollup in store.db[schema.ROLLUPS].find({"dimension": "game"}):
        watched.update({g["key"]: g["viewers"] for g in rollup["groups"]})
    names = {g["_id"]: g["name"] for g in store.db[schema.GAMES].find({}, {"name": 1})}
    renamed = next(k for k, _ in watched.most_common() if names.get(k) != "Just Chatting")
    store.db[schema.GAMES].update_one({"_id": renamed}, {"$set": {"name": EVIL}})
    # Follower readings of the newest top channel, yesterday and today.
    _, top = newest(store)
    first = min(top, key=lambda s: s["rank"])
    for day, total in ((end - timedelta(days=1), 1_000), (end, 1_234)):
        store.write_followers(day, [FollowerReading(first["user_id"], first["user_login"], total)])
    yield store
    store.db.client.drop_database("browser_market")
    store.close()


@pytest.fixture(scope="session")
def app(seeded: Store, ferretdb: FerretDB) -> Dash:
    from dashboard.app import create_app

    settings = Settings(_env_file=None, mongodb_uri=ferretdb.uri, mongodb_db="browser_market")  # type: ignore[call-arg]
    return create_app(settings)


@pytest.fixture(autouse=True)
def _no_request_in_flight_at_teardown(request: pytest.FixtureRequest) -> Iterator[None]:
    """dash.testing stops its server by raising SystemExit in the request threads still
    running, which fails the test's teardown: a page that refreshes itself (the Chat
    page's live section) may be reading then. Leave the page and let them finish."""
    duo = request.getfixturevalue("dash_duo") if "dash_duo" in request.fixturenames else None
    yield
    if duo is None:
        return
    duo.driver.get("about:blank")
    until(
        lambda: (
            not any(
                "process_request_thread" in thread.name and thread.is_alive()
                for thread in threading.enumerate()
            )
        ),
        timeout=60,
    )


def newest(store: Store) -> tuple[datetime, list[dict[str, Any]]]:
    slot = store.db[schema.SNAPSHOTS].find_one({}, sort=[("slot", -1)])["slot"]  # type: ignore[index]
    return slot, list(store.db[schema.STREAMS].find({"slot": slot}))


def text_of(dash_duo: Any, selector: str, index: int = 0) -> str:
    """The text of the index-th match, or "" while the page is re-rendering."""
    try:
        return str(dash_duo.find_elements(selector)[index].text)
    except (IndexError, StaleElementReferenceException):
        return ""


def choose(dash_duo: Any, dropdown: str, label: str) -> None:
    """Pick `label` in a Dash 4 dropdown. The page can re-render while the list is open
    (after an earlier choice), closing it: then the list is opened once more."""
    try:
        _choose_once(dash_duo, dropdown, label)
    except (dash_errors.TestingTimeoutError, StaleElementReferenceException):
        dash_duo.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        _choose_once(dash_duo, dropdown, label)


def _choose_once(dash_duo: Any, dropdown: str, label: str) -> None:
    """Open the dropdown (a button that opens a listbox of options) and click `label`."""
    until(lambda: text_of(dash_duo, dropdown) != "", timeout=TIMEOUT)
    dash_duo.find_element(dropdown).click()
    listbox = dash_duo.wait_for_element("[role='listbox']", timeout=TIMEOUT)
    search = dash_duo.driver.find_elements(By.CSS_SELECTOR, "input.dash-dropdown-search")
    if search:  # long lists show only the options that match what is typed
        search[0].send_keys(label)
    until(
        lambda: any(
            o.text == label for o in listbox.find_elements(By.CSS_SELECTOR, "[role='option']")
        ),
        timeout=TIMEOUT,
    )
    options = listbox.find_elements(By.CSS_SELECTOR, "[role='option']")
    next(o for o in options if o.text == label).click()


def console_errors(dash_duo: Any) -> list[dict[str, Any]]:
    return [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Market overview"),
        ("/games", "Games"),
        ("/languages", "Languages"),
        ("/when", "When to stream"),
        ("/streamer", "Streamer"),
        ("/frames", "Frames"),
        ("/chat", "Chat"),
    ],
)
def test_every_page_renders_without_console_errors(
    dash_duo: Any, app: Dash, path: str, title: str
) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + path, timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("h1", title, timeout=TIMEOUT)
    ready = {
        "/games": "#games-table .ag-row",
        "/streamer": "#streamer-leaderboard .ag-row",
        "/frames": ".notice",
        "/chat": ".page-body",
    }.get(path, ".js-plotly-plot")
    dash_duo.wait_for_element(ready, timeout=TIMEOUT)
    assert "Traceback" not in dash_duo.driver.page_source
    assert console_errors(dash_duo) == []


def test_overview_numbers_equal_the_stored_streams(dash_duo: Any, app: Dash, seeded: Store) -> None:
    slot, _ = newest(seeded)
    # The whole market at that slot, from the emulator's own market (not from the store)
    market = Market(EmulatorSettings(_env_file=None, channels=SMALL_MARKET))
    live = market.table(slot.timestamp()).records
    viewers = sorted(r["viewer_count"] for r in live)
    dash_duo.start_server(app)
    dash_duo.wait_for_element(".kpi-value", timeout=TIMEOUT)
    values = [e.text for e in dash_duo.find_elements(".kpi-value")]
    assert values[0] == f"{sum(viewers):,}"
    assert values[1] == f"{len(live):,}"
    labels = [e.text for e in dash_duo.find_elements(".kpi-label")]
    shares = dict(zip(labels, values, strict=True))
    # over the whole UTC days of the default window: every seeded slot of those days
    assert shares["Channels under 5 viewers"] == f"{under_5_share(seeded, market):.0%}"
    assert f"{slot:%Y-%m-%d %H:%M}" in dash_duo.find_element(".kpi-note").text
    dash_duo.wait_for_element("#overview-pie .js-plotly-plot", timeout=TIMEOUT)
    pie = dash_duo.driver.execute_script(
        "const g = document.querySelector('#overview-pie .js-plotly-plot'); "
        "return {labels: g._fullData[0].labels, values: g._fullData[0].values};"
    )
    assert "Non-game" in pie["labels"] and len(pie["labels"]) == len(pie["values"])
    assert console_errors(dash_duo) == []


def under_5_share(store: Store, market: Market) -> float:
    """Channels under 5 viewers over every seeded slot, from the emulator's market."""
    slots = [d["slot"] for d in store.db[schema.SNAPSHOTS].find({"status": "complete"})]
    counts = [r["viewer_count"] for slot in slots for r in market.table(slot.timestamp()).records]
    return sum(c < 5 for c in counts) / len(counts)


def test_filters_come_from_the_url_and_a_bad_parameter_is_explained(
    dash_duo: Any, app: Dash
) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?window=24h&language=en", timeout=TIMEOUT)
    dash_duo.wait_for_element(".kpi-note", timeout=TIMEOUT)
    assert "Last 24 hours, language English" in dash_duo.find_elements(".kpi-note")[2].text
    dash_duo.wait_for_page(
        url=dash_duo.server_url + "/languages?window=24h&tz=Asia/Tokyo", timeout=TIMEOUT
    )
    dash_duo.wait_for_element(".js-plotly-plot", timeout=TIMEOUT)
    titles = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.js-plotly-plot')].map(g => [g.layout.title.text, "
        "g.layout.xaxis && g.layout.xaxis.title ? g.layout.xaxis.title.text : null]);"
    )
    assert ["Viewers by language (all live channels)", "Time (Asia/Tokyo)"] in titles
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?window=24h&language=en", timeout=TIMEOUT)
    dash_duo.wait_for_element("#nav-2", timeout=TIMEOUT)
    assert dash_duo.find_element("#nav-0").text == "What to stream"  # first in the navigation
    nav = dash_duo.find_element("#nav-2").get_attribute("href")
    assert nav.endswith("/games?window=24h&language=en")  # navigation keeps the filters
    dash_duo.wait_for_page(
        url=dash_duo.server_url + "/?window=forever&tz=Mars/Base", timeout=TIMEOUT
    )
    dash_duo.wait_for_contains_text(".notice-warning", "unknown window", timeout=TIMEOUT)
    assert "Traceback" not in dash_duo.driver.page_source


def test_changing_a_filter_rewrites_the_url(dash_duo: Any, app: Dash) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#f-window", timeout=TIMEOUT)
    choose(dash_duo, "#f-window", "Last 24 hours")
    until(lambda: "window=24h" in dash_duo.driver.current_url, timeout=TIMEOUT)
    until(lambda: "Last 24 hours" in text_of(dash_duo, ".kpi-note", 2), timeout=TIMEOUT)
    choose(dash_duo, "#f-language", "Spanish")
    until(lambda: "language=es" in dash_duo.driver.current_url, timeout=TIMEOUT)
    until(lambda: "language Spanish" in text_of(dash_duo, ".kpi-note", 2), timeout=TIMEOUT)
    assert console_errors(dash_duo) == []


def test_pie_switches_to_games(dash_duo: Any, app: Dash, seeded: Store) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#overview-split", timeout=TIMEOUT)
    dash_duo.find_elements("#overview-split input")[1].click()
    names = {g["name"] for g in seeded.db[schema.GAMES].find({}, {"name": 1})}
    dash_duo.wait_for_contains_text("#overview-pie", "game", timeout=TIMEOUT)
    labels = dash_duo.driver.execute_script(
        "return document.querySelector('#overview-pie .js-plotly-plot')._fullData[0].labels;"
    )
    shown = {html.unescape(label) for label in labels}  # Plotly decodes entities when drawing
    assert shown - {"Other"} <= names and "Just Chatting" in shown


def test_a_name_that_is_markup_is_drawn_as_text(dash_duo: Any, app: Dash) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#overview-split", timeout=TIMEOUT)
    dash_duo.find_elements("#overview-split input")[1].click()
    dash_duo.wait_for_contains_text("#overview-pie", "Evil", timeout=TIMEOUT)
    links = dash_duo.driver.execute_script(
        "return document.querySelectorAll('#overview-pie a, #overview-pie [href]').length;"
    )
    legend = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#overview-pie .legendtext'))"
        ".map(e => e.textContent);"
    )
    assert links == 0 and EVIL in legend
    dash_duo.wait_for_page(url=dash_duo.server_url + "/games", timeout=TIMEOUT)
    dash_duo.wait_for_element("#games-table .ag-row", timeout=TIMEOUT)
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "a[href*='evil.example']")
    assert console_errors(dash_duo) == []


BAD_LINKS = [
    {"window": "custom", "start": "2026-11-22", "end": "9999-12-31"},
    {"window": "custom", "start": "0001-01-01", "end": "2026-11-22"},
    {"window": "custom", "start": "1900-01-01", "end": "9999-12-31"},
    {"tz": "Europe/" + "x" * 300},
    {"window": "custom", "start": "2001-01-01", "end": "2001-12-31"},
]


@pytest.mark.parametrize("query", BAD_LINKS)
def test_a_bad_link_gives_every_page_a_notice_and_a_bounded_answer(
    app: Dash, seeded: Store, query: dict[str, str]
) -> None:
    from dashboard.components import from_url

    # The app's own page modules (Dash imports them as `pages.<name>`; importing them again
    # under another name would register every page and callback twice).
    overview, games, languages, when, streamer, frames = (
        sys.modules[f"pages.{name}"]
        for name in ("overview", "games", "languages", "when", "streamer", "frames")
    )
    search = "?" + urlencode(query)
    for module in (overview, games, languages, when, streamer, frames):
        answer = json.dumps(module.layout(**query), cls=PlotlyJSONEncoder)
        assert len(answer) < 3_000_000, module.__name__
        assert "notice-" in answer, module.__name__
    filters, data, window = from_url(search)
    assert window.end > window.start or "No data is stored" in filters.clamp_note(window)
    top_game = next(iter(data.games))
    everything = Window(data.slots[0], data.slots[-1] + timedelta(minutes=30))
    login = str(data.channel_rows(everything).iloc[0]["login"])
    for answer in (
        overview.share_figure(data, window, filters, "game"),
        games.game_detail(data, window, filters, top_game),
        when.heatmap_figure(data, window, filters, f"game:{top_game}"),
        streamer.lookup(data, window, login, filters.tz),
    ):
        assert len(json.dumps(answer, cls=PlotlyJSONEncoder)) < 3_000_000


def weights_of(slots: list[datetime]) -> dict[datetime, float]:
    """Hours each snapshot stands for (../shared/docs/metrics.md): until the next one, at
    most two slots (60 minutes); the last one slot (30 minutes)."""
    ordered = sorted(set(slots))
    following: list[datetime | None] = [*ordered[1:], None]
    return {
        a: min(b - a if b else timedelta(minutes=30), timedelta(hours=1)).total_seconds() / 3600
        for a, b in zip(ordered, following, strict=True)
    }


def stored_streams(store: Store) -> tuple[list[dict[str, Any]], list[datetime]]:
    """Every stored stream of every complete snapshot (the default window holds all of
    the two seeded days)."""
    slots = [d["slot"] for d in store.db[schema.SNAPSHOTS].find({"status": "complete"})]
    return list(store.db[schema.STREAMS].find({"slot": {"$in": slots}})), slots


def grid_rows(dash_duo: Any, grid: str) -> list[dict[str, Any]]:
    """The rows a grid holds (all pages), as the browser has them."""
    return dash_duo.driver.execute_script(  # type: ignore[no-any-return]
        f"const api = dash_ag_grid.getApi('{grid}'); const rows = [];"
        " api.forEachNodeAfterFilterAndSort(n => rows.push(n.data)); return rows;"
    )


def grid_headers(dash_duo: Any, grid: str) -> list[str]:
    """A grid's column headers, shown or scrolled out of view."""
    return dash_duo.driver.execute_script(  # type: ignore[no-any-return]
        f"return dash_ag_grid.getApi('{grid}').getColumnDefs().map(c => c.headerName);"
    )


def test_a_game_page_has_its_own_link_channels_and_history(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    streams, slots = stored_streams(seeded)
    weights = weights_of(slots)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/games", timeout=TIMEOUT)
    cell = dash_duo.wait_for_element(
        "#games-table .ag-pinned-left-cols-container [col-id='game']", timeout=TIMEOUT
    )
    name = cell.text
    cell.click()
    until(lambda: "game=" in dash_duo.driver.current_url, timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#game-detail h2", name, timeout=TIMEOUT)
    game_id = dash_duo.driver.current_url.split("game=")[1].split("&")[0]
    # The link alone opens the same game's page.
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/games?game={game_id}", timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#game-detail h2", name, timeout=TIMEOUT)
    assert "Top 5 channels" in dash_duo.find_element("#game-detail").text
    # Viewers and channels each on their own axis (channels are not drawn flat at 0).
    dash_duo.wait_for_element("#game-detail .js-plotly-plot", timeout=TIMEOUT)
    layout = dash_duo.driver.execute_script(
        "const g = document.querySelector('#game-detail .js-plotly-plot');"
        " return [g.layout.yaxis2.overlaying, g.data.map(t => t.yaxis || 'y')];"
    )
    assert layout == ["y", ["y", "y2"]]
    # Its top channels, by hours watched computed here from the stored streams.
    watched: Counter[str] = Counter()
    for stream in streams:
        if stream["game_id"] == game_id:
            watched[stream["user_login"]] += stream["viewer_count"] * weights[stream["slot"]]
    dash_duo.wait_for_element("#game-channels .ag-row", timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "game-channels")
    ranked = sorted(watched, key=lambda login: (-watched[login], login))  # ties by login
    assert [r["channel"] for r in rows] == ranked[: len(rows)]
    assert rows[0]["hours_watched"] == pytest.approx(watched[ranked[0]])
    link = dash_duo.find_element("#game-channels .ag-row a").get_attribute("href")
    assert link.endswith(f"/streamer?channel={rows[0]['channel']}")
    dash_duo.wait_for_element("#game-history .js-plotly-plot", timeout=TIMEOUT)
    days = dash_duo.driver.execute_script(
        "return document.querySelector('#game-history .js-plotly-plot').data[0].x.length;"
    )
    assert days == len({slot.date() for slot in slots})
    assert console_errors(dash_duo) == []


def test_the_streamer_page_finds_a_channel_and_its_streams(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    streams, slots = stored_streams(seeded)
    weights = weights_of(slots)
    watched: Counter[str] = Counter()
    for stream in streams:
        watched[stream["user_login"]] += stream["viewer_count"] * weights[stream["slot"]]
    dash_duo.start_server(app)
    # Without a channel: the leaderboard, biggest by hours watched.
    dash_duo.wait_for_page(url=dash_duo.server_url + "/streamer", timeout=TIMEOUT)
    dash_duo.wait_for_element("#streamer-leaderboard .ag-row", timeout=TIMEOUT)
    board = grid_rows(dash_duo, "streamer-leaderboard")
    ranked = sorted(watched, key=lambda login: (-watched[login], login))  # ties by login
    assert [r["login"] for r in board[:10]] == ranked[:10]
    _, newest_streams = newest(seeded)
    followed = min(newest_streams, key=lambda s: s["rank"])["user_login"]
    gains = {r["login"]: r["followers_gained"] for r in board}
    assert gains[followed] == 234  # 1,000 yesterday, 1,234 today
    assert all(g is None for login, g in gains.items() if login != followed)
    # Search by part of a login: suggestions, then the channel's page in the URL.
    login = ranked[2]
    dash_duo.find_element("#streamer-channel").click()
    search = dash_duo.wait_for_element("input.dash-dropdown-search", timeout=TIMEOUT)
    search.send_keys(login[1:-1])

    def names_it(text: str) -> bool:  # "starx1" or "StarX1 (starx1)", never "starx10"
        return text == login or text.endswith(f"({login})")

    until(
        lambda: any(
            names_it(o.text) for o in dash_duo.find_elements("[role='listbox'] [role='option']")
        ),
        timeout=TIMEOUT,
    )
    option = next(
        o for o in dash_duo.find_elements("[role='listbox'] [role='option']") if names_it(o.text)
    )
    option.click()
    until(lambda: f"channel={login}" in dash_duo.driver.current_url, timeout=TIMEOUT)
    # Its page comes from every listed channel: sessions as the whole listing saw them.
    check_channel_page(dash_duo, login, listed_streams(slots), weights)
    # Ranks are whole numbers on the axis.
    dash_duo.wait_for_element("#streamer-rank .js-plotly-plot", timeout=TIMEOUT)
    assert_rank_ticks(dash_duo)
    # A channel whose followers are read: its total and gain on its page.
    dash_duo.wait_for_page(
        url=f"{dash_duo.server_url}/streamer?channel={followed}", timeout=TIMEOUT
    )
    dash_duo.wait_for_element("#streamer-sessions .ag-row", timeout=TIMEOUT)
    assert (kpi_text(dash_duo, "Followers"), kpi_text(dash_duo, "Followers gained")) == (
        "1,234",
        "+234",
    )
    dash_duo.wait_for_page(
        url=dash_duo.server_url + "/streamer?channel=nobody_like_this", timeout=TIMEOUT
    )
    dash_duo.wait_for_contains_text(
        "#streamer-result", "has never been seen live by Genre Radar", timeout=TIMEOUT
    )
    assert console_errors(dash_duo) == []


def listed_streams(slots: list[datetime]) -> dict[datetime, pd.DataFrame]:
    """The seeded market's whole listing of each slot, straight from the emulator's model,
    with each stream's rank in its game's directory computed here."""
    market = Market(EmulatorSettings(_env_file=None, channels=SMALL_MARKET))  # type: ignore[call-arg]
    listed = {}
    for slot in sorted(set(slots)):
        frame = pd.DataFrame(market.table(slot.timestamp()).records)
        frame["game_rank"] = frame.groupby("game_id")["viewer_count"].rank(
            method="min", ascending=False
        )
        listed[slot] = frame.set_index("user_login")
    return listed


def check_channel_page(
    dash_duo: Any,
    login: str,
    listed: dict[datetime, pd.DataFrame],
    weights: dict[datetime, float],
) -> None:
    """The open channel page's name, streams and best directory rank equal a
    computation over the raw listing."""
    mine = [(slot, frame.loc[login]) for slot, frame in listed.items() if login in frame.index]
    dash_duo.wait_for_text_to_equal("#streamer-name", mine[-1][1]["user_name"], timeout=TIMEOUT)
    # Its streams: runs of listed slots, split where it was unlisted for over 60 minutes.
    sessions: list[list[tuple[datetime, Any]]] = []
    for slot, row in mine:
        if sessions and slot - sessions[-1][-1][0] <= timedelta(hours=1):
            sessions[-1].append((slot, row))
        else:
            sessions.append([(slot, row)])
    dash_duo.wait_for_element("#streamer-sessions .ag-row", timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "streamer-sessions")
    assert len(rows) == len(sessions)
    newest_session = sessions[-1]
    hours = sum(weights[slot] for slot, _ in newest_session)
    assert rows[0]["hours"] == pytest.approx(hours, abs=0.01)
    assert rows[0]["avg_viewers"] == pytest.approx(
        sum(r["viewer_count"] * weights[slot] for slot, r in newest_session) / hours, abs=0.01
    )
    best = min(int(r["game_rank"]) for _, r in mine)
    assert kpi_text(dash_duo, "Best directory rank") == f"{best:,}"


def kpi_text(dash_duo: Any, label: str) -> str:
    for card in dash_duo.find_elements(".kpi"):
        if card.find_element(By.CSS_SELECTOR, ".kpi-label").text == label:
            return str(card.find_element(By.CSS_SELECTOR, ".kpi-value").text)
    raise AssertionError(f"no KPI {label!r}")


def assert_rank_ticks(dash_duo: Any) -> None:
    """The directory-rank chart ticks whole numbers, a handful over both of its lines
    (the game's and the language's ranks), never one tick per rank."""
    axis = dash_duo.driver.execute_script(
        "const g = document.querySelector('#streamer-rank .js-plotly-plot');"
        " return [g.layout.yaxis.tickformat, g.layout.yaxis.dtick,"
        " g.data.flatMap(t => t.y).filter(y => y !== null)];"
    )
    assert axis[0] == ",d" and axis[1] >= 1 and float(axis[1]).is_integer()
    assert (max(axis[2]) - min(axis[2])) / axis[1] <= 12, axis


def test_a_small_channel_outside_every_top_list_has_its_page(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    _, slots = stored_streams(seeded)
    listed = listed_streams(slots)
    newest_slot = max(listed)
    small = listed[newest_slot].sort_values(["viewer_count", "user_id"])
    small = small[small["game_rank"] > 1]  # one with others above it in its game
    login = str(small.index[0])  # the smallest such channel live now, far below the top 150
    assert small.loc[login, "game_rank"] > 1 and small.loc[login, "viewer_count"] <= 2
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/streamer?channel={login}", timeout=TIMEOUT)
    check_channel_page(dash_duo, login, listed, weights_of(slots))
    dash_duo.wait_for_element("#streamer-rank .js-plotly-plot", timeout=TIMEOUT)
    assert_rank_ticks(dash_duo)
    assert console_errors(dash_duo) == []


def test_heat_map_subject_can_change(dash_duo: Any, app: Dash, seeded: Store) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/when?tz=Europe/Berlin", timeout=TIMEOUT)
    dash_duo.wait_for_element("#when-heatmap .js-plotly-plot", timeout=TIMEOUT)
    script = (
        "const g = document.querySelector('#when-heatmap .js-plotly-plot');"
        " if (!g || !g.layout) { return ['', '', null]; }"  # between two drawings
        " return [g.layout.title.text, g.layout.xaxis.title.text, g.data[0].z];"
    )
    title, axis, market_z = dash_duo.driver.execute_script(script)
    assert "whole market" in title and axis == "Hour of day (Europe/Berlin)"
    choose(dash_duo, "#when-subject", "Genre: Shooter")
    until(lambda: "Shooter" in dash_duo.driver.execute_script(script)[0], timeout=TIMEOUT)
    title, _, shooter_z = dash_duo.driver.execute_script(script)
    assert title.startswith("Viewers per channel, genre Shooter") and shooter_z != market_z
    assert console_errors(dash_duo) == []


def test_a_game_page_shows_where_an_audience_would_stand_hour_by_hour(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    _, slots = stored_streams(seeded)
    listed = listed_streams(slots)
    game_id = listed[max(slots)]["game_id"].value_counts().index[0]  # the most crowded

    def expected(audience: int) -> list[list[float | None]]:
        """Median over the slots of 1 + the game's channels with more viewers, by
        weekday × hour (UTC), from the raw listing."""
        rows = [
            (slot.weekday(), slot.hour, 1 + int((frame.loc[frame["game_id"] == game_id,
             "viewer_count"] > audience).sum()))
            for slot, frame in listed.items()
        ]  # fmt: skip
        cells = pd.DataFrame(rows, columns=["weekday", "hour", "position"])
        median = cells.groupby(["weekday", "hour"])["position"].median().unstack("hour")
        median = median.reindex(index=range(7), columns=range(24))
        return [[None if pd.isna(v) else float(v) for v in row] for row in median.to_numpy()]

    script = (
        "const g = document.querySelector('#game-position .js-plotly-plot');"
        " if (!g || !g._fullData) { return ['', null]; }"
        " return [g.layout.title.text,"
        "  g._fullData[0].z.map(r => Array.from(r, v => Number.isNaN(v) ? null : v))];"
    )
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/games?game={game_id}", timeout=TIMEOUT)
    dash_duo.wait_for_element("#game-position .js-plotly-plot", timeout=TIMEOUT)
    title, z = dash_duo.driver.execute_script(script)
    assert title.startswith("Your position with 3 viewers in")
    assert z == expected(3)
    choose(dash_duo, "#game-audience", "25")
    until(lambda: "with 25 viewers" in dash_duo.driver.execute_script(script)[0], timeout=TIMEOUT)
    assert dash_duo.driver.execute_script(script)[1] == expected(25) != expected(3)
    assert console_errors(dash_duo) == []


def test_what_to_stream_places_an_audience_in_every_game_as_the_raw_listing_does(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    _, slots = stored_streams(seeded)
    listed = listed_streams(slots)

    def raw(audience: int) -> pd.DataFrame:
        """Per game, from the whole listing: the median over the slots of 1 + the live
        channels with more viewers, and of its live channels (0 where it had none); the
        average viewers of its channels with at most twice the audience, and that over
        the market's, blended over 200 channel-slots."""
        games = sorted({g for frame in listed.values() for g in frame["game_id"]})
        positions, live = [], []
        near = pd.concat(listed.values()).query(f"viewer_count <= {2 * audience}")
        near = near.groupby("game_id")["viewer_count"].agg(["sum", "size"])
        for frame in listed.values():
            by_game = frame.groupby("game_id")["viewer_count"]
            positions.append([1 + int((by_game.get_group(g) > audience).sum())
                              if g in by_game.groups else 1 for g in games])  # fmt: skip
            live.append([int(by_game.size().get(g, 0)) for g in games])
        market = near["sum"].sum() / near["size"].sum()
        near = near.reindex(games, fill_value=0)
        return pd.DataFrame(
            {
                "position": np.median(positions, axis=0),
                "live": np.median(live, axis=0),
                "reach": (near["sum"] / near["size"]).where(near["size"] > 0),
                "lift": (near["sum"] + 200 * market) / (near["size"] + 200) / market,
            },
            index=games,
        )

    dash_duo.start_server(app)
    dash_duo.wait_for_page(
        url=f"{dash_duo.server_url}/what-to-stream?viewers=5&from=0&to=0", timeout=TIMEOUT
    )
    dash_duo.wait_for_element("#what-table .ag-row", timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "what-table")
    expected = raw(5)
    assert {r["id"] for r in rows} == set(expected.index)
    for row in rows:
        assert row["position"] == expected.loc[row["id"], "position"], row["game"]
        assert row["live"] == expected.loc[row["id"], "live"], row["game"]
        assert row["lift"] == pytest.approx(expected.loc[row["id"], "lift"]), row["game"]
        reach = expected.loc[row["id"], "reach"]
        assert row["reach"] == (None if np.isnan(reach) else pytest.approx(reach)), row["game"]
    lifts = [r["lift"] for r in rows]
    assert lifts == sorted(lifts, reverse=True)  # ranked by it, best first
    assert len(set(lifts)) > 3  # and it tells games apart
    # The API gives the same answer in the same order.
    api = dash_duo.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        " fetch('/api/v1/what-to-stream' + location.search).then(r => r.json())"
        " .then(body => done(body.rows.map(row => row.id)));"
    )
    assert api == [r["id"] for r in rows]
    # Another audience, typed, goes into the URL and places it anew.
    typed = dash_duo.find_element("#what-viewers")
    typed.send_keys(Keys.CONTROL, "a")
    typed.send_keys("25", Keys.ENTER)
    until(lambda: "viewers=25" in dash_duo.driver.current_url, timeout=TIMEOUT)
    until(
        lambda: (
            {r["id"]: r["position"] for r in grid_rows(dash_duo, "what-table")}
            == raw(25)["position"].to_dict()
        ),
        timeout=TIMEOUT,
    )
    # A liked game keeps itself and its genre's games; a bad audience is named, not a 500.
    liked = next(r for r in rows if r["genre"] != "Unknown")
    same_genre = {r["id"] for r in rows if r["genre"] == liked["genre"]}
    dash_duo.wait_for_page(
        url=f"{dash_duo.server_url}/what-to-stream?viewers=0&from=0&to=0&like={liked['id']}",
        timeout=TIMEOUT,
    )
    dash_duo.wait_for_element("#what-table .ag-row", timeout=TIMEOUT)
    assert "Usual viewers must be 1–100,000" in text_of(dash_duo, ".notice-error")
    until(
        lambda: {r["id"] for r in grid_rows(dash_duo, "what-table")} == same_genre,
        timeout=TIMEOUT,
    )
    marked = [r["id"] for r in grid_rows(dash_duo, "what-table") if r["liked_text"]]
    assert marked == [liked["id"]]
    # Days with no snapshot: said so, with the way to every hour and day.
    stored_days = {pd.Timestamp(slot).day_of_week for slot in listed}
    absent = next(d for d in range(7) if d not in stored_days)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[absent]
    dash_duo.wait_for_page(
        url=f"{dash_duo.server_url}/what-to-stream?days={weekday}&tz=UTC", timeout=TIMEOUT
    )
    dash_duo.wait_for_contains_text(".notice-empty", "falls in your hours and days", TIMEOUT)
    assert dash_duo.find_elements("#what-table") == []
    assert console_errors(dash_duo) == []


def test_the_default_window_is_what_is_stored_and_says_so(dash_duo: Any, app: Dash) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element(".kpi-note", timeout=TIMEOUT)
    # Two days stored: the default shows them all (not 7 days, 5 of them "no data").
    assert text_of(dash_duo, "#f-window") == "Everything stored"
    note = text_of(dash_duo, ".kpi-note", 2)
    assert note.startswith("all 2.0 days stored"), note
    # The shaded "no data" stretches are the seeded gaps only (a few hours, not days).
    dash_duo.wait_for_element("#overview-area .js-plotly-plot", timeout=TIMEOUT)
    shaded = dash_duo.driver.execute_script(
        "const g = document.querySelector('#overview-area .js-plotly-plot');"
        " const t = g.data.find(d => d.name === 'no data'); if (!t) { return 0; }"
        " let ms = 0; for (let i = 0; i + 2 < t.x.length; i += 6) {"
        " ms += new Date(t.x[i + 2]) - new Date(t.x[i]); } return ms / 3600000;"
    )
    assert 0 < shaded < 6
    # Nothing before the window is stored: no Growth column of "new" on every row.
    dash_duo.wait_for_page(url=dash_duo.server_url + "/games", timeout=TIMEOUT)
    dash_duo.wait_for_element("#games-table .ag-row", timeout=TIMEOUT)
    headers = grid_headers(dash_duo, "games-table")
    assert "Growth" not in headers and "Hours watched" in headers
    assert "nothing is stored from before this window" in dash_duo.find_element(".footnote").text
    # Within 24 hours the day before is stored: growth is computed.
    dash_duo.wait_for_page(url=dash_duo.server_url + "/games?window=24h", timeout=TIMEOUT)
    dash_duo.wait_for_element("#games-table .ag-row", timeout=TIMEOUT)
    assert "Growth" in grid_headers(dash_duo, "games-table")
    assert console_errors(dash_duo) == []


def test_times_are_shown_in_the_browser_zone_without_a_tz_link(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    slot, _ = newest(seeded)
    dash_duo.start_server(app)
    dash_duo.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
    try:
        dash_duo.wait_for_page(url=dash_duo.server_url + "/", timeout=TIMEOUT)
        until(lambda: "tz=Asia%2FTokyo" in dash_duo.driver.current_url, timeout=TIMEOUT)
        tokyo = (slot + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
        until(lambda: f"at {tokyo} JST" in text_of(dash_duo, ".kpi-note", 0), timeout=TIMEOUT)
        assert text_of(dash_duo, "#f-tz") == "Asia/Tokyo"
        # A link that names a zone keeps it.
        dash_duo.wait_for_page(url=dash_duo.server_url + "/?tz=Europe/Berlin", timeout=TIMEOUT)
        until(lambda: "CET" in text_of(dash_duo, ".kpi-note", 0), timeout=TIMEOUT)
        assert "tz=Europe" in dash_duo.driver.current_url
    finally:
        dash_duo.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})
    # The list offers region/city zones, not legacy aliases.
    from dashboard.filters import TIMEZONES

    assert "Europe/Berlin" in TIMEZONES and "UTC" in TIMEZONES
    assert not {"US/Indiana-Starke", "W-SU", "US/Eastern", "Etc/GMT+5"} & set(TIMEZONES)


def test_csv_download_equals_the_table(dash_duo: Any, app: Dash, tmp_path: Path) -> None:
    import csv

    dash_duo.start_server(app)
    dash_duo.driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    dash_duo.wait_for_page(url=dash_duo.server_url + "/games?window=24h", timeout=TIMEOUT)
    dash_duo.wait_for_element("#games-table .ag-row", timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "games-table")
    dash_duo.find_element("#games-table-csv").click()
    until(lambda: (tmp_path / "games.csv").exists(), timeout=TIMEOUT)
    until(lambda: (tmp_path / "games.csv").stat().st_size > 0, timeout=TIMEOUT)
    with (tmp_path / "games.csv").open(encoding="utf-8-sig") as file:
        exported = list(csv.DictReader(file))
    assert len(exported) == len(rows) > 20  # every row, not one page
    for got, want in zip(exported, rows, strict=True):
        assert got["Game"] == want["game"] and got["Genre"] == want["genre"]
        assert float(got["Hours watched"]) == pytest.approx(want["hours_watched"])
        assert float(got["Share"]) == pytest.approx(want["share"])
        growth = want["growth"]
        assert (
            (got["Growth"] == "")
            if growth is None
            else float(got["Growth"]) == pytest.approx(growth)
        )


def test_the_json_api_gives_the_pages_figures(dash_duo: Any, app: Dash) -> None:
    client = app.server.test_client()
    dash_duo.start_server(app)
    dash_duo.wait_for_page(
        url=dash_duo.server_url + "/games?window=24h&genre=Shooter", timeout=TIMEOUT
    )
    dash_duo.wait_for_element("#games-table .ag-row", timeout=TIMEOUT)
    page_rows = {r["id"]: r for r in grid_rows(dash_duo, "games-table")}
    answer = client.get("/api/v1/games?window=24h&genre=Shooter").get_json()
    assert answer["window"]["name"] == "24h" and answer["filters"]["genre"] == "Shooter"
    api_rows = {r["id"]: r for r in answer["rows"]}
    assert set(api_rows) == set(page_rows) and api_rows
    for game_id, row in page_rows.items():
        for field in ("hours_watched", "avg_viewers", "share", "viewers_per_channel"):
            assert api_rows[game_id][field] == pytest.approx(row[field]), field
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?window=24h", timeout=TIMEOUT)
    dash_duo.wait_for_element(".kpi-value", timeout=TIMEOUT)
    overview = client.get("/api/v1/overview?window=24h").get_json()
    values = [e.text for e in dash_duo.find_elements(".kpi-value")]
    assert values[0] == f"{overview['viewers_now']:,}"
    assert values[1] == f"{overview['channels_now']:,}"
    assert values[2] == f"{overview['hours_watched']:,.0f}"
    dash_duo.wait_for_page(url=dash_duo.server_url + "/streamer?window=24h", timeout=TIMEOUT)
    dash_duo.wait_for_element("#streamer-leaderboard .ag-row", timeout=TIMEOUT)
    board = grid_rows(dash_duo, "streamer-leaderboard")
    channels = client.get("/api/v1/channels?window=24h&limit=100").get_json()["rows"]
    assert [r["login"] for r in channels] == [r["login"] for r in board]
    top = client.get(f"/api/v1/channels/{board[0]['login']}?window=24h").get_json()
    assert top["channel"]["hours_watched"] == pytest.approx(board[0]["hours_watched"], abs=0.01)
    assert top["sessions"]
    assert client.get("/api/v1/channels/Not%20a%20login").status_code == 400
    assert client.get("/api/v1/").get_json()["version"] == "v1"


def test_the_json_api_is_rate_limited(seeded: Store, ferretdb: FerretDB) -> None:
    from flask import Flask

    from dashboard import api

    reader = StoreReader(ferretdb.uri, "browser_market")
    holder = MarketData(reader)
    holder.refresh()
    server = Flask(__name__)
    api.register(server, holder, "3/minute")
    client = server.test_client()
    codes = [client.get("/api/v1/genres").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    reader.close()


def test_one_genre_splits_the_donut_by_game_and_languages_have_names(
    dash_duo: Any, app: Dash
) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?genre=Shooter", timeout=TIMEOUT)
    dash_duo.wait_for_element("#overview-pie .js-plotly-plot", timeout=TIMEOUT)
    title, labels = dash_duo.driver.execute_script(
        "const g = document.querySelector('#overview-pie .js-plotly-plot');"
        " return [g.layout.title.text, g._fullData[0].labels];"
    )
    assert title == "Viewer share by game in Shooter (hours watched)" and len(labels) > 1
    dash_duo.wait_for_page(url=dash_duo.server_url + "/languages", timeout=TIMEOUT)
    dash_duo.wait_for_element(".js-plotly-plot", timeout=TIMEOUT)
    labels = dash_duo.driver.execute_script(
        "return document.querySelector('.js-plotly-plot')._fullData[0].labels;"
    )
    assert "English" in labels and "en" not in labels
    # This page compares languages: its language filter is off, not offered and ignored.
    assert dash_duo.find_element("#f-language").get_attribute("disabled") is not None or (
        "disabled" in (dash_duo.find_element("#f-language").get_attribute("class") or "")
    )
    rows = grid_rows(dash_duo, "languages-table")
    assert {"English", "Spanish"} <= {r["language"] for r in rows}
    assert console_errors(dash_duo) == []


def test_a_page_being_computed_shows_a_spinner(app: Dash) -> None:
    from dash import dcc

    spinners = [c for c in app.layout.children if isinstance(c, dcc.Loading)]
    assert len(spinners) == 1
    # The page, not each chart on it: the spinner waits on the page container only.
    assert spinners[0].target_components == {"_pages_content": "children"}
    assert spinners[0].children is dash.page_container


def test_an_empty_database_says_so(dash_duo: Any, app: Dash, ferretdb: FerretDB) -> None:
    from dashboard import state

    previous = state.market()
    empty = StoreReader(ferretdb.uri, "browser_empty")
    holder = MarketData(empty)
    holder.start_loading()  # before the server starts, as `create_app` does
    state.set_market(holder)
    try:
        dash_duo.start_server(app)
        dash_duo.wait_for_contains_text(".notice-empty", "No data yet", timeout=TIMEOUT)
        assert dash_duo.find_elements(".js-plotly-plot") == []
    finally:
        holder.stop()
        state.set_market(previous)
        empty.close()


def test_healthz_reports_the_newest_snapshot_and_its_age(app: Dash, seeded: Store) -> None:
    slot, _ = newest(seeded)
    answer = app.server.test_client().get("/healthz")
    body = answer.get_json()
    # The seeded history ends at the current slot: fresh, and not degraded.
    assert answer.status_code == 200 and body["status"] == "ok"
    assert datetime.fromisoformat(body["newest_snapshot"]) == slot
    age = (datetime.now(UTC) - slot).total_seconds()
    assert abs(body["age_seconds"] - age) < 120


def test_frames_page_shows_frames_their_genres_and_disagreements(
    dash_duo: Any, app: Dash, seeded: Store, ferretdb: FerretDB
) -> None:
    import io

    from PIL import Image

    from store import FrameStore

    # Connect before the server starts: dash_duo's teardown raises SystemExit in every thread
    # started after it, pymongo's monitor threads included.
    frames = FrameStore(ferretdb.uri, "browser_market")
    frames.db.command("ping")
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/frames?window=24h", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(".notice-empty", "No frames in this window", timeout=TIMEOUT)

    slot, streams = newest(seeded)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (0, 120, 200)).save(buffer, format="JPEG")
    chosen = sorted(streams, key=lambda s: s["rank"])[:6]
    for stream in chosen:
        frame_id = frame_id_of(slot, stream["stream_id"], "thumbnail")
        frames.put_frame(
            frame_id,
            buffer.getvalue(),
            {
                "slot": slot,
                "stream_id": stream["stream_id"],
                "user_login": stream["user_login"],
                "user_name": stream["user_name"],
                "game_id": stream["game_id"],
                "game_name": stream["game_name"],
                "language": stream["language"],
                "viewer_count": stream["viewer_count"],
                "rank": stream["rank"],
            },
        )
        frames.write_labels(
            [
                {
                    "_id": f"{frame_id}@v1",
                    "frame_id": frame_id,
                    "model_version": "genre-v1",
                    "status": "ok",
                    "genre": "Puzzle",
                    "confidence": 0.9,
                    "labelled_at": slot,
                }
            ]
        )
    frames.write_stream_genres(
        [
            {
                "_id": f"{slot_key(slot)}/{s['stream_id']}",
                "slot": slot,
                "stream_id": s["stream_id"],
                "user_login": s["user_login"],
                "user_name": s["user_name"],
                "game_id": s["game_id"],
                "game_name": s["game_name"],
                "category_genre": "Non-game" if n < 2 else "Unknown",
                "genre": "Puzzle",
                "confidence": 0.9,
                "frames": 1,
                "model_version": "genre-v1",
                "disagrees": n < 2,
            }
            for n, s in enumerate(chosen)
        ]
    )
    # A category model recognised two of the streams; the first looks like another game. Its
    # frame labels are newer than the genre model's, and must not replace them in the gallery.
    recognised = chosen[2:4]
    for n, stream in enumerate(recognised):
        frame_id = frame_id_of(slot, stream["stream_id"], "thumbnail")
        frames.write_labels(
            [
                {
                    "_id": f"{frame_id}@game-v1",
                    "frame_id": frame_id,
                    "model_version": "game-v1",
                    "target": "game",
                    "status": "ok",
                    "game": "Tetris" if n == 0 else stream["game_name"],
                    "confidence": 0.8,
                    "labelled_at": slot + timedelta(minutes=5),
                }
            ]
        )
    frames.write_stream_categories(
        [
            {
                "_id": f"{slot_key(slot)}/{s['stream_id']}",
                "slot": slot,
                "stream_id": s["stream_id"],
                "user_login": s["user_login"],
                "user_name": s["user_name"],
                "game_id": s["game_id"],
                "game_name": s["game_name"],
                "looks_like": "Tetris" if n == 0 else s["game_name"],
                "confidence": 0.8123 if n == 0 else 0.7,
                "own_probability": 0.0432 if n == 0 else 0.7,
                "shows_other": n == 0,
                "frames": 4,
                "model_version": "game-v1",
                "labelled_at": slot + timedelta(minutes=5),
            }
            for n, s in enumerate(recognised)
        ]
    )
    frames.record_model(
        {
            "_id": "game-v1",
            "target": "game",
            "classes": ["Chess", "Just Chatting", "Tetris", "VALORANT", "Minecraft"],
            "validation": {"balanced_accuracy": 0.8, "macro_f1": 0.75, "games": 5},
            "min_balanced_accuracy": 0.5,
            "trusted": True,
        }
    )
    frames.record_model(
        {
            "_id": "genre-v1",
            "target": "genre",
            "classes": ["Non-game", "Puzzle", "Shooter", "Sport"],
            "validation": {
                "balanced_accuracy": 0.4213,
                "macro_f1": 0.3871,
                "games": 12,
                "frames": 720,
                "ece_before": 0.2514,
                "ece_after": 0.0461,
            },
            "backbone": "EfficientNet-Lite0 <b>ImageNet</b>, linear probe",
            "min_balanced_accuracy": 0.5,
            "trusted": False,
        }
    )
    try:
        dash_duo.wait_for_page(url=dash_duo.server_url + "/frames?window=24h", timeout=TIMEOUT)
        dash_duo.wait_for_element("#frame-gallery figure img", timeout=TIMEOUT)
        figures = dash_duo.find_elements("#frame-gallery figure")
        assert len(figures) == 6
        assert all("Puzzle (90%)" in f.text for f in figures)
        assert (
            figures[0]
            .find_element(By.TAG_NAME, "img")
            .get_attribute("src")
            .startswith("data:image/jpeg;base64,")
        )
        kpis = [e.text for e in dash_duo.find_elements(".kpi-value")]
        assert kpis == ["6", "6", "4", "2", "1"]
        dash_duo.wait_for_element("#frames-disagreements .ag-row", timeout=TIMEOUT)
        rows = dash_duo.find_elements("#frames-disagreements .ag-center-cols-container .ag-row")
        assert len(rows) == 2
        dash_duo.wait_for_element("#frames-other-game .ag-row", timeout=TIMEOUT)
        rows = dash_duo.find_elements("#frames-other-game .ag-center-cols-container .ag-row")
        assert len(rows) == 1
        other = rows[0].text
        assert recognised[0]["game_name"] in other and "Tetris" in other
        assert "4.3" in other and "81.2" in other
        category = dash_duo.find_element("#model-quality li.model-category").text
        assert "game-v1: recognises 5 categories" in category
        assert "on 5 categories' unseen channels balanced accuracy 80% (chance 20%)" in category
        assert "Its flags are shown" in category
        quality = dash_duo.find_element("#model-quality li.model-untrusted").text
        assert "validation balanced accuracy 42% over 12 unseen games" in quality
        assert "(chance 25%, 4 classes), macro-F1 0.39" in quality
        assert "calibration error 0.25 → 0.05" in quality
        assert "below the 50% needed" in quality
        assert "Network: EfficientNet-Lite0 <b>ImageNet</b>, linear probe." in quality  # as text
        assert "Network:" not in category  # recorded without a backbone
        assert console_errors(dash_duo) == []
        # The same streams from a category model below the bar: no figure, no flag.
        frames.db[schema.CLASSIFIER_MODELS].update_one(
            {"_id": "game-v1"}, {"$set": {"trusted": False}}
        )
        frames.db[schema.STREAM_CATEGORIES].update_many({}, {"$set": {"shows_other": False}})
        dash_duo.wait_for_page(url=dash_duo.server_url + "/frames?window=24h", timeout=TIMEOUT)
        dash_duo.wait_for_element("#frame-gallery figure img", timeout=TIMEOUT)
        kpis = [e.text for e in dash_duo.find_elements(".kpi-value")]
        assert kpis == ["6", "6", "4", "2", "–"]
        body = dash_duo.find_element("body").text
        assert "the category model is below the bar: it flags nothing" in body
        assert "does not yet reach the validation bar" in body
        category = dash_duo.find_element("#model-quality li.model-category").text
        assert "Below the 50% needed, so it flags no stream" in category
    finally:
        for name in (
            schema.CLASSIFIER_MODELS,
            schema.FRAME_FILES,
            f"{schema.FRAMES_BUCKET}.chunks",
            schema.FRAME_LABELS,
            schema.STREAM_GENRES,
            schema.STREAM_CATEGORIES,
        ):
            frames.db[name].delete_many({})
        frames.close()


def test_custom_dates_are_picked_with_the_mouse(dash_duo: Any, app: Dash, seeded: Store) -> None:
    slot, _ = newest(seeded)
    dash_duo.start_server(app)
    dash_duo.wait_for_element(".kpi-value", timeout=TIMEOUT)
    before = dash_duo.find_elements(".kpi-value")[2].text  # hours watched, last 7 days
    choose(dash_duo, "#f-window", "Custom dates")
    until(lambda: dash_duo.find_element("#f-range").is_enabled(), timeout=TIMEOUT)
    dash_duo.find_element("#f-range").click()  # the start date's input opens the calendar
    for _ in range(2):  # the newest snapshot's day as start, then as end
        day = next(
            cell
            for cell in dash_duo.driver.find_elements(
                By.CSS_SELECTOR, ".dash-datepicker-content td.dash-datepicker-calendar-date-inside"
            )
            if cell.text == str(slot.day)
        )
        day.click()
    picked = f"{slot:%Y-%m-%d}"
    until(lambda: f"start={picked}&end={picked}" in dash_duo.driver.current_url, timeout=TIMEOUT)
    until(lambda: text_of(dash_duo, ".kpi-value", 2) not in ("", before), timeout=TIMEOUT)
    assert f"{picked} to {picked}" in dash_duo.find_elements(".kpi-note")[2].text
    assert console_errors(dash_duo) == []


# The real recordings, replayed (a test-sized slice of each) through emulator → collector →
# FerretDB, then every page built over each one's whole history.
RECORDINGS = {"zfreedman": None, "michaelnich": 60}  # snapshots kept (None: all 8)


def replayed(ferretdb: FerretDB, work: Path, kind: str, keep: int | None) -> MarketData:
    full = work / f"{kind}.jsonl"
    convert(kind, SHARED / "data" / "recorded", full)
    lines = full.read_text(encoding="utf-8").splitlines()
    times = sorted({json.loads(line)["observed_at"] for line in lines})[:keep]
    sliced = work / f"{kind}-slice.jsonl"
    sliced.write_text(
        "\n".join(line for line in lines if json.loads(line)["observed_at"] in set(times)),
        encoding="utf-8",
    )
    settings = EmulatorSettings(_env_file=None, port=0, replay_file=sliced, **QUIET)  # type: ignore[call-arg]
    server = EmulatorServer(settings)
    server.start()
    try:
        job = build_collector(
            collector_settings(server.url, ferretdb.uri, f"rec_{kind}", work / "spool")
        )
        summaries = replay_recording(job, server.url)
        job.close()
    finally:
        server.stop()
    assert len(summaries) == len(times) and all(s.outcome == "stored" for s in summaries)
    data = MarketData(StoreReader(ferretdb.uri, f"rec_{kind}"), refresh_seconds=0)
    data.refresh()
    return data


@pytest.fixture(scope="module")
def recordings(
    app: Dash, ferretdb: FerretDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, MarketData]]:
    work = tmp_path_factory.mktemp("recordings")
    markets = {kind: replayed(ferretdb, work, kind, keep) for kind, keep in RECORDINGS.items()}
    yield markets
    for kind, data in markets.items():
        data.reader.close()
        store = Store(ferretdb.uri, f"rec_{kind}")
        store.db.client.drop_database(f"rec_{kind}")
        store.close()


def component(tree: Any, wanted: str) -> Any:
    """The component with id `wanted` in a layout tree, or None."""
    if getattr(tree, "id", None) == wanted:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = component(child, wanted)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize("kind", list(RECORDINGS))
def test_every_page_answers_over_a_whole_recording(
    app: Dash, recordings: dict[str, MarketData], kind: str
) -> None:
    holder = recordings[kind]
    data = holder.view()
    pages = {
        name: sys.modules[f"pages.{name}"]
        for name in ("what", "overview", "games", "languages", "when", "streamer")
    }
    first, last = data.oldest_slot(), data.newest_slot()
    assert first is not None and last is not None
    query = {"window": "custom", "start": f"{first:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}"}
    original = market()
    set_market(holder)
    try:
        answers = {name: module.layout(**query) for name, module in pages.items()}
        preset = pages["overview"].layout()  # the default window of a recording years old
    finally:
        set_market(original)
    text = {name: json.dumps(layout, cls=PlotlyJSONEncoder) for name, layout in answers.items()}
    for name, answer in text.items():
        assert "notice-error" not in answer and len(answer) < 3_000_000, (kind, name)
    area = component(answers["overview"], "overview-area").figure
    assert not area.layout.shapes and not area.layout.annotations  # one trace shades gaps
    shaded = [t for t in area.data if t.name == "no data"]
    # Shorter than 7 days: all of it, said as such; else 7 days to its end (not to "now").
    ending = (
        f"stored, to {last + timedelta(minutes=30):%Y-%m-%d %H:%M} UTC"
        if Filters().resolved(last, first).window == "all"
        else f"7 days ending {last:%Y-%m-%d %H:%M} UTC"
    )
    assert ending in json.dumps(preset, cls=PlotlyJSONEncoder)
    if kind == "michaelnich":
        # Snapshots every ~16 minutes: shaded only where the recording really stops for
        # longer than the cadence's max_gap (it pauses overnight), and before its first
        # snapshot (the window is whole days). Computed here from the snapshot times themselves.
        times = [t.tz_localize(None) for t in data.slots]
        wanted = [(pd.Timestamp(f"{first:%Y-%m-%d}"), times[0])] + [
            (a, b) for a, b in itertools.pairwise(times) if b - a > DEFAULT_CADENCE.max_gap
        ]
        stretches = [tuple(shaded[0].x[i : i + 4 : 2]) for i in range(0, len(shaded[0].x), 6)]
        assert stretches == wanted and len(times) == 60
        assert sum(b - a <= pd.Timedelta(minutes=20) for a, b in itertools.pairwise(times)) > 50
        for name in set(pages) - {"what"}:
            assert "record whole categories" in text[name], name
        # Category totals have no channel's viewers: no directory to place anyone in.
        assert "No directory counts cover these hours" in text["what"]
        assert "Channels live now" not in text["overview"]
        assert "No heat map" in text["when"] and "No channel lookup" in text["streamer"]
        names = [row["game"] for row in component(answers["games"], "games-table").rowData]
        assert names.count("Just Chatting") == 1 and "Só na conversa" not in names
    else:
        # Eight crawls over 16 days: real gaps, shaded by one trace; channels are real.
        assert len(shaded) == 1
        assert (
            "Channels live now" in text["overview"]
            and "record whole categories" not in text["overview"]
        )
        # Every crawled category is placed, each at least 1st, from the real listings.
        rows = component(answers["what"], "what-table").rowData
        assert len(rows) >= 5 and all(r["position"] >= 1 for r in rows)
        assert [r["lift"] for r in rows] == sorted((r["lift"] for r in rows), reverse=True)


def kpi_values(tree: Any) -> dict[str, str]:
    """Label → value of every KPI tile in a layout tree."""
    found: dict[str, str] = {}
    if getattr(tree, "className", None) == "kpi":
        label, value, _ = tree.children
        found[label.children] = value.children
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found.update(kpi_values(child))
    return found


@pytest.mark.parametrize("kind", list(RECORDINGS))
def test_every_games_page_of_a_recording_answers_with_its_own_peak(
    app: Dash, recordings: dict[str, MarketData], kind: str, tmp_path: Path
) -> None:
    """Games come and go between a recording's snapshots: each game's page answers, and
    its peak viewers equal the largest per-snapshot sum computed straight from the file."""
    convert(kind, SHARED / "data" / "recorded", tmp_path / "recording.jsonl")
    lines = (tmp_path / "recording.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    kept = set(sorted({r["observed_at"] for r in rows})[: RECORDINGS[kind]])
    per_snapshot: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        if row["observed_at"] in kept:
            streams = per_snapshot.setdefault((row["game_id"], row["observed_at"]), {})
            streams.setdefault(row["id"], row["viewer_count"])
    peak: dict[str, int] = {}
    for (game, _), streams in per_snapshot.items():
        peak[game] = max(peak.get(game, 0), sum(streams.values()))
    sometimes = {g for g in peak if sum(k[0] == g for k in per_snapshot) < len(kept)}
    assert sometimes  # the recording does have games missing from some snapshots

    holder = recordings[kind]
    first, last = holder.view().oldest_slot(), holder.view().newest_slot()
    assert first is not None and last is not None
    query = {"window": "custom", "start": f"{first:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}"}
    original = market()
    set_market(holder)
    try:
        for game, expected in sorted(peak.items()):
            answer = sys.modules["pages.games"].layout(game=game, **query)
            text = json.dumps(answer, cls=PlotlyJSONEncoder)
            assert "notice-error" not in text and "game-detail" in text, (kind, game)
            assert kpi_values(answer)["Peak viewers"] == f"{expected:,.0f}", (kind, game)
    finally:
        set_market(original)


CHAT_SHARD = "0of1"


@pytest.fixture(scope="session")
def chat_seeded(seeded: Store) -> dict[str, Any]:
    """Per-minute chat counts of the newest two published slots' channels, as a reader
    writes them, and the chat rollups built from them. Returns the raw entries."""
    import random

    from store import ChatStore, minutes_between

    chat = ChatStore(seeded.db)
    newest_slot, _ = newest(seeded)
    slots = [newest_slot - timedelta(minutes=30), newest_slot]
    rng = random.Random(11)
    written: dict[str, Any] = {"entries": [], "slots": slots}
    names = {"25": "Kappa", "305954156": "PogChamp"}
    for slot in slots:
        rollup = seeded.db[schema.ROLLUPS].find_one({"_id": f"{slot_key(slot)}/channel"})
        assert rollup is not None
        logins = [g["key"] for g in rollup["groups"]]
        for minute in minutes_between(slot, slot + timedelta(minutes=30)):
            entries = []
            for login in logins:
                messages = rng.randint(0, 12)
                paid_id = f"emotesv2_{login[:4]}"
                names[paid_id] = f"{login[:4]}Hype"
                topic = rng.randint(0, messages)
                entries.append(
                    {
                        "channel": login,
                        "room_id": "",
                        "messages": messages,
                        "chatters": rng.randint(0, messages),
                        "subscriber_messages": 0,
                        "emote_only_messages": 0,
                        "free_emote_uses": messages,
                        "paid_emote_uses": messages // 2,
                        "free_emotes": {"25": messages} if messages else {},
                        "paid_emotes": {paid_id: messages // 2} if messages // 2 else {},
                        "topics": {"worldcup": {"messages": topic, "emotes": {"25": topic}}}
                        if topic
                        else {},
                    }
                )
            chat.write_minute(minute, CHAT_SHARD, "seed", entries, names)
            written["entries"].extend((slot, e) for e in entries)
        chat.build_rollups(slot, slot + timedelta(minutes=30), [CHAT_SHARD])
    return written


def _chat_truth(seeded: Store, chat_seeded: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Messages and viewer-minutes per game, from the raw entries and the stored streams."""
    truth: dict[str, dict[str, float]] = {}
    streams = {
        (s["slot"], s["user_login"]): s
        for slot in chat_seeded["slots"]
        for s in seeded.db[schema.STREAMS].find({"slot": slot})
    }
    names = {g["_id"]: g["name"] for g in seeded.db[schema.GAMES].find({}, {"name": 1})}
    for slot, entry in chat_seeded["entries"]:
        stream = streams[(slot, entry["channel"])]
        game = truth.setdefault(names[stream["game_id"]], {"messages": 0, "viewer_minutes": 0})
        game["messages"] += entry["messages"]
        game["viewer_minutes"] += stream["viewer_count"]  # one minute read
    return truth


def test_chat_page_figures_equal_the_counted_chat(
    dash_duo: Any, app: Dash, seeded: Store, chat_seeded: dict[str, Any]
) -> None:
    truth = _chat_truth(seeded, chat_seeded)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/chat", timeout=TIMEOUT)
    dash_duo.wait_for_element("#chat-engagement .js-plotly-plot", timeout=TIMEOUT)
    kpis = dict(
        zip(
            [e.text for e in dash_duo.find_elements(".kpi-label")],
            [e.text for e in dash_duo.find_elements(".kpi-value")],
            strict=True,
        )
    )
    messages = sum(e["messages"] for _, e in chat_seeded["entries"])
    viewer_minutes = sum(t["viewer_minutes"] for t in truth.values())
    assert kpis["Messages"] == f"{messages:,}"
    assert kpis["Messages per 1,000 viewer-minutes"] == f"{1000 * messages / viewer_minutes:,.1f}"
    free = sum(e["free_emote_uses"] for _, e in chat_seeded["entries"])
    paid = sum(e["paid_emote_uses"] for _, e in chat_seeded["entries"])
    assert kpis["Paid emote share"] == f"{paid / (free + paid):.1%}"
    bars = dash_duo.driver.execute_script(
        "const g = document.querySelector('#chat-engagement .js-plotly-plot'); "
        "return {labels: g._fullData[0].y, values: g._fullData[0].x};"
    )
    assert bars["labels"]
    for label, value in zip(bars["labels"], bars["values"], strict=True):
        game = truth[html.unescape(label)]
        assert value == pytest.approx(1000 * game["messages"] / game["viewer_minutes"], abs=0.05)
    emotes = dash_duo.wait_for_element("#chat-emotes .ag-row", timeout=TIMEOUT)
    assert "Kappa" in emotes.text and "free" in emotes.text
    dash_duo.wait_for_element("#chat-topic-series .js-plotly-plot", timeout=TIMEOUT)
    topic = dash_duo.driver.execute_script(
        "const g = document.querySelector('#chat-topic-series .js-plotly-plot'); "
        "return g._fullData[0].y;"
    )
    expected = [
        sum(
            e["topics"].get("worldcup", {"messages": 0})["messages"]
            for s, e in chat_seeded["entries"]
            if s == slot
        )
        for slot in chat_seeded["slots"]
    ]
    assert topic == expected
    assert console_errors(dash_duo) == []


def test_the_live_chat_section_shows_the_last_minutes_stored(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    """Minute documents written now reach the live chart and tables (names with markup
    shown as text), equal to sums over every stored minute of the hour; minutes without
    any are gaps, not zeros."""
    from store import ChatStore, chat_minute_id
    from store.schema import CHAT_LIVE, CHAT_MINUTES

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    minutes = [now - timedelta(minutes=1), now]
    entries = {
        minutes[0]: [("<b>bold</b>", 7, {"f1": 5000}, {"p1": 2000}), ("quiet", 1, {}, {})],
        minutes[1]: [("<b>bold</b>", 4, {"f1": 1000}, {"p1": 6000}), ("other", 9, {"f2": 3}, {})],
    }
    chat = ChatStore(seeded.db)
    # Other tests' chat may be stored for these minutes: ours is added to it, and the
    # documents are put back as they were afterwards.
    before = {minute: chat.read_minute(minute, "0of1") for minute in minutes}
    for minute, rows in entries.items():
        earlier = before[minute]
        chat.write_minute(
            minute,
            "0of1",
            "browser-test",
            [
                *(earlier["channels"] if earlier else []),
                *(
                    {
                        "channel": login,
                        "room_id": "1",
                        "messages": messages,
                        "chatters": 1,
                        "subscriber_messages": 0,
                        "emote_only_messages": 0,
                        "free_emote_uses": sum(free.values()),
                        "paid_emote_uses": sum(paid.values()),
                        "free_emotes": free,
                        "paid_emotes": paid,
                        "topics": {},
                    }
                    for login, messages, free, paid in rows
                ),
            ],
            {**(earlier["emote_names"] if earlier else {}), "f1": "Kappa", "p1": "<i>hype</i>"},
        )
    # A worker that has not read the hour yet: the session's worker may have found a
    # minute another test's fixture wrote since missing, and asks for it a minute later.
    from dashboard.chat_live import ChatLive
    from dashboard.state import chat_live, set_chat_live

    set_chat_live(ChatLive(chat_live().reader, chat_live().shards))
    try:
        dash_duo.start_server(app)
        dash_duo.wait_for_page(url=dash_duo.server_url + "/chat?tz=UTC", timeout=TIMEOUT)
        dash_duo.wait_for_element("#chat-live-minutes .js-plotly-plot", timeout=TIMEOUT)
        script = (
            "const g = document.querySelector('#chat-live-minutes .js-plotly-plot');"
            " return [g.data[0].x, g.data[0].y, g.data[1].y];"
        )
        # A worker reads the store again when its last read is 5 s old; the section asks
        # every 10 s.
        mine = f"{now:%Y-%m-%dT%H:%M}"

        def paid_now() -> float:
            x, _, paid = dash_duo.driver.execute_script(script)
            return max([p or 0 for at, p in zip(x, paid, strict=True) if at[:16] == mine] or [0])

        until(lambda: paid_now() >= 6000, timeout=TIMEOUT)
        x, free, paid = dash_duo.driver.execute_script(script)
        assert len(x) == 60  # the hour, minute by minute
        stored: dict[str, list[int]] = {}
        for document in seeded.db[CHAT_MINUTES].find():
            sums = stored.setdefault(f"{document['minute']:%Y-%m-%dT%H:%M}", [0, 0])
            sums[0] += sum(e["free_emote_uses"] for e in document["channels"])
            sums[1] += sum(e["paid_emote_uses"] for e in document["channels"])
        for at, shown_free, shown_paid in zip(x, free, paid, strict=True):
            expected = stored.get(at[:16])
            assert (None if expected is None else expected) == (
                None if shown_free is None else [shown_free, shown_paid]
            ), at
        assert stored[f"{now:%Y-%m-%dT%H:%M}"] >= [1000, 6000]
        dash_duo.wait_for_element("#chat-live-channels .ag-row", timeout=TIMEOUT)
        top = grid_rows(dash_duo, "chat-live-channels")
        assert (top[0]["channel"], top[0]["uses"]) == ("<b>bold</b>", 14_000)
        emotes = grid_rows(dash_duo, "chat-live-emotes")
        assert {(r["name"], r["kind"], r["uses"]) for r in emotes} == {
            ("Kappa", "free", 6000),
            ("<i>hype</i>", "paid", 8000),
        }
        assert console_errors(dash_duo) == []
    finally:
        for minute, earlier in before.items():
            if earlier is None:
                for collection in (CHAT_MINUTES, CHAT_LIVE):
                    seeded.db[collection].delete_one({"_id": chat_minute_id(minute, "0of1")})
            else:
                chat.write_minute(
                    minute, "0of1", earlier["run"], earlier["channels"], earlier["emote_names"]
                )


def test_chat_comparison_and_subject_live_in_the_url(
    dash_duo: Any, app: Dash, chat_seeded: dict[str, Any]
) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/chat?window=24h", timeout=TIMEOUT)
    dash_duo.wait_for_element("#chat-by", timeout=TIMEOUT)
    next(e for e in dash_duo.find_elements("#chat-by label") if e.text == "Channel").click()
    until(lambda: "by=channel" in dash_duo.driver.current_url, timeout=TIMEOUT)
    assert "window=24h" in dash_duo.driver.current_url  # the filters stay
    dash_duo.wait_for_text_to_equal(
        "#chat-table [col-id='label'].ag-header-cell", "Channel", timeout=TIMEOUT
    )
    login = chat_seeded["entries"][0][1]["channel"]
    dash_duo.wait_for_page(
        url=dash_duo.server_url + f"/chat?window=24h&by=channel&subject={login}", timeout=TIMEOUT
    )
    dash_duo.wait_for_contains_text("#page-content h2, .card h2", "", timeout=TIMEOUT)
    until(lambda: f"Top emotes of {login}" in dash_duo.driver.page_source, timeout=TIMEOUT)
    assert f"{login[:4]}Hype" in dash_duo.find_element("#chat-emotes").text
    # Choosing a window without chat says so.
    first_day = chat_seeded["slots"][0] - timedelta(days=1)
    day = f"{first_day:%Y-%m-%d}"
    dash_duo.wait_for_page(
        url=dash_duo.server_url + f"/chat?window=custom&start={day}&end={day}", timeout=TIMEOUT
    )
    dash_duo.wait_for_contains_text(".notice-empty", "No chat was read", timeout=TIMEOUT)
    assert console_errors(dash_duo) == []


def test_planted_highlights_reach_the_streamer_and_games_pages(
    dash_duo: Any, app: Dash, seeded: Store, make_emulator: Any, highlight_model: Path
) -> None:
    """Emulator clips with planted moments → detect → stored moments → the pages."""
    from highlights.detect import ChannelGame, Detector
    from highlights.model import HighlightModel
    from store import HighlightStore, read_channel_clips
    from tests.test_highlights_integration import planted_start

    probe = make_emulator(moments="demo")
    market = probe.state.source
    live = market.live_arrays(market.now())
    order = np.argsort(-live.viewers, kind="stable")
    logins = [market.login_of(int(live.channel[i])) for i in order[:2]]
    # The emulator's clock set so that the first channel's clip holds a planted highlight
    # (20 s before its end), whenever this test runs.
    target = planted_start(logins[0])
    emulator = make_emulator(moments="demo", clock_offset_seconds=target + 30 - time.time())
    # The clips are stamped inside the seeded history (its newest slot plus 10 minutes):
    # the pages show highlights of their window, which ends one slot after the newest
    # snapshot, however long after the session's seeding this test runs.
    slot, _ = newest(seeded)
    stamped_at = slot.replace(tzinfo=UTC) + timedelta(minutes=10)
    detector = Detector(
        HighlightModel.load(highlight_model),
        HighlightStore(seeded.db),
        "hls://" + emulator.url + "/hls/{login}/index.m3u8?seconds={seconds}",
        60,
        ["0of1"],
        clock=stamped_at.timestamp,
    )
    games = [ChannelGame("h1", "Highlight Game One", "Shooter"), ChannelGame("h2", "Two", "RPG")]
    for login, game in zip(logins, games, strict=True):
        assert detector.detect(login, game).status == "stored"
    login = logins[0]
    (clip,) = read_channel_clips(seeded.db, login, [stamped_at])
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/streamer?channel={login}&tz=UTC")
    dash_duo.wait_for_element("#highlights-timeline .js-plotly-plot", timeout=TIMEOUT)
    points = dash_duo.driver.execute_script(
        "const g = document.querySelector('#highlights-timeline .js-plotly-plot');"
        " return [g.data[0].x, g.data[0].y];"
    )
    assert points[1] == clip["probabilities"]
    expected_x = [
        (clip["start"] + timedelta(seconds=10 * i)).strftime("%Y-%m-%dT%H:%M:%S")
        for i in range(len(clip["probabilities"]))
    ]
    assert [x[:19] for x in points[0]] == expected_x
    dash_duo.wait_for_element("#highlights-moments", timeout=TIMEOUT)
    until(
        lambda: len(grid_rows(dash_duo, "highlights-moments")) == len(clip["moments"]),
        timeout=TIMEOUT,
    )
    shown = grid_rows(dash_duo, "highlights-moments")
    assert sorted(r["probability"] for r in shown) == sorted(
        m["probability"] for m in clip["moments"]
    )
    _assert_moment_video_plays(dash_duo, app, seeded, clip["moments"])
    # Games: moments per stream-hour, against the stored index computed here.
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/games?window=all&tz=UTC")
    dash_duo.wait_for_element("#games-highlights .ag-row", timeout=TIMEOUT)
    index = [e for d in seeded.db[HIGHLIGHT_GAMES].find() for e in d["clips"].values()]
    expected = {}
    for game in ("h1", "h2"):
        mine = [e for e in index if e["game_id"] == game]
        hours = sum(e["seconds"] for e in mine) / 3600
        expected[game] = round(sum(e["moments"] for e in mine) / hours, 2)
    rows = {r["game_id"]: r for r in grid_rows(dash_duo, "games-highlights")}
    assert {g: rows[g]["per_hour"] for g in expected} == expected
    assert rows["h1"]["game_name"] == "Highlight Game One" and rows["h1"]["channels"] == 1
    assert console_errors(dash_duo) == []


def _assert_moment_video_plays(dash_duo: Any, app: Dash, seeded: Store, moments: Any) -> None:
    """The newest moment's video: a <video> whose duration is the stored clip's, served
    with range requests (what a browser asks for to start and to seek)."""
    from store import read_moment_clip

    newest = max(moments, key=lambda m: m["time"])
    found = read_moment_clip(seeded.db, newest["clip_id"])
    assert found is not None
    document, data = found
    selector = f"#moment-video-{newest['clip_id']}"
    dash_duo.wait_for_element(selector, timeout=TIMEOUT)
    script = f"const v = document.querySelector('{selector}'); return [v.readyState, v.duration];"
    until(lambda: dash_duo.driver.execute_script(script)[0] >= 1, timeout=TIMEOUT)
    duration = dash_duo.driver.execute_script(script)[1]
    assert abs(duration - document["metadata"]["seconds"]) < 0.15
    client = app.server.test_client()
    url = f"/clips/{newest['clip_id']}.mp4"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.data == data and whole.mimetype == "video/mp4"
    part = client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.data == data[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert client.get("/clips/nobody-1.mp4").status_code == 404
    assert client.get("/clips/Not_A-Clip.mp4").status_code == 404
    assert client.get("/clips/..%2F..%2Fsecrets.mp4").mimetype != "video/mp4"


BAD_VALUES = [12345, ["a", "b"], {"nested": 1}, "\ud800", None]


def test_callbacks_treat_values_of_the_wrong_type_as_bad_input(app: Dash) -> None:
    """Anyone can POST to Dash's update endpoint: a number, a list, a dict or a lone
    surrogate where text belongs is ignored (204) or answered, never a 500."""
    client = app.server.test_client()
    client.get("/")  # Dash registers its callbacks on the first request
    assert app.callback_map
    answers = []
    for output, spec in app.callback_map.items():
        if "callback" not in spec:
            continue  # runs in the browser
        outputs = [
            {"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
            for o in output.strip(".").split("...")
        ]
        for bad in BAD_VALUES:
            body = {
                "output": output,
                "outputs": outputs if output.startswith("..") else outputs[0],
                "inputs": [{**i, "value": bad} for i in spec["inputs"]],
                "state": [{**s, "value": bad} for s in spec["state"]],
                "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]],
            }
            status = client.post(
                "/_dash-update-component",
                data=json.dumps(body),
                content_type="application/json",
            ).status_code
            answers.append((output, repr(bad), status))
    assert [a for a in answers if a[2] >= 500] == []
    assert {a[2] for a in answers} <= {200, 204}


def api_client(holder: MarketData) -> Any:
    from flask import Flask

    from dashboard import api

    server = Flask(__name__)
    api.register(server, holder, "1000/minute")
    return server.test_client()


def test_the_api_names_unknown_filters_and_lists_every_parameter(app: Dash) -> None:
    client = app.server.test_client()
    assert market().wait_loaded(TIMEOUT * 4)
    answer = client.get("/api/v1/games?language=xx&genre=Nope").get_json()
    assert answer.get("rows") == [], answer
    assert answer["problems"] == [
        "unknown language 'xx': no stored data has it",
        "unknown genre 'Nope': no stored data has it",
    ]
    known = client.get("/api/v1/games?language=en").get_json()
    assert known["problems"] == [] and known["rows"]
    assert "tz" in client.get("/api/v1/").get_json()["parameters"]


def test_the_api_hides_per_channel_figures_of_category_totals_as_the_pages_do(
    recordings: dict[str, MarketData],
) -> None:
    client = api_client(recordings["michaelnich"])
    overview = client.get("/api/v1/overview?window=all").get_json()
    assert overview["level"] == "category" and overview["viewers_now"] > 0
    assert overview["channels_now"] is None and overview["viewers_per_channel"] is None
    games = client.get("/api/v1/games?window=all").get_json()["rows"]
    assert games and all(r["viewers_per_channel"] is None for r in games)
    assert all(r["avg_channels"] is None and r["hours_watched"] > 0 for r in games)
    assert client.get("/api/v1/channels?window=all").get_json()["rows"] == []
    streams = api_client(recordings["zfreedman"]).get("/api/v1/overview?window=all").get_json()
    assert "level" not in streams and streams["channels_now"] > 0


def test_empty_states_speak_to_the_user_not_to_the_operator(app: Dash, seeded: Store) -> None:
    """What a page says when it has nothing to show names no setting and no command."""
    import re

    assert market().wait_loaded(TIMEOUT * 4)
    from store import read_channel_clips

    slot, streams = newest(seeded)
    # A top channel without highlight clips (another test may have planted some, stamped
    # inside the seeded history, for the channels live at the top when it ran).
    top = next(
        s["user_login"]
        for s in sorted(streams, key=lambda s: s["rank"])
        if not read_channel_clips(seeded.db, s["user_login"], [slot, datetime.now(UTC)])
    )
    long_ago = "window=custom&start=2001-01-01&end=2001-01-02"
    asks = {
        "streamer": {"channel": top, "window": "24h"},
        "chat": dict(parse_qsl(long_ago)),
        "frames": dict(parse_qsl(long_ago)),
        "games": {"window": "24h"},
    }
    operator = re.compile(r"\b[A-Z]{3,}_[A-Z_]{2,}\b|python -m|scripts/")
    notices = 0
    for name, query in asks.items():
        text = json.dumps(sys.modules[f"pages.{name}"].layout(**query), cls=PlotlyJSONEncoder)
        notices += text.count("notice-empty")
        assert not operator.findall(text), (name, operator.findall(text))
    assert notices >= 3  # the streamer's highlights, the chat and the frames say "none"


def test_a_game_page_lists_its_tags_crowded_first_as_the_raw_listing_has_them(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    _, slots = stored_streams(seeded)
    newest_slot = max(slots)
    listing = listed_streams([newest_slot])[newest_slot]
    game_id = listing["game_id"].value_counts().index[0]  # the game with most live channels
    mine = listing[listing["game_id"] == game_id]
    counted: Counter[str] = Counter()
    viewers: Counter[str] = Counter()
    for tags, count in zip(mine["tags"], mine["viewer_count"], strict=True):
        for folded in {t.casefold() for t in tags}:
            counted[folded] += 1
            viewers[folded] += count
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/games?game={game_id}", timeout=TIMEOUT)
    dash_duo.wait_for_element("#game-tags .ag-row", timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "game-tags")
    assert {r["tag"].casefold(): r["channels"] for r in rows} == dict(counted)
    assert {r["tag"].casefold(): r["viewers"] for r in rows} == dict(viewers)
    assert [r["channels"] for r in rows] == sorted(counted.values(), reverse=True)
    top = rows[0]
    assert top["channel_share"] == pytest.approx(top["channels"] / len(mine))
    assert console_errors(dash_duo) == []


def test_channels_like_me_and_new_channel_cohorts_from_six_weeks_of_days(
    dash_duo: Any, app: Dash, seeded: Store
) -> None:
    from test_channel_weeks import DAYS, FIRST, raw_days, store_days

    from store import channels_like, read_cohorts, update_weeks

    store_days(seeded, raw_days(seed=9))
    update_weeks(seeded.db, [FIRST + timedelta(days=d) for d in range(DAYS)])
    base, like = channels_like(seeded.db, "g2", "en", 4.0)  # checked against raw days elsewhere
    (cohort,) = [
        g
        for g in read_cohorts(seeded.db, [FIRST + timedelta(days=7)])[0]["groups"]
        if (g["game_id"], g["language"]) == ("g2", "en")
    ]
    assert base is not None
    peer = like.iloc[0]  # followers read on two days of its first week after the base week
    for day, total in ((base + timedelta(days=7), 100), (base + timedelta(days=8), 130)):
        seeded.write_followers(day, [FollowerReading(peer["user_id"], peer["login"], total)])
    dash_duo.start_server(app)
    dash_duo.wait_for_page(
        url=f"{dash_duo.server_url}/like?game=g2&language=en&viewers=4", timeout=TIMEOUT
    )
    dash_duo.wait_for_element("#like-table .ag-row", timeout=TIMEOUT)
    rows = grid_rows(dash_duo, "like-table")
    assert [r["login"] for r in rows] == like["login"].tolist()
    assert [r["avg_viewers"] for r in rows] == pytest.approx(like["avg_viewers"].tolist())
    assert (rows[0]["followers_1"], rows[0]["followers_2"]) == (30, None)
    assert all(r["followers_1"] is None for r in rows[1:])
    weeks = grid_rows(dash_duo, "like-cohorts")
    first = next(w for w in weeks if w["week"] == f"{FIRST + timedelta(days=7):%Y-%m-%d}")
    assert first["new"] == cohort["new"]
    assert first["active_1"] == pytest.approx(cohort["active"][0] / cohort["new"])
    assert first["five_4"] == pytest.approx(cohort["five_plus"][3] / cohort["new"])
    assert f"{base:%Y-%m-%d}" in text_of(dash_duo, "#like-summary")
    # A bad audience is explained, not a 500.
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/like?game=g2&viewers=-3", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#_pages_content", "a number from 0", timeout=TIMEOUT)
    assert console_errors(dash_duo) == []
