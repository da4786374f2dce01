"""Per-channel listing benchmark; writes its section of docs/benchmarks.md.

    .venv/bin/python bench/channels.py              # a whole day, 48 slots (about 4 minutes)
    .venv/bin/python bench/channels.py --slots 6    # smaller, for a smoke test

Takes the emulator's Twitch-sized market (550,000 channels, 40,000–103,000 live over the
day) at each slot of one UTC day, builds each slot's `ChannelListing` (one row per live
channel, directory ranks included) as the collector does, and writes it with the store's
`ChannelWriter` into a private FerretDB: the day's new channel names, then the slot's
packed chunks, then adds the slot's new channels to the login directory (as the collector
does after each slot). Reports the write time per slot and the bytes stored per slot and per day,
compressed (the BSON documents as stored) and raw (the same columns and names unpacked).
Then regroups the day by channel (`channel_days`, what the collector does once a day is
over), copies those documents to the 34 days before it (35 days, as `CHANNEL_SLOTS_DAYS`
keeps), and times `read_channel_history` of 40 channels of the day over all 35 days.
The regrouping also summarises the day per channel and adds its channels to the login
directory; the summaries are then repeated over 365 days (each month's documents holding
every day of the month, as a year of the same market would), and a channel page's reads
at 365 days (its login, 35 days of slots, 365 days of summaries) and login searches by
part of a name are timed, nothing cached.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import bson
import numpy as np
import pandas as pd
from pymongo.database import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, write_section
from emulator.config import EmulatorSettings
from emulator.market import Market
from store import (
    ALL_LANGUAGES,
    BUCKETS,
    GROUPS,
    INDEX_AFTER,
    ChannelListing,
    ChannelsState,
    ChannelSummaryDocument,
    ChannelWrite,
    DayChannels,
    DirectoryCounts,
    LocalFerretDB,
    Store,
    StreamDocument,
    channel_day_collection,
    channel_day_id,
    channel_summary_id,
    day_collection,
    decode_month,
    directory_totals,
    month_collection,
    month_document,
    read_channel_days,
    read_channel_history,
    read_day_channels,
    read_directory_counts,
    schema,
    search_channels,
    summary_collection,
    write_directory_counts,
)

DAY = datetime(2026, 11, 23, tzinfo=UTC)
_ROW_BYTES = 6 * 4  # six int32 columns a row


def stream_documents(market: Market, slot: datetime) -> list[StreamDocument]:
    """The market's live streams at `slot`, as the collector's stream documents."""
    records = market.table(slot.timestamp()).records
    return [
        {
            "_id": r["id"],
            "slot": slot,
            "stream_id": r["id"],
            "rank": rank,
            "user_id": r["user_id"],
            "user_login": r["user_login"],
            "user_name": r["user_name"],
            "game_id": r["game_id"],
            "game_name": r["game_name"],
            "language": r["language"],
            "title": r["title"],
            "viewer_count": r["viewer_count"],
            "started_at": datetime.fromisoformat(r["started_at"]),
            "tags": r["tags"],
            "is_mature": False,
            "thumbnail_url": "",
        }
        for rank, r in enumerate(records, 1)
    ]


def stored_bytes(db: Database[dict[str, Any]], written: ChannelWrite) -> tuple[int, int]:
    """BSON bytes of a write's chunks and names part, and the raw bytes of the same data
    unpacked."""
    documents = [
        db[day_collection(schema.CHANNEL_SLOTS, DAY, g)].find_one({"_id": i}) or {}
        for g, i in enumerate(written.chunk_ids)
    ]
    compressed = sum(len(bson.encode(d)) for d in documents)
    raw = sum(
        d["rows"] * _ROW_BYTES + len(d["game_ids"]) + len(d["languages"]) + len(d["tag_sets"])
        for d in documents
    )
    for group, names_id in enumerate(written.names_ids):
        part = (
            db[day_collection(schema.CHANNEL_NAMES, DAY, group)].find_one({"_id": names_id}) or {}
        )
        compressed += len(bson.encode(part))
        raw += len(zlib.decompress(part["channels"])) + 12 * part["count"]
    return compressed, raw


def month_of_reads(store: Store, names: DayChannels, rng: np.random.Generator) -> list[float]:
    """Seconds of `read_channel_history` over 35 regrouped days, one per channel asked."""
    documents = [
        d
        for group in range(GROUPS)
        for d in store.db[day_collection(schema.CHANNEL_DAYS, DAY, group)].find()
    ]
    marks: dict[str, Any] = {}
    for back in range(1, 35):
        day = DAY - timedelta(days=back)
        copies = [{**d, "_id": channel_day_id(day, d["bucket"]), "day": day} for d in documents]
        for copy in copies:
            store.db[channel_day_collection(day, copy["bucket"])].insert_one(copy)
        marks[ChannelsState.slot_field(day)] = DAY
        marks[ChannelsState.compacted_field(day)] = DAY
    store.db[schema.META].update_one({"_id": ChannelsState.ID}, {"$set": marks})
    asked = rng.choice(len(names.user_ids), size=40, replace=False)
    seconds = []
    for index in asked:
        started = time.perf_counter()
        history = read_channel_history(
            store.db, names.user_ids[index], DAY - timedelta(days=34), DAY + timedelta(days=1)
        )
        seconds.append(time.perf_counter() - started)
        assert len(history) >= 35  # seen on the day, so on each of its copies
    return seconds


def year_of_summaries(store: Store) -> int:
    """Fill 12 months of `channel_summaries` from the day's: every day of each month holds
    the day's rows. Returns the bytes stored."""
    month = DAY.replace(day=1)
    total = 0
    for bucket in range(BUCKETS):
        found = store.db[summary_collection(month, bucket)].find_one(
            {"_id": channel_summary_id(month, bucket)}
        )
        day_rows = decode_month(cast(ChannelSummaryDocument, found))
        for back in range(12):
            first = (month - timedelta(days=31 * back)).replace(day=1)
            days = [d for d in range(1, 32) if (first + timedelta(days=d - 1)).month == first.month]
            rows = pd.concat([day_rows.assign(day=d) for d in days], ignore_index=True)
            rows = rows.sort_values(["user_id", "day"], kind="stable", ignore_index=True)
            document = month_document(first, bucket, rows, DAY, schema.SCHEMA_VERSION)
            total += len(bson.encode(document))
            collection = store.db[summary_collection(first, bucket)]
            collection.replace_one({"_id": document["_id"]}, document, upsert=True)
    return total


def page_reads(
    store: Store, names: DayChannels, rng: np.random.Generator
) -> tuple[list[float], list[float]]:
    """Seconds of a channel page's reads at 365 days (40 channels) and of login searches
    by a part of a login (40 searches)."""
    pages, searches = [], []
    for index in rng.choice(len(names.user_ids), size=40, replace=False):
        login = names.logins[index]
        started = time.perf_counter()
        found = [e for e in search_channels(store.db, login, 50, exact=True) if e.login == login]
        user_id = found[0].user_id
        slots = read_channel_history(
            store.db, user_id, DAY - timedelta(days=34), DAY + timedelta(days=1)
        )
        days = read_channel_days(
            store.db, user_id, DAY - timedelta(days=364), DAY + timedelta(days=1)
        )
        pages.append(time.perf_counter() - started)
        assert len(slots) >= 35 and len(days) >= 300
    for index in rng.choice(len(names.user_ids), size=40, replace=False):
        login = names.logins[index]
        start = int(rng.integers(0, max(1, len(login) - 4)))
        part = login[start : start + 4]
        started = time.perf_counter()
        hits = search_channels(store.db, part, 20)
        searches.append(time.perf_counter() - started)
        assert hits and all(part in h.login or part in h.name.casefold() for h in hits)
    return pages, searches


def today_reads(store: Store, rng: np.random.Generator) -> tuple[list[float], list[float]]:
    """Seconds of a channel page's reads of the day so far (its slots not regrouped yet:
    exact login, the day's slots and the day's summary; 40 channels) and of login searches
    by 4 characters (40), nothing cached."""
    names = read_day_channels(store.db, DAY)
    end = DAY + timedelta(days=1)
    pages, searches = [], []
    for index in rng.choice(len(names.user_ids), size=40, replace=False):
        login = names.logins[index]
        started = time.perf_counter()
        found = [e for e in search_channels(store.db, login, 50, exact=True) if e.login == login]
        slots = read_channel_history(store.db, found[0].user_id, DAY, end)
        days = read_channel_days(store.db, found[0].user_id, DAY, end)
        pages.append(time.perf_counter() - started)
        assert len(slots) >= 1 and len(days) == 1
    for index in rng.choice(len(names.user_ids), size=40, replace=False):
        login = names.logins[index]
        start = int(rng.integers(0, max(1, len(login) - 4)))
        started = time.perf_counter()
        hits = search_channels(store.db, login[start : start + 4], 20)
        searches.append(time.perf_counter() - started)
        assert hits
    return pages, searches


def directory_count_reads(db: Database[dict[str, Any]]) -> tuple[int, dict[str, float]]:
    """The day's directory counts' size; then, the day copied to the 29 days before it,
    how long 30 days take to read (nothing cached)."""
    collection = day_collection(schema.DIRECTORY_COUNTS, DAY, None)
    documents = list(db[collection].find())
    size = sum(len(bson.encode(d)) for d in documents)
    for back in range(1, 30):
        shift = timedelta(days=back)
        for document in documents:
            day = DirectoryCounts.from_document(document)
            moved = DirectoryCounts(
                day.day - shift, day.language, [s - shift for s in day.slots],
                day.game_ids, day.counts,
            )  # fmt: skip
            db[day_collection(schema.DIRECTORY_COUNTS, DAY - shift, None)].insert_one(
                moved.to_document()
            )
    start, end = DAY - timedelta(days=29), DAY + timedelta(days=1)
    seconds = {}
    for language in (ALL_LANGUAGES, "en", "de"):
        began = time.perf_counter()
        directory_totals(db, start, end, language)
        seconds[language] = time.perf_counter() - began
    began = time.perf_counter()
    list(read_directory_counts(db, start, end, "en"))
    seconds["slots"] = time.perf_counter() - began
    return size, seconds


def worker_start(store: Store, names: DayChannels, rng: np.random.Generator) -> dict[str, Any]:
    """A dashboard worker's cold start at 365 days of market history (`bench/dashboard.py`'s
    year, written first when absent) with this run's channel data copied in beside it
    (35 days of `channel_days`, a year of summaries, the login directory), serving every
    page and the Streamer pages of three channels of the day."""
    from bench.common import ROOT
    from bench.dashboard import cold_start, fill

    folder = ROOT / "bench" / "out" / "ferretdb-history-90-365d"
    fresh = not folder.exists()
    year = LocalFerretDB(folder)
    year.start()
    try:
        if fresh:
            fill(year.uri, [90, 365])
        target = Store(year.uri, "bench_365d", timeout_ms=600_000)
        copied = 0
        kept = (schema.CHANNEL_NAMES, schema.CHANNEL_SLOTS)  # none once the day is regrouped
        for name in store.db.list_collection_names():
            if not name.startswith("channel") or name.startswith(kept):
                continue
            target.db.drop_collection(name)
            batch: list[dict[str, Any]] = []
            for document in store.db[name].find():
                batch.append(document)
                copied += len(bson.encode(document))
                if len(batch) == 64:
                    target.db[name].insert_many(batch)
                    batch = []
            if batch:
                target.db[name].insert_many(batch)
        state = store.db[schema.META].find_one({"_id": ChannelsState.ID})
        target.db[schema.META].replace_one({"_id": ChannelsState.ID}, state, upsert=True)
        target.close()
        logins = [names.logins[i] for i in rng.choice(len(names.logins), 3, replace=False)]
        started = cold_start(year.uri, "bench_365d", channels=logins)
    finally:
        year.stop()
    return {**started, "copied_mb": copied / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=48)
    args = parser.parse_args()
    command = "  .venv/bin/python bench/channels.py" + (
        f" --slots {args.slots}" if args.slots != 48 else ""
    )
    market = Market(EmulatorSettings(_env_file=None))  # type: ignore[call-arg]
    builds, writes, feeds, rows, compressed, raw = [], [], [], [], [], []
    counts_writes: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = LocalFerretDB(Path(tmp) / "ferretdb")
        db.start()
        try:
            store = Store(db.uri, "bench_channels")
            for i in range(args.slots):
                slot = DAY + timedelta(minutes=30 * i)
                streams = stream_documents(market, slot)
                started = time.perf_counter()
                listing = ChannelListing.from_streams(slot, streams)
                builds.append(time.perf_counter() - started)
                started = time.perf_counter()
                written = store.channels.write(listing)
                writes.append(time.perf_counter() - started)
                started = time.perf_counter()
                write_directory_counts(store.db, listing)
                counts_writes.append(time.perf_counter() - started)
                # What the collector does next: regroup the days that are over (none
                # here) and add the slot's new channels to the login directory.
                started = time.perf_counter()
                store.channels.compact(slot)
                feeds.append(time.perf_counter() - started)
                size, unpacked = stored_bytes(store.db, written)
                rows.append(len(listing))
                compressed.append(size)
                raw.append(unpacked)
                print(f"{slot:%H:%M} {len(listing):>7,} channels  build {builds[-1]:.2f} s  "
                      f"write {writes[-1]:.2f} s  directory {feeds[-1]:.2f} s  "
                      f"{size / 2**20:.2f} MB")  # fmt: skip
            pages_today, searches_today = today_reads(store, np.random.default_rng(13))
            names = read_day_channels(store.db, DAY)  # the regrouping drops them
            kept_before = sum(
                len(bson.encode(d))
                for name in store.db.list_collection_names()
                if name.startswith((schema.CHANNEL_SLOTS, schema.CHANNEL_NAMES))
                for d in store.db[name].find()
            )
            started = time.perf_counter()
            store.channels.compact(DAY + timedelta(days=1))
            compact_seconds = time.perf_counter() - started
            day_bytes = sum(
                len(bson.encode(d))
                for group in range(GROUPS)
                for d in store.db[day_collection(schema.CHANNEL_DAYS, DAY, group)].find()
            )
            reads = month_of_reads(store, names, np.random.default_rng(11))
            directory_entries = store.channels.directory.state()["entries"]
            directory_bytes = sum(
                len(bson.encode(d))
                for name in store.db.list_collection_names()
                if name.startswith(schema.CHANNEL_DIRECTORY)
                for d in store.db[name].find()
            )
            summary_day_bytes = sum(
                len(bson.encode(d))
                for group in range(GROUPS)
                for d in store.db[month_collection(schema.CHANNEL_SUMMARIES, DAY, group)].find()
            )
            started = time.perf_counter()
            year_bytes = year_of_summaries(store)
            year_seconds = time.perf_counter() - started
            pages, searches = page_reads(store, names, np.random.default_rng(12))
            counts_bytes, counts_reads = directory_count_reads(store.db)
            start = worker_start(store, names, np.random.default_rng(14))
            store.close()
        finally:
            db.stop()
    per_day = 48 / args.slots
    report = f"""## Every channel per slot (`bench/channels.py`)

{machine()}. Command:

{command}

The emulator's market (550,000 channels) at {args.slots} slots of {DAY:%Y-%m-%d} (every 30
minutes from 00:00 UTC): {min(rows):,}–{max(rows):,} live channels a slot. Each slot's
whole listing is built into a `ChannelListing` (directory ranks included) and written by
`ChannelWriter` to FerretDB (the day's new channel names, then the packed chunks).

| figure | value |
|---|---|
| write per slot (FerretDB), median / p95 / max | {statistics.median(writes):.2f} s / {float(np.percentile(writes, 95)):.2f} s / {max(writes):.2f} s (target ≤ 1 s) |
| after each write: adding the slot's new channels to the login directory (their grams every {INDEX_AFTER:,} entries), median / max | {statistics.median(feeds):.2f} s / {max(feeds):.2f} s |
| building the listing per slot (collector CPU), median / max | {statistics.median(builds):.2f} s / {max(builds):.2f} s |
| stored per slot, compressed (BSON), median / max | {statistics.median(compressed) / 2**20:.2f} MB / {max(compressed) / 2**20:.2f} MB |
| raw per slot (columns and names unpacked), median | {statistics.median(raw) / 2**20:.2f} MB |
| slot chunks and names written over the day, compressed{" (scaled from the slots taken)" if args.slots != 48 else ""} | {sum(compressed) * per_day / 2**20:.1f} MB |
| raw per day | {sum(raw) * per_day / 2**20:.1f} MB |
| bytes per listed channel row, compressed | {sum(compressed) / sum(rows):.1f} |
| regrouping the day by channel (`channel_days`), summarising it and adding its channels to the directory (once a day) | {compact_seconds:.1f} s; `channel_days` {day_bytes / 2**20:.1f} MB |
| the day's summaries (`channel_summaries`, kept for ever) | {summary_day_bytes / 2**20:.1f} MB a day alone; a year of 30-day months {year_bytes / 2**20:.0f} MB (written in {year_seconds:.0f} s) |
| login directory after the day | {directory_entries:,} entries, {directory_bytes / 2**20:.1f} MB |
| kept per day for `CHANNEL_SLOTS_DAYS` (`channel_days`; the slot chunks and names are dropped once the day is regrouped) | {day_bytes / 2**20:.1f} MB (target ≤ 20 MB); the day in progress also holds its slot chunks and names, {kept_before * per_day / 2**20:.1f} MB at its end{" (scaled)" if args.slots != 48 else ""} |
| directory counts (per slot, game and language: live channels by viewers), written after each slot, median / p95 / max | {statistics.median(counts_writes):.2f} s / {float(np.percentile(counts_writes, 95)):.2f} s / {max(counts_writes):.2f} s; {counts_bytes / 2**20:.1f} MB a day{" (the slots taken)" if args.slots != 48 else ""} |
| 30 days of directory counts (the day copied to 30 days), cold: summed over the window, all languages / English / German; per slot for English (a position heat map's input) | {" / ".join(f"{counts_reads[k] * 1000:.0f} ms" for k in ("*", "en", "de"))}; {counts_reads["slots"] * 1000:.0f} ms |
| a channel page's reads during the day, its slots not regrouped yet (exact login, the day's slots, the day's summary; 40 channels), median / p95 / max | {statistics.median(pages_today) * 1000:.0f} ms / {float(np.percentile(pages_today, 95)) * 1000:.0f} ms / {max(pages_today) * 1000:.0f} ms |
| login search by 4 characters during the day (the day's channels appended to the directory, not all indexed; 40 searches), median / p95 / max | {statistics.median(searches_today) * 1000:.0f} ms / {float(np.percentile(searches_today, 95)) * 1000:.0f} ms / {max(searches_today) * 1000:.0f} ms |
| a channel page's reads at 365 days (exact login, 35 days of slots, 365 days of summaries; 40 channels, nothing cached), median / p95 / max | {statistics.median(pages) * 1000:.0f} ms / {float(np.percentile(pages, 95)) * 1000:.0f} ms / {max(pages) * 1000:.0f} ms (target p95 < 1 s) |
| login search by 4 characters of a login (40 searches), median / p95 / max | {statistics.median(searches) * 1000:.0f} ms / {float(np.percentile(searches, 95)) * 1000:.0f} ms / {max(searches) * 1000:.0f} ms (target < 300 ms) |
| one channel's 35 days (`read_channel_history`, 40 channels, nothing cached), median / p95 / max | {statistics.median(reads) * 1000:.0f} ms / {float(np.percentile(reads, 95)) * 1000:.0f} ms / {max(reads) * 1000:.0f} ms |
| a dashboard worker's cold start at 365 days of market history (`bench/dashboard.py`'s) with this channel data beside it ({start["copied_mb"]:.0f} MB: 35 days of `channel_days`, a year of summaries, the login directory): history loaded / every page and three channels' Streamer pages served; RSS / peak RSS | {start["loaded"]:.1f} s / {start["served"]:.1f} s; {start["rss_mb"]:.0f} MB / {start["peak_rss_mb"]:.0f} MB (target < 15 s, < 400 MB: {"met" if start["served"] < 15 and start["peak_rss_mb"] < 400 else "not met"}) |
"""
    print(report)
    write_section("channels", report)


if __name__ == "__main__":
    main()
