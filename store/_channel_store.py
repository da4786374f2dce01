"""Writing and reading the per-channel listing (`store._channels`): `channel_names` parts
and `channel_slots` chunks, regrouped by channel once a day is over (`channel_days`),
always by `_id` (FerretDB v1 scans for anything else)."""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd
from pymongo import errors as mongo_errors
from pymongo.database import Database

from slots import DEFAULT_CADENCE, Cadence, day_key, day_of, days_between, slot_key
from store import schema
from store._channel_days import (
    ChannelDay,
    ChannelDayDocument,
    DayRows,
    channel_day_documents,
)
from store._channel_directory import ChannelDirectory, DirectoryEntry, rank_matches
from store._channel_summaries import (
    ChannelSummaryDocument,
    day_summaries,
    decode_month,
    merge_month,
    month_document,
    slot_minutes,
    summary_collection,
    tags_of,
)
from store._channel_weeks import update_weeks
from store._channels import (
    TAG_SEPARATOR,
    ChannelListing,
    ChannelNamesDocument,
    ChannelSlotDocument,
    DayChannels,
    NamesEntry,
    SlotRows,
    ValueTable,
    channel_bucket,
    channel_group,
    names_entries,
    slot_documents,
)
from store._packing import split_names, unpack_planes
from store._partitions import (
    BUCKETS,
    DAY_PATTERN,
    GROUPS,
    MONTH_PATTERN,
    bucket_group,
    day_collection,
)
from store._reads import read_each
from store._records import (
    ChannelsState,
    channel_day_id,
    channel_names_id,
    channel_slot_id,
    channel_summary_id,
)

log = logging.getLogger(__name__)

Document = dict[str, Any]
_I32 = np.dtype("<i4")
# Entries appended to the login directory before their grams are written: more would
# make each search read more of them whole, fewer would rewrite the gram lists oftener.
INDEX_AFTER = 65_536


def channel_day_collection(day: datetime, bucket: int) -> str:
    """The `channel_days` collection holding a day's bucket."""
    return day_collection(schema.CHANNEL_DAYS, day, bucket_group(bucket))


def stored_channel_days(db: Database[Document], base: str) -> list[datetime]:
    """The days that have a `base` collection, oldest first."""
    pattern = re.compile(f"^{base}{DAY_PATTERN}")
    found = (pattern.match(name) for name in db.list_collection_names())
    return sorted({datetime.strptime(m[1], "%Y%m%d").replace(tzinfo=UTC) for m in found if m})


def read_day_channels(db: Database[Document], day: datetime) -> DayChannels:
    """Every channel named on `day` so far, in day-index order."""
    names = DayChannels(day)
    while True:
        wanted = [_names_key(day, names.parts, g) for g in range(GROUPS)]
        found = read_each(db, wanted, lambda d: d)
        if found[0] is None:
            legacy = db[_legacy(schema.CHANNEL_NAMES, day)].find_one(
                {"_id": channel_names_id(day, names.parts, None)}
            )
            if legacy is None:
                return names
            found = [legacy]
        if any(d is None for d in found):
            raise ValueError(f"channel_names of {day:%Y-%m-%d}: part {names.parts} lacks a group")
        names.add_part([cast(ChannelNamesDocument, d) for d in found])


def _names_key(day: datetime, part: int, group: int) -> tuple[str, str]:
    return day_collection(schema.CHANNEL_NAMES, day, group), channel_names_id(day, part, group)


def _legacy(base: str, day: datetime) -> str:
    """A day's collection as written before collections were cut by group: slot chunks
    by row count and names parts whole (read until such days are pruned)."""
    return day_collection(base, day, None)


def read_group_names(
    db: Database[Document], day: datetime, group: int, slots: int
) -> list[NamesEntry]:
    """The channels of one group named on `day` so far (`slots` of it written), in
    day-index order."""
    # The collection holds this group's parts of the day alone, and FerretDB v1 scans it
    # up to the document even for an `_id` read: one scan for all of them is cheaper.
    collection = day_collection(schema.CHANNEL_NAMES, day, group)
    found = {d["_id"]: d for d in db[collection].find()}
    entries: list[NamesEntry] = []
    # A part is written with a slot that names new channels: at most one a slot.
    for part in range(max(1, slots)):
        document = found.get(channel_names_id(day, part, group))
        if document is None:
            break  # parts are read in order up to the first missing one
        entries += names_entries(cast(ChannelNamesDocument, document))
    return entries


def read_slot_rows(
    db: Database[Document], slot: datetime, day: DayChannels | None = None
) -> SlotRows | None:
    """A slot's listed channels, or None when none were stored (or a chunk is missing);
    `day`: its day's channels when the caller has read them already."""
    first = db[_slot_collection(slot, 0)].find_one({"_id": channel_slot_id(slot, 0)})
    grouped = first is not None
    if first is None:
        first = db[_legacy(schema.CHANNEL_SLOTS, slot)].find_one({"_id": channel_slot_id(slot, 0)})
        if first is None:
            return None
    wanted = [
        (
            _slot_collection(slot, c) if grouped else _legacy(schema.CHANNEL_SLOTS, slot),
            channel_slot_id(slot, c),
        )
        for c in range(1, int(first["chunks"]))
    ]
    documents = [first, *read_each(db, wanted, lambda d: d)]
    for chunk, found in enumerate(documents):
        if found is None:
            log.warning("channel_slots %s lacks chunk %d; slot skipped", slot.isoformat(), chunk)
            return None
        if found["written_at"] != first["written_at"]:
            # Another attempt's chunk: the slot is being rewritten, or that write died.
            log.warning("channel_slots %s: chunks of two writes; slot skipped", slot.isoformat())
            return None
    return SlotRows.from_documents(
        [cast(ChannelSlotDocument, d) for d in documents],
        day or read_day_channels(db, day_of(slot)),
    )


def _regrouped(written: Mapping[str, datetime], slot: datetime, until: datetime | None) -> bool:
    """Whether a slot's rows are in its day's `channel_days` (written by the regrouping that
    took the day's writes up to `until`)."""
    return until is not None and written[slot_key(slot)] <= until


def _slot_collection(slot: datetime, group: int) -> str:
    return day_collection(schema.CHANNEL_SLOTS, slot, group)


def read_channel_today(
    db: Database[Document], day: datetime, user_id: str
) -> tuple[DayChannels, list[SlotRows]]:
    """One channel's rows on a day not regrouped yet, from its group's documents alone:
    a `DayChannels` of just its names that day, and its rows in each slot that listed
    it. Slots whose chunks predate stored ranks are read whole."""
    state = read_channels_state(db)
    # The same channel's day is read twice for a page (its slots, its day summary); what
    # is stored changes only with a write, which changes the day's write times.
    written = tuple(sorted(state.slots.get(day_key(day), {}).items()))
    key = (id(db.client), db.name, day, user_id, written)
    with _TODAY_LOCK:
        if key in _TODAY:
            return _TODAY[key]
    found = _read_channel_today(db, day, user_id, state.slots_of(day))
    with _TODAY_LOCK:
        _TODAY[key] = found
        while len(_TODAY) > _TODAY_KEPT:
            _TODAY.pop(next(iter(_TODAY)))
    return found


# The last few channels' days so far, by what was written (readers must not change them).
_TODAY: dict[tuple[object, ...], tuple[DayChannels, list[SlotRows]]] = {}
_TODAY_KEPT = 8
_TODAY_LOCK = threading.Lock()


def _read_channel_today(
    db: Database[Document], day: datetime, user_id: str, slots: list[datetime]
) -> tuple[DayChannels, list[SlotRows]]:
    group = channel_group(user_id)
    names = DayChannels(day)
    entries = read_group_names(db, day, group, len(slots))
    if not entries and _legacy_names(db, day):
        return _legacy_today(db, day, slots, user_id)
    keep = names.add_entries(e for e in entries if e.user_id == user_id)
    if not keep:
        return names, []
    # As for the names: the group's chunks of the day are its collection, read in one scan.
    stored = {d["_id"]: d for d in db[_slot_collection(day, group)].find()}
    chunks = [stored.get(channel_slot_id(s, group)) for s in slots]
    rows = [
        SlotRows.from_documents([cast(ChannelSlotDocument, chunk)], names, keep)
        for chunk in chunks
        if chunk is not None
    ]
    return names, [r for r in rows if len(r.channel)]


def _legacy_names(db: Database[Document], day: datetime) -> bool:
    """Whether the day's names were written before parts were grouped."""
    collection = db[_legacy(schema.CHANNEL_NAMES, day)]
    return collection.find_one({"_id": channel_names_id(day, 0, None)}) is not None


def _legacy_today(
    db: Database[Document], day: datetime, slots: list[datetime], user_id: str
) -> tuple[DayChannels, list[SlotRows]]:
    """`read_channel_today` of a day written before names and rows were grouped (and
    ranks stored): its whole names and every whole slot."""
    names = read_day_channels(db, day)
    mine = [i for i, u in enumerate(names.user_ids) if u == user_id]
    if not mine:
        return DayChannels(day), []
    picked = []
    for slot in slots:
        rows = read_slot_rows(db, slot, names)
        if rows is not None and np.isin(rows.channel, mine).any():
            picked.append(rows.subset(np.isin(rows.channel, mine)))
    return names, picked


def read_regrouped_slots(
    db: Database[Document], day: datetime, slots: set[datetime], names: DayChannels
) -> list[SlotRows]:
    """The rows of `slots` as the day's `channel_days` documents hold them (a regrouped
    day's slot chunks are dropped), slot order; their channels are added to `names`."""
    wanted = [(channel_day_collection(day, b), channel_day_id(day, b)) for b in range(BUCKETS)]
    regrouped = read_each(
        db,
        wanted,
        lambda found: ChannelDay.from_document(cast(ChannelDayDocument, found)) if found else None,
    )
    tables = {c: ValueTable() for c in _CODED}
    columns: dict[datetime, dict[str, list[np.ndarray]]] = {}
    for bucket in (b for b in regrouped if b is not None):
        in_slots = np.array([s in slots for s in bucket.slots] or [False])
        rows = np.flatnonzero(in_slots[bucket.slot])
        if not len(rows):
            continue
        remap = {
            c: np.array([tables[c].code(v) for v in getattr(bucket, _CODED[c])] or [0], np.int64)
            for c in _CODED
        }
        # Each channel's day values: those of its first row taken.
        listed, first = np.unique(bucket.channel[rows], return_index=True)
        entries = [
            NamesEntry(
                local,
                bucket.user_ids[local],
                bucket.logins[local],
                bucket.names[local],
                int(bucket.started_at[row]),
                {c: getattr(bucket, _CODED[c])[int(getattr(bucket, c)[row])] for c in _CODED},
            )
            for local, row in zip(listed.tolist(), rows[first].tolist(), strict=True)
        ]
        index = names.add_entries(entries)
        to_day = np.zeros(len(bucket.user_ids), np.int64)
        to_day[listed] = [index[i] for i in listed.tolist()]
        for number in np.unique(bucket.slot[rows]).tolist():
            mine = rows[bucket.slot[rows] == number]
            slot = columns.setdefault(bucket.slots[number], {n: [] for n in _SLOT_COLUMNS})
            slot["channel"].append(to_day[bucket.channel[mine]])
            for name in ("viewers", "started_at", "game_rank", "language_rank"):
                slot[name].append(getattr(bucket, name)[mine])
            for name in _CODED:
                slot[name].append(remap[name][getattr(bucket, name)[mine]])
    return [
        SlotRows(
            slot=slot,
            game_ids=tables["game"].values,
            languages=tables["language"].values,
            tag_sets=tables["tag_set"].values,
            **{n: np.concatenate(v) for n, v in columns[slot].items()},
        )
        for slot in sorted(columns)
    ]


_CODED = {"game": "game_ids", "language": "languages", "tag_set": "tag_sets"}
_SLOT_COLUMNS = (
    "channel", "viewers", "game", "language", "started_at", "tag_set", "game_rank",
    "language_rank",
)  # fmt: skip


def read_channel_listing(db: Database[Document], slot: datetime) -> pd.DataFrame:
    """A slot's whole listing, one row per channel (for notebooks): user_id, login, name,
    viewers, game_id, language, started_at, tags, game_rank, language_rank; empty when the
    slot's channels were not stored."""
    names = read_day_channels(db, day_of(slot))
    rows = read_slot_rows(db, slot, names)
    if rows is None and read_channels_state(db).is_compacted(slot):  # regrouped: chunks gone
        names = DayChannels(day_of(slot))
        regrouped = read_regrouped_slots(db, day_of(slot), {slot}, names)
        rows = regrouped[0] if regrouped else None
    columns = ["user_id", "login", "name", "viewers", "game_id", "language", "started_at"]
    columns += ["tags", "game_rank", "language_rank"]
    if rows is None:
        return pd.DataFrame(columns=columns)
    channel = rows.channel
    tags = [s.split(TAG_SEPARATOR) if s else [] for s in rows.tag_sets]
    return pd.DataFrame(
        {
            "user_id": [names.user_ids[i] for i in channel],
            "login": [names.logins[i] for i in channel],
            "name": [names.names[i] for i in channel],
            "viewers": rows.viewers,
            "game_id": [rows.game_ids[i] for i in rows.game],
            "language": [rows.languages[i] for i in rows.language],
            "started_at": pd.to_datetime(rows.started_at, unit="s", utc=True),
            "tags": [tags[i] for i in rows.tag_set],
            "game_rank": rows.game_rank,
            "language_rank": rows.language_rank,
        }
    ).sort_values(["viewers", "login"], ascending=[False, True], ignore_index=True)


@dataclass(frozen=True)
class ChannelWrite:
    """What one `ChannelWriter.write` stored: its chunks' and names part's `_id`s."""

    chunk_ids: list[str]
    names_ids: list[str]  # none when every channel was named on this day already


def read_channels_state(db: Database[Document]) -> ChannelsState:
    return ChannelsState.from_document(db[schema.META].find_one({"_id": ChannelsState.ID}))


HISTORY_COLUMNS = [
    "slot", "login", "name", "viewers", "game_id", "language", "started_at", "tags",
    "game_rank", "language_rank",
]  # fmt: skip


def read_channel_history(
    db: Database[Document], user_id: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """A channel's every listed slot in [start, end), oldest first: `HISTORY_COLUMNS`
    (directory ranks over the whole listing of each slot). Compacted days are one read
    each; the others (today) are read slot by slot."""
    state = read_channels_state(db)
    days = days_between(start, end)
    bucket = channel_bucket(user_id)

    def rows_of_day(found: Document | None) -> pd.DataFrame | None:
        if found is None:
            return None
        return _day_rows(ChannelDay.from_document(cast(ChannelDayDocument, found)), user_id)

    compacted = [d for d in days if state.is_compacted(d)]
    wanted = [(channel_day_collection(d, bucket), channel_day_id(d, bucket)) for d in compacted]
    parts = [p for p in read_each(db, wanted, rows_of_day) if p is not None]
    for day in days:
        if state.is_compacted(day):
            continue
        names, slot_rows = read_channel_today(db, day, user_id)
        parts += [_slot_rows(rows, names, list(range(len(names)))) for rows in slot_rows]
    if not parts:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    shown = (frame["slot"] >= pd.Timestamp(start)) & (frame["slot"] < pd.Timestamp(end))
    return frame[shown].sort_values("slot", ignore_index=True)


def _tags(text: str) -> list[str]:
    return text.split(TAG_SEPARATOR) if text else []


def _day_rows(day: ChannelDay, user_id: str) -> pd.DataFrame:
    rows = day.rows_of(user_id)
    slots = [day.slots[i] for i in day.slot[rows]]
    return _frame(day, rows, slots, day.logins, day.names, day.channel[rows])


def _slot_rows(rows: SlotRows, names: DayChannels, mine: list[int]) -> pd.DataFrame:
    picked = np.flatnonzero(np.isin(rows.channel, mine))
    slots = [rows.slot] * len(picked)
    return _frame(rows, picked, slots, names.logins, names.names, rows.channel[picked])


def _frame(
    source: ChannelDay | SlotRows,
    rows: np.ndarray,
    slots: list[datetime],
    logins: list[str],
    names: list[str],
    channels: np.ndarray,
) -> pd.DataFrame:
    """`HISTORY_COLUMNS` of the given rows of a regrouped day or of a slot."""
    return pd.DataFrame(
        {
            "slot": pd.to_datetime(slots, utc=True),
            "login": [logins[i] for i in channels],
            "name": [names[i] for i in channels],
            "viewers": source.viewers[rows],
            "game_id": [source.game_ids[i] for i in source.game[rows]],
            "language": [source.languages[i] for i in source.language[rows]],
            "started_at": pd.to_datetime(source.started_at[rows], unit="s", utc=True),
            "tags": [_tags(source.tag_sets[i]) for i in source.tag_set[rows]],
            "game_rank": source.game_rank[rows],
            "language_rank": source.language_rank[rows],
        },
        columns=HISTORY_COLUMNS,
    )


def summarise_day(
    names: DayChannels,
    day_rows: DayRows,
    following: datetime | None,
    cadence: Cadence = DEFAULT_CADENCE,
) -> pd.DataFrame:
    """The day's per-channel summaries (`MONTH_COLUMNS`, `day` set); `following`: the
    first stored slot after the day, if any (what the day's last slot stands until)."""
    columns, tables = day_rows.columns, day_rows.tables
    interval = int(cadence.interval.total_seconds() // 60)
    summaries = day_summaries(
        names,
        columns["channel"],
        columns["slot"],
        columns["viewers"],
        {
            "game_id": (tables["game"].values, columns["game"]),
            "language": (tables["language"].values, columns["language"]),
            "tag_set": (tables["tag_set"].values, columns["tag_set"]),
        },
        columns["game_rank"],
        slot_minutes(day_rows.slots, following, interval),
    )
    return summaries.assign(day=day_of(names.day).day)


DAY_COLUMNS = [
    "day", "login", "name", "hours_live", "avg_viewers", "peak_viewers", "game_id",
    "language", "tags", "best_game_rank",
]  # fmt: skip


def read_channel_days(
    db: Database[Document],
    user_id: str,
    start: datetime,
    end: datetime,
    cadence: Cadence = DEFAULT_CADENCE,
) -> pd.DataFrame:
    """A channel's per-day summaries for the UTC days in [start, end), oldest first
    (`DAY_COLUMNS`; average viewers time-weighted while live): the summarised days from
    their month documents, the others (today) computed from their slot rows."""
    state = read_channels_state(db)
    parts: list[pd.DataFrame] = []
    days = days_between(start, end)
    months = sorted({d.replace(day=1) for d in days})
    bucket = channel_bucket(user_id)
    wanted = [(summary_collection(m, bucket), channel_summary_id(m, bucket)) for m in months]
    decoded = read_each(
        db, wanted, lambda found: decode_month(cast(ChannelSummaryDocument, found), user_id)
    )
    for month, rows in zip(months, decoded, strict=True):
        if not rows.empty:
            parts.append(rows.assign(day=[month.replace(day=int(d)) for d in rows["day"]]))
    summarised = {d for p in parts for d in p["day"]}
    for day in days:
        if day in summarised or state.is_compacted(day) or not state.slots_of(day):
            continue
        names, picked = read_channel_today(db, day, user_id)
        if not picked:
            continue
        following = state.slots_of(day + timedelta(days=1))[:1]
        rows = summarise_day(
            names, DayRows.from_slots(picked), following[0] if following else None, cadence
        )
        parts.append(rows.assign(day=day))
    if not parts:
        return pd.DataFrame(columns=DAY_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[(frame["day"] >= day_of(start)) & (frame["day"] < end)]
    hours = frame["minutes_live"].astype(float) / 60
    return pd.DataFrame(
        {
            "day": pd.to_datetime(frame["day"], utc=True),
            "login": frame["login"],
            "name": frame["name"],
            "hours_live": hours,
            "avg_viewers": frame["viewer_minutes"].astype(float) / frame["minutes_live"],
            "peak_viewers": frame["peak_viewers"].astype(int),
            "game_id": frame["game_id"],
            "language": frame["language"],
            "tags": [tags_of(t) for t in frame["tag_set"]],
            "best_game_rank": frame["best_game_rank"].astype(int),
        },
        columns=DAY_COLUMNS,
    ).sort_values("day", ignore_index=True)


def read_last_seen(db: Database[Document], user_id: str, before: datetime) -> datetime | None:
    """The last UTC day before `before`'s day on which the channel was listed, or None."""
    state = read_channels_state(db)
    for day in sorted((d for d in state.days() if d < day_of(before)), reverse=True):
        if state.is_compacted(day):
            break  # this day and earlier ones are in the summaries
        if read_channel_today(db, day, user_id)[1]:
            return day
    pattern = re.compile(f"^{schema.CHANNEL_SUMMARIES}{MONTH_PATTERN}")
    months = sorted(
        {
            datetime.strptime(m[1], "%Y%m").replace(tzinfo=UTC)
            for m in map(pattern.match, db.list_collection_names())
            if m
        },
        reverse=True,
    )
    bucket = channel_bucket(user_id)
    for month in (m for m in months if m < before):
        found = db[summary_collection(month, bucket)].find_one(
            {"_id": channel_summary_id(month, bucket)}
        )
        days = [
            month.replace(day=int(d))
            for d in decode_month(cast(ChannelSummaryDocument, found), user_id)["day"]
        ]
        earlier = [d for d in days if d < day_of(before)]
        if earlier:
            return max(earlier)
    return None


def search_channels(
    db: Database[Document], text: str, limit: int = 20, *, exact: bool = False
) -> list[DirectoryEntry]:
    """Channels whose login or display name contains `text` (with `exact`, is `text`):
    the directory (which the writer adds each slot's new channels to), and the channels
    of days not regrouped that it lacks (written before it was), read from their names."""
    folded = text.strip().casefold()
    if not folded:
        return []
    directory = ChannelDirectory(db)
    found = directory.search(folded, limit, exact=exact)
    seen = {(e.user_id, e.login, e.name) for e in found}
    state = read_channels_state(db)
    added = set(directory.state().get("days", []))
    for day in state.days():
        if state.is_compacted(day) or f"{day:%Y-%m-%d}" in added:
            continue
        for key in _named_on(db, day, folded, exact):
            if key not in seen:
                seen.add(key)
                found.append(DirectoryEntry(*key, first_seen=day))
    return rank_matches(folded, found)[:limit]


def find_channel(db: Database[Document], login: str) -> DirectoryEntry | None:
    """The channel listed under this exact login (the newest, should a login have passed
    from one channel to another), or None."""
    found = [e for e in search_channels(db, login, 50, exact=True) if e.login == login]
    return max(found, key=lambda e: e.first_seen) if found else None


def _named_on(
    db: Database[Document], day: datetime, folded: str, exact: bool
) -> list[tuple[str, str, str]]:
    """The (user id, login, name) of `day`'s channels matching `folded`, in day-index
    order; only the matches of a names document are decoded."""
    parts = range(max(1, len(read_channels_state(db).slots_of(day))))  # one a slot at most
    wanted = [_names_key(day, p, g) for p in parts for g in range(GROUPS)]
    found = read_each(db, wanted, lambda found: _matching(found, folded, exact))
    if found[0] is None:  # written before parts were grouped
        legacy = _legacy(schema.CHANNEL_NAMES, day)
        found = read_each(
            db,
            [(legacy, channel_names_id(day, p, None)) for p in parts],
            lambda f: _matching(f, folded, exact),
        )
    matches = sorted(m for group in found if group is not None for m in group)
    return [(user_id, login, name) for _, user_id, login, name in matches]


def _matching(
    found: Document | None, folded: str, exact: bool
) -> list[tuple[int, str, str, str]] | None:
    """(day index, user id, login, name) of a names document's matches; None: no such
    document."""
    if found is None:
        return None
    text = zlib.decompress(found["channels"]).decode("utf-8")
    if folded not in text.casefold():  # most documents hold no match: skip the split
        return []
    count = int(found["count"])
    fields = split_names(text, 6 * count)
    hits = []
    for i in range(count):
        login, name = fields[6 * i + 1], fields[6 * i + 2].casefold()
        if (folded in (login, name)) if exact else (folded in login or folded in name):
            hits.append(i)
    if not hits:
        return []
    first = int(found["first"])
    indexes = (
        first + np.cumsum(unpack_planes(found["index"], _I32, count))
        if "index" in found
        else first + np.arange(count)  # a whole part, written before parts were grouped
    )
    return [(int(indexes[i]), fields[6 * i], fields[6 * i + 1], fields[6 * i + 2]) for i in hits]


class ChannelWriter:
    """Writes each slot's listing: the day's new channel names first, then the rows that
    index them, so no stored row points at a name that is not stored."""

    def __init__(self, db: Database[Document]) -> None:
        self.db = db
        self._names: DayChannels | None = None  # the day this writer last wrote
        self.directory = ChannelDirectory(db)
        # The day and how many of its channels (in day-index order) are in the directory.
        self._in_directory: tuple[datetime | None, int] = (None, 0)

    def write(self, listing: ChannelListing) -> ChannelWrite:
        """Store the listing (again: its chunks are replaced)."""
        day = day_of(listing.slot)
        try:
            names = self._day(day)
            indexes, before = names.indexes(listing)
            written_at = datetime.now(UTC)
            names_ids = []
            if len(names.user_ids) > before:
                for part in names.new_part(before, written_at):
                    self._insert_or_replace(
                        day_collection(schema.CHANNEL_NAMES, day, part["group"]),
                        cast(Document, part),
                    )
                    names_ids.append(part["_id"])
            documents = slot_documents(listing, indexes, names, written_at, schema.SCHEMA_VERSION)
            for document in documents:
                self._insert_or_replace(
                    _slot_collection(day, document["chunk"]), cast(Document, document)
                )
            # Last: a day is compacted again whenever a slot of it is (re)written.
            self.db[schema.META].update_one(
                {"_id": ChannelsState.ID},
                {"$set": {ChannelsState.slot_field(listing.slot): written_at}},
                upsert=True,
            )
        except BaseException:
            self._forget_names()
            raise
        return ChannelWrite([d["_id"] for d in documents], names_ids)

    def compact(self, before: datetime, cadence: Cadence = DEFAULT_CADENCE) -> list[datetime]:
        """Regroup by channel (`channel_days`) every day before `before` whose slots
        changed since it was last regrouped, summarise its channels (`channel_summaries`)
        and add its new channels to the directory; returns those days."""
        state = read_channels_state(self.db)
        done = []
        for day in state.days_to_compact(day_of(before)):
            newest = state.newest_write(day)
            names = read_day_channels(self.db, day)
            # Slots written since the day was last regrouped are read from their chunks;
            # the others from what that regrouping wrote (their chunks were dropped).
            regrouped_until = state.compacted.get(day_key(day))
            written = state.slots.get(day_key(day), {})
            fresh = [s for s in state.slots_of(day) if not _regrouped(written, s, regrouped_until)]
            slots = [read_slot_rows(self.db, s, names) for s in fresh]
            kept = set(state.slots_of(day)) - set(fresh)
            slots += read_regrouped_slots(self.db, day, kept, names) if kept else []
            slots.sort(key=lambda rows: rows.slot if rows is not None else day)
            day_rows = DayRows.from_slots([s for s in slots if s is not None])
            written_at = datetime.now(UTC)
            documents = channel_day_documents(names, day_rows, written_at, schema.SCHEMA_VERSION)
            for document in documents:
                self._insert_or_replace(
                    channel_day_collection(day, document["bucket"]), cast(Document, document)
                )
            following = state.slots_of(day + timedelta(days=1))[:1]
            self._write_summaries(
                day, summarise_day(names, day_rows, following[0] if following else None, cadence)
            )
            self.directory.add(day, zip(names.user_ids, names.logins, names.names, strict=True))
            self.db[schema.META].update_one(
                {"_id": ChannelsState.ID},
                {"$set": {ChannelsState.compacted_field(day): newest}},
                upsert=True,
            )
            self._drop_slot_chunks(day)
            log.info("channel rows of %s regrouped by channel and summarised", day.date())
            done.append(day)
        self._add_to_directory()
        if done:
            state = read_channels_state(self.db)
            weeks = update_weeks(self.db, [d for d in state.days() if state.is_compacted(d)])
            for week in weeks:
                log.info("channels of the week of %s grouped by game; cohorts updated", week.date())
        return done

    def _drop_slot_chunks(self, day: datetime) -> None:
        """Drop a regrouped day's slot chunks and names: `channel_days` holds every row.
        A slot of the day written later gets new names and chunks, merged with
        `channel_days` by the next regrouping."""
        prefixes = tuple(
            day_collection(b, day, None) for b in (schema.CHANNEL_SLOTS, schema.CHANNEL_NAMES)
        )
        for name in self.db.list_collection_names():
            if name.startswith(prefixes):
                self.db.drop_collection(name)
        if self._names is not None and self._names.day == day:
            self._forget_names()

    def _forget_names(self) -> None:
        """Read the day's names back before the next write (what is stored may differ)."""
        self._names = None
        self._in_directory = (None, 0)

    def _add_to_directory(self) -> None:
        """Append the channels named on the day this writer writes since the last call, so
        that today's channels can be found before the day is regrouped; index the entries
        appended once there are `INDEX_AFTER` of them (the gram lists are rewritten)."""
        names = self._names
        if names is None:
            return
        day, added = self._in_directory
        start = added if day == names.day else 0
        fresh = zip(names.user_ids[start:], names.logins[start:], names.names[start:], strict=True)
        self.directory.append(names.day, fresh)
        self._in_directory = (names.day, len(names))
        if self.directory.unindexed() >= INDEX_AFTER:
            self.directory.index()

    def _write_summaries(self, day: datetime, summaries: pd.DataFrame) -> None:
        """Put the day's summaries into their month's documents, bucket by bucket."""
        month = day.replace(day=1)
        bucket_of = np.array([channel_bucket(u) for u in summaries["user_id"]], np.int64)
        written_at = datetime.now(UTC)
        for bucket in range(BUCKETS):
            rows = summaries[bucket_of == bucket]
            collection = self.db[summary_collection(month, bucket)]
            found = collection.find_one({"_id": channel_summary_id(month, bucket)})
            if found is None and rows.empty:
                continue
            merged = merge_month(decode_month(cast(ChannelSummaryDocument, found)), day.day, rows)
            document = month_document(month, bucket, merged, written_at, schema.SCHEMA_VERSION)
            self._insert_or_replace(collection.name, cast(Document, document))

    def prune(self, before: datetime) -> int:
        """Drop the days wholly before `before`'s day (slot rows, names and regrouped
        rows are kept a set number of days); returns how many days were dropped."""
        cutoff = day_of(before)
        gone: set[datetime] = set()
        # Also the collections named before they were cut by group (`_<n>`, no `g`).
        pattern = re.compile(r"_(\d{8})(_g?\d+)?$")
        for base in (schema.CHANNEL_SLOTS, schema.CHANNEL_NAMES, schema.CHANNEL_DAYS):
            for name in self.db.list_collection_names():
                found = pattern.search(name)
                if not (name.startswith(f"{base}_") and found):
                    continue
                day = datetime.strptime(found[1], "%Y%m%d").replace(tzinfo=UTC)
                if day < cutoff:
                    self.db.drop_collection(name)
                    gone.add(day)
        state = read_channels_state(self.db)
        gone.update(d for d in state.days() if d < cutoff)
        if gone:
            fields = [ChannelsState.day_field(d) for d in gone]
            fields += [ChannelsState.compacted_field(d) for d in gone]
            self.db[schema.META].update_one(
                {"_id": ChannelsState.ID}, {"$unset": dict.fromkeys(fields, "")}
            )
        return len(gone)

    def _day(self, day: datetime) -> DayChannels:
        if self._names is None or self._names.day != day:
            self._names = read_day_channels(self.db, day)
        return self._names

    def _insert_or_replace(self, collection: str, document: Document) -> None:
        # Insert first: on FerretDB v1 an upsert by `_id` reads the whole collection.
        try:
            self.db[collection].insert_one(document)
        except mongo_errors.DuplicateKeyError:
            self.db[collection].replace_one({"_id": document["_id"]}, document)
