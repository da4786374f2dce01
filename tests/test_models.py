"""Validation of Helix records: real records parse, malformed ones are quarantined with a reason."""

from __future__ import annotations

import ast
import csv
from pathlib import Path
from typing import Any

from twitch_client.models import Game, Stream, parse_records


def real_page(shared_data: Path) -> list[dict[str, Any]]:
    """The recorded Helix page, typed back as the API sends it."""
    with (shared_data / "helix_streams_page_2021-07-20.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["viewer_count"] = int(row["viewer_count"])
        row["tag_ids"] = ast.literal_eval(row["tag_ids"])
        row["is_mature"] = row["is_mature"] == "True"
    return rows


def test_every_record_of_a_real_helix_page_parses(shared_data: Path) -> None:
    records = real_page(shared_data)
    streams, bad = parse_records(Stream, records, "helix/streams")
    assert bad == []
    assert len(streams) == len(records) == 100
    assert streams[0].user_login == "sapnap" and streams[0].viewer_count == 146374
    assert all(s.started_at.tzinfo is not None for s in streams)


def test_unknown_fields_are_ignored_and_null_tags_tolerated(shared_data: Path) -> None:
    record = {**real_page(shared_data)[0], "brand_new_field": {"x": 1}, "tags": None}
    (stream,), bad = parse_records(Stream, [record], "helix/streams")
    assert bad == [] and stream.tags is None


def test_malformed_records_are_quarantined_with_reasons_in_order(shared_data: Path) -> None:
    good = real_page(shared_data)[0]
    records = [
        {**good, "viewer_count": "lots"},
        {**good, "started_at": "yesterday"},
        {**good, "user_login": None},
        {**good, "id": ""},
        ["not", "an", "object"],
        {k: v for k, v in good.items() if k != "user_id"},
        {**good, "viewer_count": -5},
        {**good, "started_at": "2021-07-20T20:33:29"},  # no time zone
        good,
    ]
    streams, bad = parse_records(Stream, records, "helix/streams")
    assert [s.id for s in streams] == [good["id"]]
    reasons = [q.reason for q in bad]
    assert len(bad) == 8
    assert reasons[0].startswith("viewer_count")
    assert reasons[1].startswith("started_at")
    assert reasons[2].startswith("user_login")
    assert reasons[3].startswith("id")
    assert reasons[4] == "record is not a JSON object"
    assert reasons[5].startswith("user_id")
    assert reasons[6].startswith("viewer_count")
    assert reasons[7].startswith("started_at")
    assert bad[0].record is records[0] and bad[0].endpoint == "helix/streams"


def test_game_without_igdb_mapping_is_valid() -> None:
    games, bad = parse_records(
        Game, [{"id": "509658", "name": "Just Chatting", "box_art_url": "", "igdb_id": ""}], "g"
    )
    assert bad == [] and games[0].igdb_id == ""


def test_a_viewer_count_no_stream_reaches_is_quarantined_not_summed(shared_data: Path) -> None:
    good = real_page(shared_data)[0]
    records = [{**good, "viewer_count": 2**63}, {**good, "viewer_count": 10_000_001}, good]
    streams, bad = parse_records(Stream, records, "helix/streams")
    assert [s.viewer_count for s in streams] == [good["viewer_count"]]
    assert all(q.reason.startswith("viewer_count") for q in bad) and len(bad) == 2
