"""Rising games over FerretDB: the JSON API and the Atom feed name the game whose share of
channels grew and the game new to the market, and nothing else; the feed is valid Atom."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from conftest import FerretDB
from dashboard import api, feeds
from dashboard.loader import MarketData
from store import SnapshotBatch, Store, StoreReader, compute_rollups, schema

pytestmark = pytest.mark.integration
DAY = datetime(2026, 11, 16, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def streams(channels: dict[str, int], viewers_each: int) -> list[dict[str, Any]]:
    rows = []
    for game, count in channels.items():
        for i in range(count):
            rows.append(
                {
                    "stream_id": f"{game}-{i}",
                    "user_login": f"{game}_{i}",
                    "user_name": f"<b>{game}</b> {i}",
                    "game_id": game,
                    "game_name": f"<i>{game}</i>",
                    "language": "en" if i % 3 else "de",
                    "viewer_count": viewers_each,
                }
            )
    return rows


def write_slot(store: Store, slot: datetime, rows: list[dict[str, Any]]) -> None:
    docs = [{**s, "_id": f"{slot:%H%M%d}/{s['stream_id']}", "slot": slot, "rank": i}
            for i, s in enumerate(rows, 1)]  # fmt: skip
    store.write_snapshot(
        SnapshotBatch(
            slot=slot,
            snapshot={"_id": schema.snapshot_id(slot), "slot": slot, "status": "complete"},
            streams=docs[:50],
            rollups=compute_rollups(slot, docs, lambda g: "Shooter", channel_limit=50,
                                    scope="market"),
        )
    )  # fmt: skip


def test_the_api_and_the_feed_name_the_rising_games(
    ferretdb: FerretDB, store: Store, database_name: str
) -> None:
    # Day one: "steady" and "growing" alike; day two, the same hours: "growing" has four
    # times the channels (and viewers), "fresh" appears, "steady" is as before.
    for day, growing, fresh in ((DAY, 10, 0), (DAY + timedelta(days=1), 40, 12)):
        for minutes in (0, 30, 60, 90):
            slot = day + timedelta(hours=10, minutes=minutes)
            write_slot(store, slot, streams({"steady": 60, "growing": growing, "fresh": fresh}, 5))
    holder = MarketData(StoreReader(ferretdb.uri, database_name), refresh_seconds=0)
    holder.refresh()
    server = Flask(__name__)
    api.register(server, holder, "1000/minute")
    feeds.register(server, holder)
    client = server.test_client()

    answer = client.get("/api/v1/rising").get_json()
    rows = {r["game_id"]: r for r in answer["rows"]}
    assert set(rows) == {"growing", "fresh"}
    assert rows["fresh"]["new"] and rows["fresh"]["ratio"] is None
    # Usual share 10/70; now 40/112.
    assert rows["growing"]["ratio"] == pytest.approx((40 / 112) / (10 / 70))
    assert answer["evaluated_at"] == "2026-11-17T12:00:00+00:00"

    response = client.get("/feeds/rising.atom?language=de")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    assert "German" in (root.findtext(f"{ATOM}title") or "")
    entries = root.findall(f"{ATOM}entry")
    titles = sorted(e.findtext(f"{ATOM}title") or "" for e in entries)
    # Names from data are escaped text, never markup.
    assert titles == ["<i>fresh</i> is rising in German", "<i>growing</i> is rising in German"]
    for entry in entries:
        for required in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{required}") is not None
    assert b"<i>" not in response.data
    # Stateless: the same URL gives the same feed; nothing was written.
    assert client.get("/feeds/rising.atom?language=de").data == response.data
    holder.reader.close()
