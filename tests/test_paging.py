"""The paging loop against scripted pages: every quirk of the contract's §2."""

from __future__ import annotations

from typing import Any

import pytest

from twitch_client.errors import InvalidCursor, SchemaError
from twitch_client.streams import list_streams


def record(n: int, viewers: int) -> dict[str, Any]:
    return {
        "id": str(n),
        "user_id": str(1000 + n),
        "user_login": f"user{n}",
        "user_name": f"User{n}",
        "game_id": "1",
        "game_name": "G",
        "type": "live",
        "title": "",
        "viewer_count": viewers,
        "started_at": "2026-01-01T00:00:00Z",
        "language": "en",
        "thumbnail_url": "",
        "tags": [],
    }


def page(ids: range | list[int], cursor: str | None) -> dict[str, Any]:
    return {
        "data": [record(i, 10_000 - i) for i in ids],
        "pagination": {"cursor": cursor} if cursor else {},
    }


class Script:
    """Answers by cursor; records every request's params."""

    def __init__(self, pages: dict[str | None, Any]) -> None:
        self.pages = pages
        self.calls: list[str | None] = []

    def __call__(self, params: list[tuple[str, Any]]) -> Any:
        cursor = dict(params).get("after")
        self.calls.append(cursor)
        answer = self.pages[cursor]
        if isinstance(answer, list):  # a sequence of answers for repeated calls
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_stops_at_the_limit_and_ranks_by_viewers() -> None:
    script = Script(
        {
            None: page(range(0, 100), "a"),
            "a": page(range(100, 200), "b"),
            "b": page(range(200, 300), "c"),
        }
    )
    listing = list_streams(script, limit=150)
    assert len(listing.streams) == 150
    assert [s.id for s in listing.streams[:3]] == ["0", "1", "2"]
    assert script.calls == [None, "a"] and listing.end_reason == "limit reached"


def test_duplicates_across_pages_are_counted_once() -> None:
    script = Script({None: page(range(0, 100), "a"), "a": page(range(95, 195), None)})
    listing = list_streams(script, limit=1000)
    assert len(listing.streams) == 195 and len({s.id for s in listing.streams}) == 195
    assert listing.end_reason == "last page"


def test_short_pages_with_a_cursor_are_not_the_end() -> None:
    script = Script(
        {
            None: page(range(0, 45), "a"),
            "a": page(range(45, 100), "b"),
            "b": page(range(100, 160), None),
        }
    )
    listing = list_streams(script, limit=1000)
    assert len(listing.streams) == 160 and listing.pages == 3


def test_cursor_on_the_last_page_leading_to_an_empty_page() -> None:
    script = Script(
        {None: page(range(0, 100), "a"), "a": page(range(100, 130), "end"), "end": page([], None)}
    )
    listing = list_streams(script, limit=1000)
    assert len(listing.streams) == 130 and listing.end_reason == "empty page"


def test_cursor_on_the_last_page_looping_back_to_the_top() -> None:
    top = page(range(0, 100), "a")
    # page 1 again, with drift: two streams are new, the rest already seen; viewers jump up
    looped = {
        "data": [record(i, 10_000 - i) for i in [*range(0, 98), 900, 901]],
        "pagination": {"cursor": "a2"},
    }
    tail = {
        "data": [record(i, 5 - i // 100) for i in range(100, 140)],
        "pagination": {"cursor": "loop"},
    }
    script = Script({None: top, "a": tail, "loop": looped, "a2": page(range(500, 600), None)})
    listing = list_streams(script, limit=1000)
    assert listing.end_reason == "cursor looped back to the top"
    assert script.calls == [None, "a", "loop"]


def test_degenerate_cursor_always_giving_empty_pages_ends_the_chain() -> None:
    script = Script({None: page(range(0, 100), "IA"), "IA": page([], "IA")})
    listing = list_streams(script, limit=1000)
    assert len(listing.streams) == 100 and script.calls == [None, "IA"]


def test_invalid_cursor_is_retried_then_the_chain_goes_on() -> None:
    script = Script(
        {
            None: page(range(0, 100), "a"),
            "a": [InvalidCursor("invalid cursor"), page(range(100, 150), None)],
        }
    )
    listing = list_streams(script, limit=1000)
    assert len(listing.streams) == 150 and script.calls == [None, "a", "a"]


def test_a_cursor_that_stays_invalid_restarts_the_listing_once() -> None:
    failing = [InvalidCursor("invalid cursor")] * 20
    script = Script({None: [page(range(0, 100), "a"), page(range(0, 100), "a")], "a": failing})
    listing = list_streams(script, limit=1000)
    assert len(listing.streams) == 100 and listing.end_reason == "invalid cursor"
    assert script.calls.count(None) == 2 and script.calls.count("a") == 8


def test_malformed_records_are_quarantined_not_fatal() -> None:
    bad = {**record(5, 9995), "viewer_count": "lots"}
    first = page(range(0, 100), None)
    first["data"][5] = bad
    listing = list_streams(Script({None: first}), limit=1000)
    assert len(listing.streams) == 99 and len(listing.quarantined) == 1
    assert listing.quarantined[0].record is bad


def test_a_response_without_data_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        list_streams(Script({None: {"oops": True}}), limit=10)
