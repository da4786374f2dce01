"""The emulator's building blocks: cursors, Apicalypse, the market, recordings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator import cursors
from emulator.config import EmulatorSettings
from emulator.igdb import ApicalypseError, parse_query
from emulator.market import Market
from emulator.recordings import parse_views


def test_cursors_round_trip_and_reject_garbage() -> None:
    key = cursors.decode(cursors.encode_key(1234, "40000000001"))
    assert (key.kind, key.viewers, key.stream_id) == ("key", 1234, "40000000001")
    assert cursors.decode(cursors.encode_offset(40)).offset == 40
    assert cursors.decode(cursors.encode_special("loop")).kind == "loop"
    assert cursors.decode("IA").kind == "degenerate"
    for garbage in ("!!!", "eyJ4Ijox", cursors.encode_offset(1)[:-4] + "AAAA"):
        with pytest.raises(ValueError):
            cursors.decode(garbage)


def test_apicalypse_subset() -> None:
    query = parse_query("fields name,genres.name; where id = (1905, 121); limit 50;")
    assert (
        query.fields == ["name", "genres.name"] and query.ids == [1905, 121] and query.limit == 50
    )
    assert parse_query("fields *; where id = 7;").ids == [7]
    with pytest.raises(ApicalypseError):
        parse_query('fields name; where name ~ *"zelda"*;')
    with pytest.raises(ApicalypseError):
        parse_query("limit 900;")


def market(**overrides: object) -> Market:
    return Market(EmulatorSettings(_env_file=None, **overrides))  # type: ignore[call-arg]


def test_market_is_deterministic_heavy_tailed_and_has_enough_live_channels() -> None:
    first, second = market(), market()
    hours = [datetime(2026, 11, 22, h, 0, tzinfo=UTC).timestamp() for h in range(0, 24, 3)]
    counts = []
    for t in hours:
        a, b = first.table(t).records, second.table(t).records
        assert a == b
        counts.append(len(a))
        viewers = [r["viewer_count"] for r in a]
        assert viewers == sorted(viewers, reverse=True)
        top_share = sum(viewers[:10]) / sum(viewers)
        assert top_share > 0.05  # a few big channels take a large share
        assert len({r["id"] for r in a}) == len(a)
    assert min(counts) > 1000, counts  # top-1000 is always fillable
    assert max(counts) > min(counts) * 1.1  # a daily cycle


def test_channels_come_and_go_and_viewers_drift() -> None:
    m = market(drift_seconds=10)
    t = datetime(2026, 11, 22, 20, 0, tzinfo=UTC).timestamp()
    now, later = m.table(t).records, m.table(t + 3 * 3600).records
    assert {r["user_id"] for r in now} != {r["user_id"] for r in later}
    soon = {r["id"]: r["viewer_count"] for r in m.table(t + 10).records}
    assert any(soon.get(r["id"]) not in (None, r["viewer_count"]) for r in now)


def test_always_live_market_has_every_channel_live_with_unique_stream_ids() -> None:
    records = market(channels=50_000, always_live=True).table(0.0).records
    assert len(records) == 50_000 and len({r["id"] for r in records}) == 50_000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("492.4 mil espectadores", 492_400),
        ("16.5K viewers", 16_500),
        ("812 viewers", 812),
        ("1.234 viewers", 1234),
        ("2M viewers", 2_000_000),
    ],
)
def test_parse_views(text: str, value: int) -> None:
    assert parse_views(text) == value


def test_parse_views_rejects_text_without_a_number() -> None:
    with pytest.raises(ValueError):
        parse_views("many viewers")
