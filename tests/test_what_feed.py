"""What to stream over FerretDB: the JSON API ranks games as a count over the listed
channels does, names bad inputs without failing, and the Atom feed has an entry for the
first top and for each day the top changed, and nothing else."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from conftest import FerretDB
from dashboard import api, feeds
from dashboard.advice import PRIOR_CHANNEL_SLOTS
from dashboard.loader import MarketData
from store import ChannelListing, SnapshotBatch, Store, StoreReader, compute_rollups, schema

pytestmark = pytest.mark.integration
DAY = datetime(2026, 11, 16, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
GAMES = ("a", "b", "c", "d")


def streams(slot: datetime, small_viewers: dict[str, int]) -> list[dict[str, Any]]:
    """Per game: one big channel (500 viewers) and 30 small ones with the given viewers."""
    rows = []
    for game, viewers in small_viewers.items():
        for i in range(31):
            rows.append(
                {
                    "stream_id": f"{game}-{i}",
                    "user_id": f"{game}{i}",
                    "user_login": f"{game}_{i}",
                    "user_name": f"{game} {i}",
                    "game_id": game,
                    "game_name": f"<i>{game.upper()}</i>",
                    "language": "en",
                    "viewer_count": 500 if i == 0 else viewers,
                    "started_at": slot - timedelta(hours=1),
                    "tags": [],
                }
            )
    return rows


def write_slot(store: Store, slot: datetime, rows: list[dict[str, Any]]) -> None:
    docs = [{**s, "_id": f"{slot:%H%M%d}/{s['stream_id']}", "slot": slot, "rank": i}
            for i, s in enumerate(sorted(rows, key=lambda r: -r["viewer_count"]), 1)]  # fmt: skip
    store.write_snapshot(
        SnapshotBatch(
            slot=slot,
            snapshot={"_id": schema.snapshot_id(slot), "slot": slot, "status": "complete"},
            streams=docs[:20],
            rollups=compute_rollups(slot, docs, lambda g: "Shooter", channel_limit=20,
                                    scope="market"),
            channels=ChannelListing.from_streams(slot, docs),  # type: ignore[arg-type]
        )
    )  # fmt: skip


@pytest.fixture
def client(ferretdb: FerretDB, store: Store, database_name: str) -> Any:
    # Days 0-1: the small channels of "a" draw most; days 2-3 those of "d".
    early = {"a": 4, "b": 3, "c": 2, "d": 1}
    late = {"a": 1, "b": 2, "c": 3, "d": 5}
    for day in range(4):
        for minutes in (0, 30, 60, 90):
            slot = DAY + timedelta(days=day, hours=18, minutes=minutes)
            write_slot(store, slot, streams(slot, early if day < 2 else late))
    holder = MarketData(StoreReader(ferretdb.uri, database_name), refresh_seconds=0)
    holder.refresh()
    server = Flask(__name__)
    api.register(server, holder, "1000/minute")
    feeds.register(server, holder)
    server.config["holder"] = holder
    server.config["store"] = store
    yield server.test_client()
    holder.reader.close()


def test_the_api_ranks_by_lift_as_counted_and_names_bad_inputs(client: Any) -> None:
    answer = client.get("/api/v1/what-to-stream?viewers=3&from=0&to=0&tz=UTC").get_json()
    rows = {r["id"]: r for r in answer["rows"]}
    # Channels with at most 6 viewers: the 30 small ones per game and slot, 16 slots.
    held = {"a": 8 * 4 + 8 * 1, "b": 8 * 3 + 8 * 2, "c": 8 * 2 + 8 * 3, "d": 8 * 1 + 8 * 5}
    # By lift ("d" draws most over the 4 days), then by position (a, b, c tie on lift).
    assert [r["id"] for r in answer["rows"]] == ["d", "b", "c", "a"]
    market = sum(held.values()) / (4 * 16)
    for game, per_channel_slots in held.items():
        reach = per_channel_slots / 16
        assert rows[game]["reach"] == pytest.approx(reach)
        near = 30 * 16
        lift = (reach * near + PRIOR_CHANNEL_SLOTS * market) / (near + PRIOR_CHANNEL_SLOTS)
        assert rows[game]["lift"] == pytest.approx(lift / market)
        assert rows[game]["live"] == 31
        assert rows[game]["game"] == f"<i>{game.upper()}</i>"  # data, as it is, in JSON
    # A 3-viewer channel in "a" stands 32nd on days 0-1 (behind the big channel and 30
    # with 4 viewers) and 2nd on days 2-3: the median of 8 slots of each is 17.
    assert rows["a"]["position"] == (32 + 2) / 2
    assert rows["c"]["position"] == 2  # nobody but the big channel above 3 on days 0-1
    assert answer["problems"] == []
    for query, problem in (
        ("viewers=0", "Usual viewers must be"),
        ("viewers=-5", "Usual viewers must be"),
        ("viewers=99999999", "Usual viewers must be"),
        ("viewers=three", "not a whole number"),
        ("days=", "No day was chosen"),
        ("language=xx", "xx"),
    ):
        response = client.get(f"/api/v1/what-to-stream?{query}")
        assert response.status_code == 200, query
        body = response.get_json()
        assert any(problem in p for p in body["problems"]), (query, body["problems"])


def test_the_feed_has_the_first_top_and_each_change(client: Any) -> None:
    url = "/feeds/what-to-stream.atom?viewers=3&from=0&to=0&tz=UTC&window=24h"
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    # Newest first: day 2's new top, then day 0's (day 1 and day 3 repeat the day before).
    assert titles == [
        "Top games for 3 viewers: <i>D</i>, <i>C</i>, <i>B</i>",
        "Top games for 3 viewers: <i>A</i>, <i>B</i>, <i>C</i>",
    ]
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated[0].startswith("2026-11-18T20:00") and updated[1].startswith("2026-11-16T20")
    for entry in entries:
        for required in ("id", "title", "updated", "link", "summary"):
            assert entry.find(f"{ATOM}{required}") is not None
        assert "viewers=3" in (entry.find(f"{ATOM}link").get("href") or "")  # type: ignore[union-attr]
    assert "New in the top 3: <i>D</i>" in (entries[0].findtext(f"{ATOM}summary") or "")
    assert b"<i>" not in response.data  # names from data are escaped text
    # Stateless: the same URL gives the same feed.
    assert client.get(url).data == response.data
    # A bad input still gives a feed, saying what was not used.
    bad = client.get("/feeds/what-to-stream.atom?viewers=0&window=24h")
    assert bad.status_code == 200
    assert b"Usual viewers must be" in bad.data


def test_a_new_snapshot_of_a_day_already_read_is_counted(client: Any) -> None:
    """Days' figures are kept between snapshots; a day written again is read again."""
    url = "/api/v1/what-to-stream?viewers=3&from=0&to=0&tz=UTC"
    before = {r["id"]: r for r in client.get(url).get_json()["rows"]}
    assert before["a"]["reach"] == pytest.approx(40 / 16)
    slot = DAY + timedelta(days=3, hours=20)
    write_slot(client.application.config["store"], slot, streams(slot, {"a": 6, "b": 2}))
    assert client.application.config["holder"].refresh()
    after = {r["id"]: r for r in client.get(url).get_json()["rows"]}
    assert after["a"]["reach"] == pytest.approx((40 + 6) / 17)
    assert after["c"]["reach"] == pytest.approx(before["c"]["reach"])
