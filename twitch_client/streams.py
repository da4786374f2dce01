"""Listing live streams from `GET /helix/streams`, robust to every paging quirk of the API.

Quirks handled (see `../shared/docs/twitch-api-contract.md` §2):
- duplicates across pages (counts drift while we page): deduplicated by stream id;
- a cursor on the last page that leads to an empty page, or back to page 1: an empty page,
  a page with nothing new, or a mostly-duplicate page whose viewers jump back up ends
  the chain;
- degenerate cursors ("IA", half cursors) that always give empty pages: same;
- short pages that still carry a cursor: paging goes on (a short page is never the end);
- intermittent `400 invalid cursor`: the same cursor is tried again, then the chain
  restarts from the top (deduplication makes that safe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from twitch_client.errors import InvalidCursor, SchemaError
from twitch_client.models import QuarantinedRecord, Stream, parse_records

log = logging.getLogger(__name__)

PAGE_SIZE = 100
CURSOR_RETRIES = 3
CHAIN_RESTARTS = 1
# A page is a loop back to the top when at least this share of it was already seen...
LOOP_DUPLICATE_SHARE = 0.5
# ...and its biggest stream has at least this many times the viewers of the last page's smallest.
LOOP_VIEWER_JUMP = 2.0

FetchPage = Callable[[list[tuple[str, Any]]], Any]


@dataclass
class StreamListing:
    """The distinct streams a listing found (most viewed first) and what it quarantined."""

    streams: list[Stream] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    pages: int = 0
    end_reason: str = ""
    chains: int = 1  # cursor chains the listing was paged in
    longest_chain: int = 0  # pages of the longest: what bounds the listing's time

    def merge(self, other: StreamListing) -> None:
        known = {stream.id for stream in self.streams}
        self.streams.extend(s for s in other.streams if s.id not in known)
        self.streams.sort(key=lambda s: (-s.viewer_count, s.id))
        self.quarantined.extend(other.quarantined)
        self.pages += other.pages
        self.longest_chain = max(self.longest_chain, other.longest_chain)


def _page_data(body: Any) -> tuple[list[Any], str | None]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SchemaError("streams response has no `data` list")
    pagination = body.get("pagination") or {}
    cursor = pagination.get("cursor") if isinstance(pagination, dict) else None
    return body["data"], (cursor if isinstance(cursor, str) and cursor else None)


def _is_loop_back(page: list[Stream], new: int, previous_min_viewers: int | None) -> bool:
    if not page or previous_min_viewers is None:
        return False
    duplicate_share = 1 - new / len(page)
    biggest = max(s.viewer_count for s in page)
    return duplicate_share >= LOOP_DUPLICATE_SHARE and biggest > max(
        1, previous_min_viewers * LOOP_VIEWER_JUMP
    )


def list_streams(
    fetch_page: FetchPage,
    *,
    limit: int | None,
    filters: list[tuple[str, str]] | None = None,
) -> StreamListing:
    """Page through the streams matching `filters` until `limit` distinct ones (None: all)."""
    listing = StreamListing()
    seen: dict[str, Stream] = {}
    cursor: str | None = None
    used_cursors: set[str] = set()
    cursor_failures = restarts = 0
    previous_min: int | None = None
    rewalking = False  # after a restart, pages we already saw are expected, not the end

    while limit is None or len(seen) < limit:
        params: list[tuple[str, Any]] = [*(filters or []), ("first", PAGE_SIZE)]
        if cursor:
            params.append(("after", cursor))
        try:
            body = fetch_page(params)
        except InvalidCursor:
            cursor_failures += 1
            if cursor_failures <= CURSOR_RETRIES:
                continue
            if restarts < CHAIN_RESTARTS:
                log.warning(
                    "cursor rejected %d times; restarting the listing from the top", cursor_failures
                )
                restarts += 1
                cursor, cursor_failures, previous_min, rewalking = None, 0, None, True
                used_cursors.clear()
                continue
            listing.end_reason = "invalid cursor"
            break
        cursor_failures = 0
        records, next_cursor = _page_data(body)
        listing.pages += 1
        page, bad = parse_records(Stream, records, "helix/streams")
        listing.quarantined.extend(bad)
        new = 0
        for stream in page:
            if stream.id not in seen:
                seen[stream.id] = stream
                new += 1
        if not records:
            listing.end_reason = "empty page"
            break
        rewalking = rewalking and new == 0
        if not rewalking and _is_loop_back(page, new, previous_min):
            listing.end_reason = "cursor looped back to the top"
            break
        if not rewalking and page and new == 0:
            listing.end_reason = "page with nothing new"
            break
        if next_cursor is None:
            listing.end_reason = "last page"
            break
        if next_cursor in used_cursors:
            listing.end_reason = "repeated cursor"
            break
        used_cursors.add(next_cursor)
        cursor = next_cursor
        if page:
            previous_min = min(s.viewer_count for s in page)
    else:
        listing.end_reason = "limit reached"

    ranked = sorted(seen.values(), key=lambda s: (-s.viewer_count, s.id))
    listing.streams = ranked if limit is None else ranked[:limit]
    listing.longest_chain = listing.pages
    return listing


def list_top_games(fetch_page: FetchPage) -> list[str]:
    """Ids of every category with live viewers (`GET /games/top` to its last page), most
    watched first."""
    ids: dict[str, None] = {}
    cursor: str | None = None
    used: set[str] = set()
    while True:
        params: list[tuple[str, Any]] = [("first", PAGE_SIZE)]
        if cursor:
            params.append(("after", cursor))
        records, cursor = _page_data(fetch_page(params))
        for record in records:
            if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"]:
                ids.setdefault(record["id"])
        if not records or cursor is None or cursor in used:
            return list(ids)
        used.add(cursor)


def game_groups(game_ids: list[str], chains: int) -> list[list[str]]:
    """Split game ids (most watched first) into `chains` groups of similar size, each
    within Helix's 100 `game_id` values: dealt out by rank, so every group gets some big
    games and some small ones."""
    count = max(chains, -(-len(game_ids) // PAGE_SIZE), 1)
    groups = [game_ids[i::count] for i in range(count)]
    return [g for g in groups if g]


def list_all_streams(
    fetch_page: FetchPage,
    *,
    languages: list[str],
    concurrency: int,
    fetch_top_games: FetchPage | None = None,
    split_languages: tuple[str, ...] = (),
    split_chains: int = 8,
) -> StreamListing:
    """Every live stream: one cursor chain per language, several chains at once.

    A chain is a sequence of requests, so the biggest language bounds the listing's
    time (English is a third of Twitch). Languages in `split_languages` are listed as
    `split_chains` chains instead, one per group of the categories `/games/top` names,
    which run side by side. Such a language's streams without a category, or in a
    category with no viewers at all, are then not seen."""
    chains: list[list[tuple[str, str]]] = []
    split = [lang for lang in languages if lang in split_languages]
    groups = (
        game_groups(list_top_games(fetch_top_games), split_chains)
        if split and fetch_top_games
        else []
    )
    for language in languages:
        if language in split and groups:
            chains += [
                [("language", language), *(("game_id", g) for g in group)] for group in groups
            ]
        else:
            chains.append([("language", language)])
    total = StreamListing(chains=len(chains))
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="helix-chain") as pool:
        for chain in pool.map(lambda f: list_streams(fetch_page, limit=None, filters=f), chains):
            total.merge(chain)
    total.end_reason = "all languages listed" + (
        f" ({', '.join(split)} in {len(groups)} game groups each)" if groups else ""
    )
    return total
