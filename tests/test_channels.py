"""Every listed channel stored per slot: directory ranks, the day's names, the spool, and
a whole emulated market read back equal to the emulator's raw listing."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import FROZEN_AT, EmulatorFactory, FerretDB, collector_settings
from scheduler.app import build_collector
from slots import day_of
from store import (
    ALL_LANGUAGES,
    BUCKETS,
    GROUPS,
    ChannelDirectory,
    ChannelListing,
    ChannelWriter,
    SnapshotBatch,
    Store,
    StreamDocument,
    channel_day_collection,
    channel_day_id,
    channel_group,
    channel_names_id,
    channel_slot_id,
    channels_above,
    day_collection,
    directory_ranks,
    histogram,
    join_names,
    read_channel_days,
    read_channel_history,
    read_channel_listing,
    read_channels_state,
    read_day_channels,
    read_directory_counts,
    read_last_seen,
    rollup_id,
    schema,
    search_channels,
    snapshot_document,
    stored_channel_days,
)
from store._channel_days import (
    ChannelDay,
    DayRows,
    channel_day_documents,
    decode_started,
    encode_started,
)
from store._channel_directory import PREFIX
from store._channels import (
    PARALLEL_BYTES,
    DayChannels,
    SlotRows,
    compressed,
    names_entries,
    slot_documents,
)
from store._packing import pack_planes

SLOT = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def stream(
    user: str, viewers: int, game: str = "g1", language: str = "en", **extra: Any
) -> StreamDocument:
    document: dict[str, Any] = {
        "_id": f"{user}-s",
        "slot": SLOT,
        "stream_id": f"{user}-s",
        "rank": 0,
        "user_id": f"id-{user}",
        "user_login": user,
        "user_name": user.upper(),
        "game_id": game,
        "game_name": f"Game {game}",
        "language": language,
        "title": "",
        "viewer_count": viewers,
        "started_at": SLOT - timedelta(hours=1),
        "tags": ["English"],
        "is_mature": False,
        "thumbnail_url": "",
        **extra,
    }
    return document  # type: ignore[return-value]


def brute_ranks(directory: list[object], viewers: list[int]) -> list[int]:
    """1 + the streams of the same directory with strictly more viewers, by a double loop."""
    return [
        1 + sum(d == mine and v > count for d, v in zip(directory, viewers, strict=True))
        for mine, count in zip(directory, viewers, strict=True)
    ]


def test_going_live_times_coded_channel_by_channel_read_back_as_were_and_older_days_too() -> None:
    rng = np.random.default_rng(8)
    base = int(SLOT.timestamp())
    channel = np.sort(rng.integers(0, 60, 500))
    # Mostly one session a channel (some from the day before), sometimes a new one.
    session = base + rng.integers(-2 * 86_400, 86_400, 60)
    started = session[channel] + np.where(rng.random(500) < 0.1, rng.integers(1, 9_999, 500), 0)
    coded = encode_started(channel, started, base)
    assert (decode_started(channel, coded, base) == started).all()
    assert (coded >= 0).all()  # zigzag: no sign bytes for the byte planes

    names = DayChannels(day_of(SLOT))
    listing = ChannelListing.from_streams(
        SLOT,
        [
            stream(f"c{i}", i, started_at=SLOT - timedelta(seconds=int(s)))
            for i, s in enumerate(rng.integers(0, 200_000, 40))
        ],
    )
    index, _ = names.indexes(listing)
    rows = SlotRows.from_documents(slot_documents(listing, index, names, SLOT, 3), names)
    documents = channel_day_documents(names, DayRows.from_slots([rows]), SLOT, 3)
    for document in (d for d in documents if d["rows"]):
        day = ChannelDay.from_document(document)
        # As written before: going-live times delta-coded along the rows, zlib columns.
        older = dict(
            document, started=pack_planes(np.diff(day.started_at, prepend=0), np.dtype("<i8"))
        )
        older.pop("started_base")
        older["viewers"] = pack_planes(day.viewers, np.dtype("<i4"))
        again = ChannelDay.from_document(older)  # type: ignore[arg-type]
        assert (again.started_at == day.started_at).all()
        assert (again.viewers == day.viewers).all()
    every = [ChannelDay.from_document(d) for d in documents]
    got = {u: int(d.started_at[d.rows_of(u)][0]) for d in every for u in d.user_ids}
    want = {s: int(t) for s, t in zip(listing.user_ids, listing.started_at, strict=True)}
    assert got == want


def test_logins_left_out_as_their_names_lowercased_read_back_exact_and_older_days_too() -> None:
    """A login equal to its display name lowercased is stored as ""; any other login (a
    name in another script, a name whose lowercase is not the login) is written out."""
    from store._packing import compress, decompress, join_names, split_names

    names_of = {
        "plain": "Plain",
        "same": "same",
        "kana": "かなちゃん",
        "dotted": "İdotted",  # lowercases to "i̇dotted", not the login
        "x_mixed": "X_MixeD",
    }
    listing = ChannelListing.from_streams(
        SLOT, [stream(login, 3, user_name=name) for login, name in names_of.items()]
    )
    names = DayChannels(day_of(SLOT))
    index, _ = names.indexes(listing)
    rows = SlotRows.from_documents(slot_documents(listing, index, names, SLOT, 3), names)
    documents = [
        d for d in channel_day_documents(names, DayRows.from_slots([rows]), SLOT, 3) if d["count"]
    ]
    read = {
        login: name
        for d in documents
        for login, name in zip(*_logins_and_names(ChannelDay.from_document(d)), strict=True)
    }
    assert read == names_of
    stored = [
        f
        for d in documents
        for f in split_names(decompress(d["channels"]).decode("utf-8"), 3 * d["count"])[1::3]
    ]
    assert sorted(stored) == sorted(["", "", "kana", "dotted", ""])
    for document in documents:  # as written before: every login written out, no flag
        day = ChannelDay.from_document(document)
        fields = zip(day.user_ids, day.logins, day.names, strict=True)
        text = join_names([f for channel in fields for f in channel])
        older = dict(document, channels=compress(text.encode("utf-8")))
        older.pop("logins_from_names")
        again = ChannelDay.from_document(older)  # type: ignore[arg-type]
        assert _logins_and_names(again) == _logins_and_names(day)


def _logins_and_names(day: ChannelDay) -> tuple[list[str], list[str]]:
    return day.logins, day.names


def test_directory_ranks_equal_a_double_loop_with_ties_and_many_directories() -> None:
    rng = np.random.default_rng(3)
    directory = rng.integers(0, 7, 400)
    viewers = rng.integers(0, 12, 400)  # many ties
    viewers[:3] = 10_000_000  # the largest count the client accepts
    ranks = directory_ranks(directory, viewers)
    assert ranks.tolist() == brute_ranks(directory.tolist(), viewers.tolist())
    assert directory_ranks(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []


def test_a_listing_keeps_one_row_per_channel_with_its_language_rank_and_tags() -> None:
    listing = ChannelListing.from_streams(
        SLOT,
        [
            stream("big", 900, tags=["English", "FPS"]),
            stream("mid", 40, language="de"),
            stream("small", 2, language="de"),
            stream("mid", 38, language="de"),  # the same channel again, on a later page
            stream("<b>x</b>", 2, game="", tags=["a\x1eb"]),
        ],
    )
    assert listing.logins == ["big", "mid", "small", "<b>x</b>"]
    assert listing.viewers.tolist() == [900, 40, 2, 2]
    assert listing.game_rank.tolist() == [1, 2, 3, 1]
    assert listing.language_rank.tolist() == [1, 1, 2, 1]
    assert listing.tags_of(0) == ["English", "FPS"] and listing.tags_of(3) == ["a b"]
    assert listing.started_at.tolist() == [int((SLOT - timedelta(hours=1)).timestamp())] * 4


def test_a_spooled_batch_brings_its_listing_back_and_refuses_a_broken_one() -> None:
    listing = ChannelListing.from_streams(SLOT, [stream("a", 5), stream("b", 7, game="g2")])
    snapshot = snapshot_document(
        SLOT, started_at=SLOT, finished_at=SLOT, status=schema.COMPLETE, mode="market",
        level=schema.STREAM_LEVEL, top_n=1, streams=[], listed=[], pages=1, requests=1,
        retries=0, quarantined=0, quarantine_share=0.0, degraded=False, end_reason="end",
    )  # fmt: skip
    batch = SnapshotBatch(slot=SLOT, snapshot=snapshot, channels=listing)
    back = SnapshotBatch.from_json(batch.to_json())
    assert back.channels is not None
    assert back.channels.logins == ["a", "b"] and back.channels.game_rank.tolist() == [1, 1]
    broken = batch.to_json().replace('"game_ids": ["g1", "g2"]', '"game_ids": ["g1"]')
    assert broken != batch.to_json()
    with pytest.raises(ValueError, match="game outside game_ids"):
        SnapshotBatch.from_json(broken)


@pytest.mark.integration
def test_every_listed_channel_reads_back_equal_to_the_emulators_raw_market(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    later = FROZEN_AT + timedelta(hours=3)  # channels come and go, games change
    next_day = FROZEN_AT + timedelta(days=1)  # its slot regroups the first day by channel
    raw: dict[datetime, list[dict[str, Any]]] = {}
    for slot in (FROZEN_AT, later, next_day):
        emulator = make_emulator(channels=30_000, frozen_at=slot, quirk_short_page=0.1)
        settings = collector_settings(
            emulator.url, ferretdb.uri, database_name, tmp_path / "spool",
            snapshot_scope="market", snapshot_top_n=100,
            frames_top=0, frames_random=0, frames_non_game=0,
        )  # fmt: skip
        job = build_collector(settings, clock=lambda slot=slot: slot)  # type: ignore[misc]
        assert job.collect(slot).outcome == "stored"
        job.close()
        raw[slot] = list(emulator.app.extensions["emulator"].source.table().records)

    by_slot = {}
    for slot, records in raw.items():
        expected = pd.DataFrame(records)
        expected["game_rank"] = (
            expected.groupby("game_id")["viewer_count"].rank(method="min", ascending=False)
        ).astype(int)
        expected["language_rank"] = (
            expected.groupby(["game_id", "language"])["viewer_count"]
            .rank(method="min", ascending=False)
            .astype(int)
        )
        stored = read_channel_listing(store.db, slot).set_index("user_id")
        expected = expected.set_index("user_id")
        assert len(stored) == len(expected) > 2_000  # far beyond the 100 stored in full
        assert set(stored.index) == set(expected.index)
        joined = stored.join(expected, suffixes=("", "_raw"))
        assert (joined["login"] == joined["user_login"]).all()
        assert (joined["name"] == joined["user_name"]).all()
        assert (joined["viewers"] == joined["viewer_count"]).all()
        assert (joined["game_id"] == joined["game_id_raw"]).all()
        assert (joined["language"] == joined["language_raw"]).all()
        assert (joined["started_at"] == pd.to_datetime(joined["started_at_raw"], utc=True)).all()
        assert (joined["tags"] == joined["tags_raw"]).all()
        assert (joined["game_rank"] == joined["game_rank_raw"]).all()
        assert (joined["language_rank"] == joined["language_rank_raw"]).all()
        # A channel no top list has, in the most crowded game: far down its directory.
        crowded = joined["game_id"].value_counts().index[0]
        small = joined[(joined["viewers"] <= 2) & (joined["game_id"] == crowded)].iloc[0]
        assert small["game_rank"] > 100
        by_slot[slot] = expected

    # Directory counts: where a channel of V viewers would stand in each game's directory
    # (1 + the live channels with more viewers), overall and per language, per slot.
    for language in (ALL_LANGUAGES, *sorted({r["language"] for r in raw[FROZEN_AT]})):
        days = list(
            read_directory_counts(store.db, FROZEN_AT, next_day + timedelta(days=1), language)
        )
        slots_read = {slot: (day, i) for day in days for i, slot in enumerate(day.slots)}
        for slot, expected in by_slot.items():
            mine = (
                expected
                if language == ALL_LANGUAGES
                else expected[expected["language"] == language]
            )
            if mine.empty:
                assert (
                    slot not in slots_read
                    or not slots_read[slot][0].counts[slots_read[slot][1]].any()
                )
                continue
            day, row = slots_read[slot]
            for viewers in (0, 1, 3, 5, 10, 25, 50):
                above = mine[mine["viewer_count"] > viewers].groupby("game_id").size()
                got = channels_above(day.counts[row], viewers)
                for game, count in zip(day.game_ids, got.tolist(), strict=True):
                    assert count == above.get(game, 0), (slot, language, game, viewers)
            live = mine.groupby("game_id").size()
            totals = dict(zip(day.game_ids, day.counts[row].sum(axis=1).tolist(), strict=True))
            assert {g: c for g, c in totals.items() if c} == live.to_dict()

    # Tags over the whole market, per game and per language: equal to a count over the
    # raw listing (each stream once per tag whatever its case).
    for dimension, column in (("game_tag", "game_id"), ("language_tag", "language")):
        raw_rows = [
            (f"{r[column]}|{folded}", r["viewer_count"])
            for r in raw[FROZEN_AT]
            for folded in {t.casefold() for t in r["tags"]}
        ]
        expected_tags = pd.DataFrame(raw_rows, columns=["key", "viewers"]).groupby("key")
        stored_doc = store.db[schema.ROLLUPS].find_one({"_id": rollup_id(FROZEN_AT, dimension)})
        assert stored_doc is not None
        groups = {g["key"]: g for g in stored_doc["groups"]}
        assert set(groups) == set(expected_tags.groups)
        for key, part in expected_tags:
            group = groups[key]
            assert (group["channels"], group["viewers"]) == (len(part), part["viewers"].sum())
            assert histogram.padded(group["histogram"]).tolist() == (
                histogram.histogram(part["viewers"].to_numpy()).tolist()
            )
    spellings: dict[str, set[str]] = {}
    for r in raw[FROZEN_AT]:
        for tag in r["tags"]:
            spellings.setdefault(f"{r['language']}|{tag.casefold()}", set()).add(tag)
    assert any(len(v) > 1 for v in spellings.values())  # case variants, counted as one tag

    # One day, two slots, regrouped by channel: each channel of the day once.
    first_day = {r["user_id"] for slot in (FROZEN_AT, later) for r in raw[slot]}
    regrouped = [
        store.db[channel_day_collection(FROZEN_AT, b)].find_one(
            {"_id": channel_day_id(day_of(FROZEN_AT), b)}
        )
        for b in range(BUCKETS)
    ]
    assert sum(d["count"] for d in regrouped if d) == len(first_day)
    # The first day, regrouped by channel, has no slot chunks left.
    assert stored_channel_days(store.db, schema.CHANNEL_SLOTS) == [day_of(next_day)]

    # A channel's history: the first day from its regrouped documents, the second from
    # the slot itself; each row equal to the raw listing of its slot.
    state = read_channels_state(store.db)
    assert state.is_compacted(FROZEN_AT) and not state.is_compacted(next_day)
    everywhere = set.intersection(*(set(e.index) for e in by_slot.values()))
    small = min(everywhere, key=lambda u: (by_slot[FROZEN_AT].loc[u, "viewer_count"], u))
    for user_id in (small, max(everywhere), next(iter(set(by_slot[later].index) - everywhere))):
        history = read_channel_history(store.db, user_id, FROZEN_AT, next_day + timedelta(days=1))
        seen = [slot for slot, e in by_slot.items() if user_id in e.index]
        assert history["slot"].tolist() == [pd.Timestamp(s) for s in seen]
        for row, slot in zip(history.itertuples(), seen, strict=True):
            raw_row = by_slot[slot].loc[user_id]
            assert (row.login, row.viewers, row.game_id, row.language) == (
                raw_row["user_login"], raw_row["viewer_count"], raw_row["game_id"],
                raw_row["language"],
            )  # fmt: skip
            assert (row.game_rank, row.language_rank) == (
                raw_row["game_rank"], raw_row["language_rank"]
            )  # fmt: skip
            assert row.started_at == pd.Timestamp(raw_row["started_at"])
            assert row.tags == raw_row["tags"]
    assert read_channel_history(store.db, "no-such-user", FROZEN_AT, next_day).empty

    # The first day's per-channel summaries (kept for ever) and the second day's computed
    # from its slot: equal to a computation over the raw listing. Each slot stands for
    # one hour (the cadence's 30 minutes, stretched to its 60-minute gap limit), the
    # second day's only slot for 30 minutes.
    minutes = {FROZEN_AT: 60, later: 60, next_day: 30}
    for user_id in (small, max(everywhere), next(iter(set(by_slot[later].index) - everywhere))):
        days = read_channel_days(store.db, user_id, FROZEN_AT, next_day + timedelta(days=1))
        day_slots = [
            [s for s in slots if user_id in by_slot[s].index]
            for slots in ([FROZEN_AT, later], [next_day])
        ]
        assert days["day"].tolist() == [pd.Timestamp(day_of(s[0])) for s in day_slots if s]
        for row, slots in zip(days.itertuples(), [s for s in day_slots if s], strict=True):
            listed = [(s, by_slot[s].loc[user_id]) for s in slots]
            live = sum(minutes[s] for s, _ in listed)
            assert row.hours_live == live / 60
            watched = sum(minutes[s] * r["viewer_count"] for s, r in listed)
            assert row.avg_viewers == pytest.approx(watched / live)
            assert row.peak_viewers == max(r["viewer_count"] for _, r in listed)
            assert row.best_game_rank == min(r["game_rank"] for _, r in listed)
            per_game: dict[str, int] = {}
            for s, r in listed:
                per_game[r["game_id"]] = per_game.get(r["game_id"], 0) + minutes[s]
            assert row.game_id == min(per_game, key=lambda g: (-per_game[g], g))
    assert read_channel_days(store.db, "no-such-user", FROZEN_AT, next_day).empty
    assert read_last_seen(store.db, small, next_day + timedelta(days=9)) == day_of(next_day)
    assert read_last_seen(store.db, small, next_day) == day_of(FROZEN_AT)
    assert read_last_seen(store.db, small, FROZEN_AT) is None

    # The login directory: the first day's channels from its grams, the second day's
    # new ones appended after their slot (not indexed yet); any part of a login finds it.
    directory = ChannelDirectory(store.db)
    assert f"{next_day:%Y-%m-%d}" in directory.state()["days"] and directory.unindexed() > 0
    for user_id in (
        small,
        next(
            iter(
                set(by_slot[next_day].index)
                - set(by_slot[FROZEN_AT].index)
                - set(by_slot[later].index)
            )
        ),
    ):
        slot = next(s for s, e in by_slot.items() if user_id in e.index)
        login = by_slot[slot].loc[user_id, "user_login"]
        for part in (login, login[1:-1], login.upper()):
            hits = search_channels(store.db, part, limit=500)
            assert user_id in [h.user_id for h in hits], part
        assert search_channels(store.db, login)[0].login == login  # exact match first
    assert search_channels(store.db, "zz-never-seen-zz") == []


@pytest.mark.integration
def test_a_limited_search_returns_what_ranking_every_entry_would(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks, so candidates spread over many chunks read a few at a time; logins
    # from three letters, so each query has exact, starting and containing matches.
    monkeypatch.setattr("store._channel_directory.ENTRY_CHUNK", 64)
    rng = np.random.default_rng(4)
    entries = []
    for i in range(1500):
        login = "".join(rng.choice(list("abc"), int(rng.integers(2, 8))))
        entries.append((str(i), login, login.upper() if i % 3 else f"x{login}"))
    directory = ChannelDirectory(store.db)
    # Gram lists as written before name-start keys existed, and the newest entries
    # appended without grams, as between two indexings.
    with monkeypatch.context() as before_prefixes:
        before_prefixes.setattr("store._channel_directory.prefixes", lambda text: set())
        directory.add(day_of(SLOT), entries[:1000])
    store.db[schema.CHANNEL_DIRECTORY].update_one({"_id": "state"}, {"$unset": {"prefixes": ""}})
    directory.append(day_of(SLOT), entries[1000:])
    assert directory.unindexed() > 0
    stored = [(e.user_id, e.login, e.name) for c in range(24) for e in directory.entries(c)]
    assert len(stored) == len(set(stored))  # the listing, in entry order

    def rank(login: str, name: str, query: str) -> int | None:
        names = (login, name.casefold())
        if query in names:
            return 0
        if any(n.startswith(query) for n in names):
            return 1
        # Two characters have no trigram to look anywhere but at a name's start.
        return 2 if len(query) > 2 and any(query in n for n in names) else None

    for indexing in ("older lists, some appended since", "all indexed with name starts"):
        if indexing == "all indexed with name starts":
            assert directory.index() == len(stored)  # every entry's keys written again
            assert directory.unindexed() == 0 and directory.state()["prefixes"] == PREFIX
        for query in ("ab", "abc", "cab", "bca", "aaa", "aaaa", "abcab", "cc", "bcb", "abcabca"):
            for limit in (1, 3, 7, 12, 20, 40, 90, 2000):
                every = [
                    (r, i, e[1])
                    for i, e in enumerate(stored)
                    if (r := rank(e[1], e[2], query)) is not None
                ]
                expected = [login for _, _, login in sorted(every)[:limit]]
                got = [e.login for e in directory.search(query, limit)]
                assert got == expected, (indexing, query, limit)
            exact = [e[1] for e in stored if rank(e[1], e[2], query) == 0]
            assert [e.login for e in directory.search(query, 5000, exact=True)] == exact


def test_chunks_read_back_whole_a_torn_rewrite_is_refused_and_old_days_are_pruned(
    store: Store,
) -> None:
    writer = ChannelWriter(store.db)
    day_one = [stream(f"c{i}", 10 - i, game=f"g{i % 2}") for i in range(5)]
    written = writer.write(ChannelListing.from_streams(SLOT, day_one))
    assert written.chunk_ids == [channel_slot_id(SLOT, g) for g in range(GROUPS)]
    assert len(written.names_ids) == GROUPS
    listing = read_channel_listing(store.db, SLOT)
    assert listing["login"].tolist() == [f"c{i}" for i in range(5)]
    assert listing["game_rank"].tolist() == [1, 1, 2, 2, 3]
    # The channels spread over several groups, each group's rows in their own chunk.
    assert len({channel_group(s["user_id"]) for s in day_one}) > 1

    # A rewrite that died after its first chunks: one group's chunk is the old write's.
    later = ChannelListing.from_streams(SLOT, day_one[:3])
    ChannelWriter(store.db).write(later)
    assert len(read_channel_listing(store.db, SLOT)) == 3
    old_group = channel_group(day_one[4]["user_id"])
    store.db[day_collection(schema.CHANNEL_SLOTS, SLOT, old_group)].update_one(
        {"_id": channel_slot_id(SLOT, old_group)},
        {"$set": {"written_at": datetime(2020, 1, 1, tzinfo=UTC)}},
    )
    assert read_channel_listing(store.db, SLOT).empty  # chunks of two writes: not mixed

    next_day = SLOT + timedelta(days=1)
    writer.write(ChannelListing.from_streams(next_day, day_one[:1]))
    assert store.prune_channel_slots(next_day - timedelta(hours=1)) == 1
    assert read_channel_listing(store.db, SLOT).empty
    assert read_day_channels(store.db, SLOT).parts == 0
    assert read_channel_listing(store.db, next_day)["login"].tolist() == ["c0"]
    assert read_channels_state(store.db).days() == [day_of(next_day)]
    for base in (schema.CHANNEL_SLOTS, schema.CHANNEL_NAMES):
        assert stored_channel_days(store.db, base) == [day_of(next_day)]


@pytest.mark.integration
def test_a_day_written_before_names_and_rows_were_grouped_reads_back_the_same(
    store: Store,
) -> None:
    later = SLOT + timedelta(minutes=30)
    first = [stream(f"c{i}", 20 - i, game=f"g{i % 3}") for i in range(12)]
    second = [stream(f"c{i}", 3 + i, game="g9", language="de") for i in range(4, 16)]
    for slot, streams in ((SLOT, first), (later, second)):
        store.channels.write(ChannelListing.from_streams(slot, streams))
    end = SLOT + timedelta(days=1)
    users = [f"id-c{i}" for i in (0, 5, 15)]

    def everything() -> list[Any]:
        return [
            *(read_channel_listing(store.db, s) for s in (SLOT, later)),
            *(read_channel_history(store.db, u, day_of(SLOT), end) for u in users),
            *(read_channel_days(store.db, u, day_of(SLOT), end) for u in users),
            [e.login for e in search_channels(store.db, "c1", 50)],
        ]

    grouped = everything()
    assert [len(h) for h in grouped[2:5]] == [1, 2, 1]
    # The older layout: one collection a day; one names document a part (no day indexes,
    # no groups), and chunks without stored ranks.
    legacy_names = store.db[day_collection(schema.CHANNEL_NAMES, SLOT, None)]
    for part in range(2):
        documents = [
            store.db[day_collection(schema.CHANNEL_NAMES, SLOT, g)].find_one(
                {"_id": channel_names_id(SLOT, part, g)}
            )
            for g in range(GROUPS)
        ]
        entries = sorted(e for d in documents for e in names_entries(d))  # type: ignore[arg-type]
        text = join_names(
            [f for e in entries for f in (e.user_id, e.login, e.name, *e.values.values())]
        )
        legacy_names.insert_one(
            {
                "_id": channel_names_id(SLOT, part, None),
                "day": day_of(SLOT),
                "part": part,
                "first": entries[0].index,
                "count": len(entries),
                "channels": zlib.compress(text.encode()),
                "started_at": pack_planes(
                    np.array([e.started_at for e in entries]), np.dtype("<i8")
                ),
            }
        )
    legacy_slots = store.db[day_collection(schema.CHANNEL_SLOTS, SLOT, None)]
    for g in range(GROUPS):
        for base, legacy in ((schema.CHANNEL_SLOTS, legacy_slots), (schema.CHANNEL_NAMES, None)):
            collection = store.db[day_collection(base, SLOT, g)]
            if legacy is not None:
                for chunk in collection.find():
                    chunk.pop("game_rank"), chunk.pop("language_rank")
                    legacy.insert_one(chunk)
            collection.drop()
    assert legacy_slots.count_documents({}) == 2 * GROUPS
    again = everything()
    for before, after in zip(grouped, again, strict=True):
        if isinstance(before, pd.DataFrame):
            pd.testing.assert_frame_equal(before, after)
        else:
            assert before == after


@pytest.mark.integration
def test_a_channel_that_changes_game_language_and_tags_within_a_day_reads_back_each_slot(
    store: Store,
) -> None:
    first = [stream("a", 5, game="g1"), stream("b", 3, game="g1")]
    later = SLOT + timedelta(minutes=30)
    second = [
        stream("a", 7, game="g9", language="de", tags=["Deutsch", "Speedrun"]),
        stream("b", 3, game="g1", started_at=later),  # a new session
        stream("c", 1, game="g9"),
    ]
    for slot, streams in ((SLOT, first), (later, second)):
        store.channels.write(ChannelListing.from_streams(slot, streams))
    one = read_channel_listing(store.db, SLOT).set_index("login")
    two = read_channel_listing(store.db, later).set_index("login")
    assert one.loc["a", "game_id"] == "g1" and one.loc["a", "tags"] == ["English"]
    assert two.loc["a", ["game_id", "language"]].tolist() == ["g9", "de"]
    assert two.loc["a", "tags"] == ["Deutsch", "Speedrun"]
    assert two.loc["b", "started_at"] == pd.Timestamp(later)
    assert one.loc["b", "started_at"] == pd.Timestamp(SLOT - timedelta(hours=1))
    assert two["game_rank"].to_dict() == {"a": 1, "b": 1, "c": 2}
    assert read_day_channels(store.db, SLOT).parts == 2


@pytest.mark.integration
def test_a_regrouped_day_drops_its_chunks_and_a_slot_written_later_is_merged_not_lost(
    store: Store,
) -> None:
    later, last = SLOT + timedelta(minutes=30), SLOT + timedelta(hours=5)
    first = [stream(f"c{i}", 20 - i, game=f"g{i % 3}", tags=[f"t{i}"]) for i in range(12)]
    second = [stream(f"c{i}", 3 + i, game="g9", language="de") for i in range(4, 16)]
    for slot, streams in ((SLOT, first), (later, second)):
        store.channels.write(ChannelListing.from_streams(slot, streams))
    before = {s: read_channel_listing(store.db, s) for s in (SLOT, later)}
    history = read_channel_history(store.db, "id-c5", day_of(SLOT), SLOT + timedelta(days=1))

    store.channels.compact(SLOT + timedelta(days=1))
    for base in (schema.CHANNEL_SLOTS, schema.CHANNEL_NAMES):
        assert stored_channel_days(store.db, base) == []  # channel_days holds every row
    for slot, listing in before.items():
        pd.testing.assert_frame_equal(read_channel_listing(store.db, slot), listing)
    end = SLOT + timedelta(days=1)
    pd.testing.assert_frame_equal(
        read_channel_history(store.db, "id-c5", day_of(SLOT), end), history
    )

    # A slot of the regrouped day rewritten (a replay), and one written late: the next
    # regrouping takes them from their chunks and the untouched slot from channel_days.
    rewritten = [stream("c5", 40, game="g1"), stream("new", 2, game="g1")]
    store.channels.write(ChannelListing.from_streams(later, rewritten))
    store.channels.write(ChannelListing.from_streams(last, first[:2]))
    assert not read_channels_state(store.db).is_compacted(SLOT)
    store.channels.compact(SLOT + timedelta(days=1))
    assert read_channels_state(store.db).is_compacted(SLOT)
    pd.testing.assert_frame_equal(read_channel_listing(store.db, SLOT), before[SLOT])
    assert read_channel_listing(store.db, later)["login"].tolist() == ["c5", "new"]
    assert read_channel_listing(store.db, later)["game_rank"].tolist() == [1, 2]
    assert read_channel_listing(store.db, last)["login"].tolist() == ["c0", "c1"]
    merged = read_channel_history(store.db, "id-c5", day_of(SLOT), end)
    assert merged["slot"].tolist() == [pd.Timestamp(SLOT), pd.Timestamp(later)]
    assert merged["viewers"].tolist() == [15, 40]
    assert merged["tags"].tolist() == [["t5"], ["English"]]
    days = read_channel_days(store.db, "id-new", day_of(SLOT), end)
    assert days["peak_viewers"].tolist() == [2]
    assert search_channels(store.db, "new", exact=True)[0].user_id == "id-new"


@pytest.mark.integration
def test_the_login_directory_finds_any_part_of_a_name_ranks_exact_first_and_never_repeats(
    store: Store,
) -> None:
    directory = ChannelDirectory(store.db)
    day = day_of(SLOT)
    first = [
        ("1", "ab", "AB"),
        ("2", "abba_fan", "AbbaFan"),
        ("3", "xx_ab_xx", "<b>Ab</b> &amp;"),
        ("4", "kr_streamer", "한국어방송"),
    ]
    assert len(directory.add(day, first)) == 4
    # Again, in a new process, with one channel renamed: only the rename is new.
    again = ChannelDirectory(store.db)
    added = again.add(day + timedelta(days=1), [*first, ("2", "abba_fan2", "AbbaFan2")])
    assert [(e.user_id, e.login, e.first_seen) for e in added] == [
        ("2", "abba_fan2", day + timedelta(days=1))
    ]
    assert [e.login for e in again.search("ab", 10)] == ["ab", "abba_fan", "abba_fan2"]
    assert [e.login for e in again.search("AB_", 10)] == ["xx_ab_xx"]
    assert [e.login for e in again.search("abba", 10)] == ["abba_fan", "abba_fan2"]
    assert [e.login for e in again.search("<b>ab", 10)] == ["xx_ab_xx"]  # markup is text
    assert [e.login for e in again.search("국어방", 10)] == ["kr_streamer"]
    assert [e.login for e in again.search("a", 10)] == []  # one character: too short
    assert again.search("fan2", 1)[0].first_seen == day + timedelta(days=1)
    many = [(str(100 + i), f"ab{i:04d}", f"ab{i:04d}") for i in range(5000)]
    again.add(day + timedelta(days=2), many)  # a second chunk of entries
    assert [e.login for e in again.search("ab4999", 5)] == ["ab4999"]
    assert again.search("ab", 3)[0].login == "ab"


def test_names_compressed_in_two_threads_are_the_bytes_compressed_one_by_one() -> None:
    rng = np.random.default_rng(3)
    words = [f"login{i}\x1fName{i}\x1f{rng.integers(10**8)}" for i in range(60_000)]
    texts = [("\x1f".join(words[i::6])).encode() for i in range(6)]
    assert sum(map(len, texts)) >= PARALLEL_BYTES  # the threaded path
    assert [bytes(b) for b in compressed(texts)] == [zlib.compress(t, 6) for t in texts]
    few = [t[:1000] for t in texts]  # under the threshold: one by one
    assert [bytes(b) for b in compressed(few)] == [zlib.compress(t, 6) for t in few]
