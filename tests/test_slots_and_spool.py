"""Slot arithmetic and the spool's round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import spooled_batch
from slots import DEFAULT_CADENCE, Cadence, parse_slot, parse_snapshot_minutes
from store import Spool


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        ("2026-11-22T08:00:00+00:00", "2026-11-22T08:00:00+00:00"),
        ("2026-11-22T08:29:59+00:00", "2026-11-22T08:00:00+00:00"),
        ("2026-11-22T08:30:00+00:00", "2026-11-22T08:30:00+00:00"),
        ("2026-11-22T00:10:00+01:00", "2026-11-21T23:00:00+00:00"),
    ],
)
def test_current_slot(now: str, slot: str) -> None:
    assert DEFAULT_CADENCE.current_slot(datetime.fromisoformat(now)) == datetime.fromisoformat(slot)


def test_current_slot_before_the_first_minute_of_the_hour_goes_back_an_hour() -> None:
    assert Cadence((15, 45)).current_slot(datetime(2026, 1, 1, 5, 10, tzinfo=UTC)) == datetime(
        2026, 1, 1, 4, 45, tzinfo=UTC
    )


def test_an_uneven_cadence_weights_by_its_longest_interval_and_lists_its_slots() -> None:
    cadence = Cadence.parse("0,20,30")
    assert cadence.shortest == timedelta(minutes=10)
    assert cadence.interval == timedelta(minutes=30)  # :30 → :00
    assert cadence.max_gap == timedelta(hours=1)
    assert cadence.describe() == ":00, :20 and :30 UTC"
    start = datetime(2026, 1, 1, 5, 5, tzinfo=UTC)
    assert list(cadence.slots_between(start, start + timedelta(hours=1))) == [
        datetime(2026, 1, 1, 5, 20, tzinfo=UTC),
        datetime(2026, 1, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 1, 1, 6, 0, tzinfo=UTC),
    ]
    on_a_slot = datetime(2026, 1, 1, 5, 20, tzinfo=UTC)
    assert next(cadence.slots_between(on_a_slot, start + timedelta(hours=1))) == on_a_slot


def test_parse_minutes_and_slot_reject_nonsense() -> None:
    assert parse_snapshot_minutes("30, 0") == (0, 30)
    with pytest.raises(ValueError):
        parse_snapshot_minutes("61")
    with pytest.raises(ValueError):
        parse_slot("2026-11-22T08:00")  # no zone
    assert parse_slot("2026-11-22T09:00+01:00") == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_spool_round_trip_keeps_aware_datetimes_and_orders_by_slot(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    later = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    earlier = later - timedelta(minutes=30)
    for slot in (later, earlier):
        spool.put(spooled_batch(slot, slot.astimezone(timezone(timedelta(hours=2)))))
    pending = spool.pending()
    assert [p.name for p in pending] == ["2026-11-22T080000Z.json", "2026-11-22T083000Z.json"]
    batch = spool.load(pending[0])
    assert batch.slot == earlier and batch.slot.tzinfo is not None
    assert batch.streams[0]["started_at"] == earlier
    assert list((tmp_path / "spool").glob("*.partial")) == []
    spool.remove(pending[0])
    assert len(spool.pending()) == 1


def test_a_slot_round_trips_through_every_form() -> None:
    import numpy as np

    import slots

    slot = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    assert slots.slot_key(slot) == "2026-11-22T08:30:00Z"
    assert slots.parse_slot_key(slots.slot_key(slot)) == slot
    assert slots.parse_slot("2026-11-22T09:30+01:00") == slot
    day = slots.day_of(slot)
    assert slots.day_key(day) == "2026-11-22" and slots.parse_day_key("2026-11-22") == day
    column = slots.to_datetime64([slot, slot + timedelta(minutes=30)])
    assert column.dtype == np.dtype("datetime64[ns]")
    assert list(slots.from_datetime64(column)) == [slot, slot + timedelta(minutes=30)]
    assert slots.slot_index([]).tz is not None
    with pytest.raises(ValueError, match="aware"):
        slots.to_datetime64([datetime(2026, 11, 22, 8, 30)])  # noqa: DTZ001
    with pytest.raises(ValueError, match="time zone"):
        slots.parse_slot("2026-11-22T08:30")
