"""Fast checks of the reliability rules: settings validation, the spool's bad files, the
database lock, the CDN override, health states, dashboard input bounds, escaped names."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from conftest import spooled_batch
from dashboard import figures
from dashboard.components import data_health
from dashboard.filters import Filters
from emulator.config import EmulatorSettings
from emulator.market import Market
from scheduler.lock import AlreadyRunning, database_lock, lock_path
from settings import SettingsError, load_settings
from store import MarketState, SnapshotBatch, Spool
from twitch_client.models import Stream, parse_records
from twitch_client.thumbnails import on_cdn

SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PEER_PAGE = Path(__file__).resolve().parent / "data" / "peer_mock_streams_page.json"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No `.env` and no setting from the outer environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("TWITCH_", "MONGODB_", "SNAPSHOT_", "SPOOL_", "LOG_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_every_bad_setting_is_named_on_its_own_line(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SNAPSHOT_TOP_N", "abc")
    clean_env.setenv("SNAPSHOT_MINUTES", "61")
    clean_env.setenv("MONGODB_URI", "garbage")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    problems = dict(p.split(": ", 1) for p in caught.value.problems)
    assert len(caught.value.problems) == len(problems) == 3
    assert "integer" in problems["SNAPSHOT_TOP_N"]
    assert "0..59" in problems["SNAPSHOT_MINUTES"]
    assert "MongoDB connection string" in problems["MONGODB_URI"]


def test_a_client_id_without_its_secret_is_refused_and_no_secret_is_echoed(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("TWITCH_CLIENT_ID", "abc")
    with pytest.raises(SettingsError, match="TWITCH_CLIENT_SECRET is not"):
        load_settings()
    clean_env.delenv("TWITCH_CLIENT_ID")
    clean_env.setenv("TWITCH_CLIENT_SECRET", "hunter2-secret")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "TWITCH_CLIENT_ID is not" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_misfire_grace_as_long_as_the_interval_is_refused(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("SNAPSHOT_MINUTES", "0,20,40")
    clean_env.setenv("SNAPSHOT_MISFIRE_GRACE_SECONDS", "1200")
    with pytest.raises(SettingsError, match="MISFIRE_GRACE"):
        load_settings()
    clean_env.setenv("SNAPSHOT_MISFIRE_GRACE_SECONDS", "1199")
    assert load_settings().snapshot_minutes == "0,20,40"


def batch(slot: datetime) -> SnapshotBatch:
    return spooled_batch(slot, slot)


def test_a_truncated_spool_file_is_moved_aside_with_its_reason(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    bad = spool.put(batch(SLOT))
    good = spool.put(batch(SLOT + timedelta(minutes=30)))
    bad.write_text(bad.read_text(encoding="utf-8")[:40], encoding="utf-8")  # truncated
    assert spool.load(bad) is None
    assert spool.load(good) is not None
    assert spool.pending() == [good]
    (rejected,) = spool.rejected()
    assert rejected.name == bad.name
    reason = rejected.with_name(rejected.name + ".reason").read_text(encoding="utf-8")
    assert reason.startswith("JSONDecodeError")


@pytest.mark.parametrize("text", ["[1, 2]", '{"slot": 3}', '{"slot": {"$date": 0}}', "\xff"])
def test_json_of_another_shape_is_rejected_too(tmp_path: Path, text: str) -> None:
    spool = Spool(tmp_path)
    path = tmp_path / "2026-11-22T080000Z.json"
    path.write_text(text, encoding="utf-8")
    assert spool.load(path) is None and spool.pending() == []
    assert len(spool.rejected()) == 1


def test_unfinished_spool_files_of_a_crash_are_removed(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put(batch(SLOT))
    (tmp_path / "tmpabc.partial").write_text('{"slot": ', encoding="utf-8")
    assert spool.clean_partials() == 1
    assert list(tmp_path.glob("*.partial")) == [] and len(spool.pending()) == 1


def test_the_lock_belongs_to_the_database_not_to_a_folder(tmp_path: Path) -> None:
    one = lock_path("mongodb://127.0.0.1:27017/", "genre_radar", tmp_path)
    assert one == lock_path("mongodb://127.0.0.1:27017/?appname=x", "genre_radar", tmp_path)
    assert one != lock_path("mongodb://127.0.0.1:27017/", "other_db", tmp_path)
    assert one != lock_path("mongodb://127.0.0.1:27018/", "genre_radar", tmp_path)
    with (
        database_lock(one, holder="scheduler once", wait_seconds=0),
        pytest.raises(AlreadyRunning, match="scheduler once"),
        database_lock(one, holder="scheduler backfill", wait_seconds=0.3),
    ):
        pass
    with database_lock(one, holder="scheduler backfill", wait_seconds=0):
        pass  # released when the first holder left


def test_ids_are_opaque_strings_but_numbers_stay_numbers() -> None:
    records = json.loads(PEER_PAGE.read_text(encoding="utf-8"))["data"]
    streams, bad = parse_records(Stream, records, "helix/streams")
    assert bad == [] and len(streams) == len(records) == 12
    assert streams[0].id == records[0]["id"] and "-" in streams[0].id
    broken = [
        {**records[0], "id": ""},
        {**records[0], "id": 123},
        {**records[0], "viewer_count": "9"},
    ]
    _, bad = parse_records(Stream, broken, "helix/streams")
    assert [b.reason.split(":")[0] for b in bad] == ["id", "id", "viewer_count"]


def test_the_cdn_override_keeps_the_preview_path() -> None:
    template = "https://static-cdn.jtvnw.net/previews-ttv/live_user_abc-{width}x{height}.jpg"
    assert (
        on_cdn(template, "http://127.0.0.1:9000/mirror/")
        == "http://127.0.0.1:9000/mirror/previews-ttv/live_user_abc-{width}x{height}.jpg"
    )
    emulated = "http://127.0.0.1:8780/cdn/previews-ttv/live_user_abc-{width}x{height}.jpg"
    assert on_cdn(emulated, "https://cdn.example") == (
        "https://cdn.example/previews-ttv/live_user_abc-{width}x{height}.jpg"
    )
    assert (
        on_cdn("https://a.test/other/x.jpg?v=2", "http://b.test") == "http://b.test/other/x.jpg?v=2"
    )


def test_health_says_backfilling_only_while_a_backfill_is_alive() -> None:
    now = SLOT + timedelta(days=1)
    state = {"newest_slot": SLOT, "newest_degraded": False}
    assert (
        data_health(MarketState.from_document(state), SLOT + timedelta(minutes=20))["status"]
        == "ok"
    )
    assert data_health(MarketState.from_document(state), now)["status"] == "stale"
    alive = {**state, "backfill": {"running": True, "heartbeat": now - timedelta(seconds=30)}}
    assert data_health(MarketState.from_document(alive), now)["status"] == "backfilling"
    dead = {**state, "backfill": {"running": True, "heartbeat": now - timedelta(hours=1)}}
    assert data_health(MarketState.from_document(dead), now)["status"] == "stale"
    done = {**state, "backfill": {"running": False, "heartbeat": now}}
    assert data_health(MarketState.from_document(done), now)["status"] == "stale"
    assert (
        data_health(MarketState.from_document({**state, "newest_degraded": True}), SLOT)["status"]
        == "degraded"
    )
    assert data_health(MarketState.from_document(None), now) == {
        "status": "empty",
        "newest_snapshot": None,
        "age_seconds": None,
    }


NEWEST = pd.Timestamp("2026-11-22 08:00", tz="UTC")
OLDEST = pd.Timestamp("2026-11-20 10:30", tz="UTC")


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-11-22", "9999-12-31"), ("0001-01-01", "2026-11-22"), ("1900-01-01", "9999-12-31")],
)
def test_custom_dates_are_clamped_to_the_stored_history(start: str, end: str) -> None:
    filters = Filters.from_query({"window": "custom", "start": start, "end": end})
    assert filters.problems == () and filters.window == "custom"
    window = filters.window_for(NEWEST, OLDEST)
    assert window.start >= OLDEST.floor("D").to_pydatetime()
    assert window.end <= (NEWEST + pd.Timedelta(minutes=30)).to_pydatetime()
    assert window.previous().start.year >= 2000  # growth's window computes too
    assert filters.clamp_note(window).startswith("Showing ")
    inside = Filters.from_query({"window": "custom", "start": "2026-11-21", "end": "2026-11-21"})
    assert inside.clamp_note(inside.window_for(NEWEST, OLDEST)) == ""


def test_custom_dates_are_bounded_even_without_data() -> None:
    filters = Filters.from_query({"window": "custom", "start": "0001-01-01", "end": "9999-12-31"})
    window = filters.window_for(None, None)
    assert pd.Timestamp(window.start).year == 2000 and pd.Timestamp(window.end).year == 2100


def test_a_long_or_unknown_time_zone_falls_back_to_utc_with_a_notice() -> None:
    long = Filters.from_query({"tz": "Europe/" + "x" * 300})
    assert long.tz == "UTC" and any("too long" in p for p in long.problems)
    odd = Filters.from_query({"tz": "../../etc/passwd"})
    assert odd.tz == "UTC" and any("unknown time zone" in p for p in odd.problems)
    assert Filters.from_query({"tz": "America/Sao_Paulo"}).problems == ()


EVIL = '<a href="https://evil.example/">click</a>'


def test_names_from_data_are_never_markup_in_figures() -> None:
    pie = figures.share_pie([EVIL, "Fortnite"], [1.0, 2.0], f"{EVIL}: share")
    assert pie.data[0].labels[0] == '&lt;a href="https://evil.example/"&gt;click&lt;/a&gt;'
    assert "<a" not in pie.layout.title.text
    bar = figures.bar([EVIL], [1.0], EVIL, "viewers")
    assert "<a" not in bar.data[0].y[0] and "<a" not in bar.layout.title.text
    index = pd.DatetimeIndex([SLOT], tz="UTC")
    line = figures.line(index, {EVIL: [1.0]}, EVIL, "viewers")
    assert "<a" not in line.data[0].name and "<a" not in line.layout.title.text
    assert "%{fullData.name}" in line.data[0].hovertemplate
    area = figures.stacked_area(pd.DataFrame({EVIL: [1.0]}, index=index), EVIL)
    assert "<a" not in area.data[0].name and EVIL not in area.data[0].hovertemplate


def test_a_frozen_emulator_market_is_the_same_whenever_it_is_asked() -> None:
    at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    settings = EmulatorSettings(_env_file=None, channels=500, games=40, frozen_at=at)  # type: ignore[call-arg]
    first = Market(settings).table().records
    # A fresh market (a fresh cache) built later on the wall clock sees the same streams.
    again = Market(settings)
    assert again.now() == at.timestamp() and again.table().records == first
    moving = Market(EmulatorSettings(_env_file=None, channels=500, games=40))  # type: ignore[call-arg]
    assert moving.now() != at.timestamp()


def test_the_backfill_waits_for_an_emulator_that_is_still_starting() -> None:
    """The demo starts every process at once: a backfill that finds no emulator yet tries
    again instead of failing (the emulator here starts listening a second late)."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from types import SimpleNamespace

    from scheduler.backfill import backfill
    from slots import DEFAULT_CADENCE
    from store import free_port

    port, asked = free_port(), []

    class Clock(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            asked.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    def start_late() -> None:
        server = HTTPServer(("127.0.0.1", port), Clock)
        server.handle_request()
        server.server_close()

    starter = threading.Timer(1.0, start_late)
    starter.start()
    marks: list[bool] = []
    collector = SimpleNamespace(
        store=SimpleNamespace(mark_backfill=lambda running, until: marks.append(running))
    )
    summaries = backfill(
        collector,  # type: ignore[arg-type]
        f"http://127.0.0.1:{port}",
        end=SLOT,
        days=0,
        cadence=DEFAULT_CADENCE,
    )
    starter.join()
    assert summaries == [] and marks == [False]
    assert asked == [{"at": SLOT.isoformat()}]
