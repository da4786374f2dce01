"""Every listed stream of a slot, per channel: the whole market in compact columns.

The snapshot keeps the top N streams in full; the rest of the market lives in rollups,
which cannot say where one small channel stood. A `ChannelListing` keeps one row per
listed channel (viewers, game, language, tags, when it went live) and its directory
rank: its place in its game's directory sorted by viewers, overall and among its
language, computed here from the whole listing because no later reader has it.

On disk (`docs/schema.md`, channel_*): the logins and display names of a UTC day go into
`channel_names` once, in append-only parts, and each slot's rows refer to them by their
index in the day; the rows are int32 columns, zlib-compressed. Both are split into
`GROUPS` documents by a hash of the user id (`channel_group`), so one channel's day so far
is its group's documents alone, a few kilobytes each, and each slot's directory ranks are
stored with its rows because a reader of one group cannot compute them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypedDict, cast

import numpy as np
from bson.binary import Binary

from slots import day_of
from store._documents import StreamDocument
from store._packing import (
    compress,
    join_names,
    pack_names,
    pack_planes,
    split_names,
    unpack_names,
    unpack_planes,
)
from store._partitions import BUCKETS, GROUPS, bucket_group
from store._records import channel_names_id, channel_slot_id

# Tags of one stream are joined by this inside a tag set (sets themselves by SEPARATOR).
TAG_SEPARATOR = "\x1e"
PARALLEL_BYTES = 1 << 20  # names text from which compressing in two threads pays
_I32 = np.dtype("<i4")
_I64 = np.dtype("<i8")
# Viewer counts above this are quarantined (twitch_client.models.MAX_VIEWER_COUNT), so a
# (directory, viewers) pair packs into one int64 sort key.
_VIEWER_SPAN = 1 << 24


def directory_ranks(directory: np.ndarray, viewers: np.ndarray) -> np.ndarray:
    """Each stream's rank in its directory (streams sharing a `directory` value) sorted by
    viewers, most first: 1 + the streams of its directory with strictly more viewers, so
    streams with equal viewers share a rank."""
    if len(viewers) == 0:
        return np.zeros(0, np.int64)
    capped = np.minimum(viewers.astype(np.int64), _VIEWER_SPAN - 1)
    keys = directory.astype(np.int64) * _VIEWER_SPAN + (_VIEWER_SPAN - 1 - capped)
    ordered = np.sort(keys)
    ahead = np.searchsorted(ordered, keys, side="left")  # smaller keys: more viewers
    first = np.searchsorted(ordered, directory.astype(np.int64) * _VIEWER_SPAN, side="left")
    ranks: np.ndarray = (ahead - first + 1).astype(np.int64)
    return ranks


def channel_bucket(user_id: str) -> int:
    """A channel's bucket (stable across processes and versions)."""
    return zlib.crc32(user_id.encode("utf-8")) % BUCKETS


def channel_group(user_id: str) -> int:
    """A channel's group: which `channel_slots` and `channel_names` document of a slot or
    part holds it, and which collection (`store._partitions`)."""
    return bucket_group(channel_bucket(user_id))


def _codes(values: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values (in first-seen order) and each value's index among them."""
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))
    return list(index), codes


def _clean_tag(tag: str) -> str:
    return tag.replace(TAG_SEPARATOR, " ").replace("\x1f", " ")


class ChannelListingJson(TypedDict):
    """A `ChannelListing` as the spool keeps it."""

    slot: datetime
    user_ids: list[str]
    logins: list[str]
    names: list[str]
    viewers: list[int]
    game_ids: list[str]
    game: list[int]
    languages: list[str]
    language: list[int]
    started_at: list[int]
    tag_sets: list[str]
    tag_set: list[int]


@dataclass(frozen=True)
class ChannelListing:
    """Every channel a slot's listing found, one row each, listing order."""

    slot: datetime
    user_ids: list[str]
    logins: list[str]
    names: list[str]  # display names
    viewers: np.ndarray  # int64
    game_ids: list[str]  # distinct game ids ("" = no category)
    game: np.ndarray  # index into game_ids
    languages: list[str]
    language: np.ndarray  # index into languages
    started_at: np.ndarray  # when each stream went live, seconds since the epoch
    tag_sets: list[str]  # distinct tag sets, tags joined by TAG_SEPARATOR
    tag_set: np.ndarray  # index into tag_sets
    game_rank: np.ndarray  # directory rank in its game
    language_rank: np.ndarray  # directory rank in its game among its language

    def __len__(self) -> int:
        return len(self.user_ids)

    @classmethod
    def from_streams(cls, slot: datetime, streams: Iterable[StreamDocument]) -> ChannelListing:
        """The listing's streams, one per channel: a channel listed twice (pages overlap
        while viewer counts move) keeps its first, best-ranked row."""
        by_channel: dict[str, StreamDocument] = {}
        for stream in streams:
            by_channel.setdefault(stream["user_id"], stream)
        rows = list(by_channel.values())
        game_ids, game = _codes([s["game_id"] for s in rows])
        languages, language = _codes([s["language"] for s in rows])
        tag_sets, tag_set = _codes(
            [TAG_SEPARATOR.join(_clean_tag(t) for t in s["tags"]) for s in rows]
        )
        viewers = np.fromiter((s["viewer_count"] for s in rows), np.int64, len(rows))
        started_at = np.fromiter(
            (int(s["started_at"].timestamp()) for s in rows), np.int64, len(rows)
        )
        return cls(
            slot=slot,
            user_ids=[s["user_id"] for s in rows],
            logins=[s["user_login"] for s in rows],
            names=[s["user_name"] for s in rows],
            viewers=viewers,
            game_ids=game_ids,
            game=game,
            languages=languages,
            language=language,
            started_at=started_at,
            tag_sets=tag_sets,
            tag_set=tag_set,
            game_rank=directory_ranks(game, viewers),
            language_rank=directory_ranks(game * max(len(languages), 1) + language, viewers),
        )

    def value(self, column: str, row: int) -> str:
        """A row's game id, language or tag set (`column`: game, language, tag_set)."""
        codes: np.ndarray = getattr(self, column)
        values: list[str] = getattr(self, _DAY_CODED[column])
        return values[int(codes[row])]

    def tags_of(self, row: int) -> list[str]:
        text = self.tag_sets[int(self.tag_set[row])]
        return text.split(TAG_SEPARATOR) if text else []

    def to_json(self) -> ChannelListingJson:
        """Plain lists, for the spool (ranks are recomputed when read back)."""
        return {
            "slot": self.slot,
            "user_ids": self.user_ids,
            "logins": self.logins,
            "names": self.names,
            "viewers": self.viewers.tolist(),
            "game_ids": self.game_ids,
            "game": self.game.tolist(),
            "languages": self.languages,
            "language": self.language.tolist(),
            "started_at": self.started_at.tolist(),
            "tag_sets": self.tag_sets,
            "tag_set": self.tag_set.tolist(),
        }

    @classmethod
    def from_json(cls, data: object) -> ChannelListing:
        """What `to_json` wrote; ValueError for anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("slot"), datetime):
            raise ValueError("channel listing: no slot")
        try:
            text = {k: [str(v) for v in data[k]] for k in _TEXT_FIELDS}
            numbers = {k: np.asarray(data[k], dtype=np.int64) for k in _NUMBER_FIELDS}
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"channel listing: {error}") from None
        rows = len(text["user_ids"])
        if any(len(text[k]) != rows for k in ("logins", "names")) or any(
            v.shape != (rows,) for v in numbers.values()
        ):
            raise ValueError("channel listing: columns of different lengths")
        for codes, values in (
            ("game", "game_ids"),
            ("language", "languages"),
            ("tag_set", "tag_sets"),
        ):
            if rows and not (
                numbers[codes].min() >= 0 and numbers[codes].max() < len(text[values])
            ):
                raise ValueError(f"channel listing: {codes} outside {values}")
        if rows and not (numbers["viewers"].min() >= 0 and numbers["viewers"].max() < _VIEWER_SPAN):
            raise ValueError("channel listing: viewer count out of range")
        languages = max(len(text["languages"]), 1)
        return cls(
            slot=data["slot"],
            user_ids=text["user_ids"],
            logins=text["logins"],
            names=text["names"],
            viewers=numbers["viewers"],
            game_ids=text["game_ids"],
            game=numbers["game"],
            languages=text["languages"],
            language=numbers["language"],
            started_at=numbers["started_at"],
            tag_sets=text["tag_sets"],
            tag_set=numbers["tag_set"],
            game_rank=directory_ranks(numbers["game"], numbers["viewers"]),
            language_rank=directory_ranks(
                numbers["game"] * languages + numbers["language"], numbers["viewers"]
            ),
        )


_TEXT_FIELDS = ("user_ids", "logins", "names", "game_ids", "languages", "tag_sets")
_NUMBER_FIELDS = ("viewers", "game", "language", "started_at", "tag_set")


# ------------------------------------------------------------------------ documents


class ChannelNamesDocument(TypedDict):
    """One group of a `channel_names` part: channels first listed on a day, in the order
    they were; the part's channels are day indexes first … first + total - 1, split into
    `GROUPS` documents by `channel_group`."""

    _id: str  # channel_names_id(day, part, group)
    day: datetime
    part: int
    group: int
    first: int  # the day index of the part's first channel
    total: int  # the part's channels, all groups
    count: int  # this group's
    index: bytes  # int32 planes: each channel's day index, delta-coded from `first`
    # zlib text, SEPARATOR-joined, six fields a channel: user id, login, display name, and
    # the game id, language and tags (TAG_SEPARATOR-joined) it was first listed with
    channels: bytes
    started_at: bytes  # int64 planes: when each went live the first time it was listed
    encoding: str
    written_at: datetime


class PackedValues(TypedDict):
    """The fields a packed channel document shares: its game, language and tag-set
    dictionaries (U+001F-joined, with their counts; the tag sets, long, zlib-compressed
    too) and how it was written."""

    game_count: int
    game_ids: str
    language_count: int
    languages: str
    tag_set_count: int
    tag_sets: bytes  # zlib, as `pack_names`
    encoding: str
    written_at: datetime
    schema_version: int


class ChannelSlotDocument(PackedValues):
    """A `channel_slots` chunk: the listed channels of one slot in one group
    (`channel_group`), as packed int32 columns."""

    _id: str  # channel_slot_id(slot, chunk)
    slot: datetime
    day: datetime
    chunk: int  # the group
    chunks: int  # GROUPS
    rows: int
    total_rows: int
    channel: bytes  # day index into channel_names, delta-coded (rows ascending)
    viewers: bytes
    # game, language, tag_set: 0 = the channel's value in `channel_names`, else 1 + an
    # index into this chunk's game_ids / languages / tag_sets
    game: bytes
    language: bytes
    tag_set: bytes
    started: bytes  # going live, seconds after the channel's `started_at` (mostly 0)
    game_rank: bytes  # directory ranks over the whole slot
    language_rank: bytes


PLANES = "zlib-planes"  # the encoding: int byte planes, zlib (`store._packing`)
# The columns coded against the channel's day value, and their dictionaries' fields.
_DAY_CODED = {"game": "game_ids", "language": "languages", "tag_set": "tag_sets"}


class ValueTable:
    """Distinct strings, each with its index."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, value: str) -> int:
        found = self._index.setdefault(value, len(self.values))
        if found == len(self.values):
            self.values.append(value)
        return found


@dataclass
class DayChannels:
    """The channels named on one UTC day: (user id, login, display name) → day index,
    with the game, language, tags and going-live time each had when first listed."""

    day: datetime
    user_ids: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    started_at: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)  # each channel's `channel_group`
    # per channel, an index into `tables[column]` (column: game, language, tag_set)
    codes: dict[str, list[int]] = field(default_factory=lambda: {c: [] for c in _DAY_CODED})
    tables: dict[str, ValueTable] = field(
        default_factory=lambda: {c: ValueTable() for c in _DAY_CODED}
    )
    parts: int = 0  # `channel_names` parts read or written
    _index: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.user_ids)

    def add_part(self, documents: Sequence[ChannelNamesDocument]) -> None:
        """A part read back (its group documents), in part order."""
        entries = sorted(e for d in documents for e in names_entries(d))
        first = len(self)
        if not documents or any(int(d["first"]) != first for d in documents):
            raise ValueError(f"channel_names part {self.parts}: parts out of order")
        total = int(documents[0].get("total", documents[0]["count"]))
        if [e.index for e in entries] != list(range(first, first + total)):
            raise ValueError(f"channel_names part {self.parts}: a group is missing")
        for e in entries:
            self._add(e.user_id, e.login, e.name, e.started_at, e.values)
        self.parts += 1

    def add_entries(self, entries: Iterable[NamesEntry]) -> dict[int, int]:
        """Some of a day's channels alone (one group's, say), each given the next index
        here: returns their day index → index here."""
        return {
            e.index: self._add(e.user_id, e.login, e.name, e.started_at, e.values) for e in entries
        }

    def _add(
        self, user_id: str, login: str, name: str, started_at: int, values: Mapping[str, str]
    ) -> int:
        index = self._index.setdefault((user_id, login, name), len(self))
        if index == len(self):
            self.user_ids.append(user_id)
            self.logins.append(login)
            self.names.append(name)
            self.started_at.append(started_at)
            self.groups.append(channel_group(user_id))
            for column, value in values.items():
                self.codes[column].append(self.tables[column].code(value))
        return index

    def indexes(self, listing: ChannelListing) -> tuple[np.ndarray, int]:
        """The day index of each of the listing's channels, adding those not yet named;
        and how many there were before (the new ones are the part to write)."""
        before = len(self)
        keys = list(zip(listing.user_ids, listing.logins, listing.names, strict=True))
        found = [self._index.get(key, -1) for key in keys]
        # The new channels in bulk (a day's first slot names about every live channel).
        new: list[int] = []
        for row in (r for r, index in enumerate(found) if index < 0):
            found[row] = self._index.setdefault(keys[row], before + len(new))
            if found[row] == before + len(new):
                new.append(row)
        self.user_ids += [listing.user_ids[r] for r in new]
        self.logins += [listing.logins[r] for r in new]
        self.names += [listing.names[r] for r in new]
        self.started_at += listing.started_at[new].tolist()
        self.groups += [channel_group(listing.user_ids[r]) for r in new]
        for column, field_name in _DAY_CODED.items():
            table = self.tables[column]
            to_day = np.array(
                [table.code(v) for v in getattr(listing, field_name)] or [0], np.int64
            )
            self.codes[column] += to_day[getattr(listing, column)[new]].tolist()
        return np.asarray(found, np.int64), before

    def value_codes(self, column: str) -> np.ndarray:
        """Each channel's day value of `column`, as an index into `tables[column]`."""
        return np.asarray(self.codes[column], np.int64)

    def new_part(self, before: int, written_at: datetime) -> list[ChannelNamesDocument]:
        """The channels added since `before`, as the day's next `channel_names` part: one
        document per group."""
        groups = np.asarray(self.groups[before:], np.int64)
        started_at = np.asarray(self.started_at, np.int64)
        # The part's fields as one table (rows × fields), built column by column: a day's
        # first slot names about every live channel, and a loop per field costs seconds.
        fields = [
            np.array(column[before:], dtype=object)
            for column in (self.user_ids, self.logins, self.names)
        ]
        for column in _DAY_CODED:
            table = np.array(self.tables[column].values, dtype=object)
            fields.append(table[np.asarray(self.codes[column][before:], np.int64)])
        rows = np.column_stack(fields) if len(groups) else np.empty((0, len(fields)), object)
        members = [np.flatnonzero(groups == group) for group in range(GROUPS)]
        # Interleaved, so that a display name sits next to the login it mostly repeats.
        texts = [join_names(rows[local].ravel().tolist()).encode("utf-8") for local in members]
        documents = []
        for group, (local, channels) in enumerate(zip(members, compressed(texts), strict=True)):
            mine = before + local
            documents.append(
                ChannelNamesDocument(
                    _id=channel_names_id(self.day, self.parts, group),
                    day=self.day,
                    part=self.parts,
                    group=group,
                    first=before,
                    total=len(self) - before,
                    count=len(mine),
                    index=pack_planes(np.diff(mine, prepend=before), _I32),
                    channels=channels,
                    started_at=pack_planes(started_at[mine], _I64),
                    encoding=PLANES,
                    written_at=written_at,
                )
            )
        self.parts += 1
        return documents


def compressed(texts: Sequence[bytes]) -> list[Binary]:
    """Each zlib-compressed; megabytes of them (a day's first part of names) two at a
    time, since zlib lets go of the GIL while it works."""
    if sum(len(text) for text in texts) < PARALLEL_BYTES:
        return [compress(text) for text in texts]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(compress, texts))


@dataclass(frozen=True, order=True)
class NamesEntry:
    """One channel of a `channel_names` document."""

    index: int  # its day index
    user_id: str
    login: str
    name: str
    started_at: int
    values: dict[str, str] = field(compare=False)  # game, language, tag_set


def names_entries(document: ChannelNamesDocument) -> list[NamesEntry]:
    count = int(document["count"])
    fields = split_names(zlib.decompress(document["channels"]).decode("utf-8"), 6 * count)
    started = unpack_planes(document["started_at"], _I64, count)
    first = int(document["first"])
    if "index" in document:
        indexes = first + np.cumsum(unpack_planes(document["index"], _I32, count))
    else:  # a whole part, written before parts were grouped
        indexes = first + np.arange(count)
    return [
        NamesEntry(
            int(indexes[i]),
            fields[6 * i],
            fields[6 * i + 1],
            fields[6 * i + 2],
            int(started[i]),
            dict(zip(("game", "language", "tag_set"), fields[6 * i + 3 : 6 * i + 6], strict=True)),
        )
        for i in range(count)
    ]


def slot_documents(
    listing: ChannelListing,
    channels: np.ndarray,
    day: DayChannels,
    written_at: datetime,
    schema_version: int,
) -> list[ChannelSlotDocument]:
    """The listing's `GROUPS` chunks, each group's rows sorted by `channels` (their
    indexes in `day`)."""
    groups = np.asarray(day.groups, np.int64)[channels]
    day_started = np.asarray(day.started_at, np.int64)
    coded = {c: _against_day(listing, c, channels, day) for c in _DAY_CODED}
    documents = []
    for group in range(GROUPS):
        rows = np.flatnonzero(groups == group)
        rows = rows[np.argsort(channels[rows], kind="stable")]
        mine = channels[rows]
        # Each chunk names only the values its rows use besides their day values.
        local = {
            c: used_values(coded[c][rows], ["", *getattr(listing, field)])
            for c, field in _DAY_CODED.items()
        }
        documents.append(
            ChannelSlotDocument(
                _id=channel_slot_id(listing.slot, group),
                slot=listing.slot,
                day=day_of(listing.slot),
                chunk=group,
                chunks=GROUPS,
                rows=len(rows),
                total_rows=len(listing),
                channel=pack_planes(np.diff(mine, prepend=0), _I32),
                viewers=pack_planes(listing.viewers[rows], _I32),
                game=pack_planes(local["game"][0], _I32),
                language=pack_planes(local["language"][0], _I32),
                tag_set=pack_planes(local["tag_set"][0], _I32),
                started=pack_planes(listing.started_at[rows] - day_started[mine], _I32),
                game_rank=pack_planes(listing.game_rank[rows], _I32),
                language_rank=pack_planes(listing.language_rank[rows], _I32),
                game_count=len(local["game"][1]),
                game_ids=join_names(local["game"][1]),
                language_count=len(local["language"][1]),
                languages=join_names(local["language"][1]),
                tag_set_count=len(local["tag_set"][1]),
                tag_sets=pack_names(local["tag_set"][1]),
                encoding=PLANES,
                written_at=written_at,
                schema_version=schema_version,
            )
        )
    return documents


def used_values(codes: np.ndarray, values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """`codes` (0 = the channel's day value, else 1 + an index into `values[1:]`) recoded
    against only the values they use: (new codes, those values)."""
    used = np.unique(codes[codes > 0])
    local = np.zeros(len(codes), np.int64)
    if len(used):
        local[codes > 0] = 1 + np.searchsorted(used, codes[codes > 0])
    return local, [values[i] for i in used.tolist()]


def _against_day(
    listing: ChannelListing, column: str, channels: np.ndarray, day: DayChannels
) -> np.ndarray:
    """0 where a row's value is its channel's day value, else 1 + the listing's code."""
    own: np.ndarray = getattr(listing, column)
    values: list[str] = getattr(listing, _DAY_CODED[column])
    lookup = {v: i for i, v in enumerate(values)}
    in_listing = np.array([lookup.get(v, -1) for v in day.tables[column].values], np.int64)
    day_code = in_listing[day.value_codes(column)[channels]] if len(channels) else own
    coded: np.ndarray = np.where(own == day_code, 0, own + 1)
    return coded


@dataclass(frozen=True)
class SlotRows:
    """One slot's stored rows, decoded: `channel` indexes the day's `DayChannels`; the
    directory ranks are computed over all of them."""

    slot: datetime
    channel: np.ndarray
    viewers: np.ndarray
    game_ids: list[str]
    game: np.ndarray
    languages: list[str]
    language: np.ndarray
    started_at: np.ndarray  # seconds since the epoch
    tag_sets: list[str]
    tag_set: np.ndarray
    game_rank: np.ndarray
    language_rank: np.ndarray

    def subset(self, picked: np.ndarray) -> SlotRows:
        """The rows `picked` (a mask or indexes) selects; ranks stay those of the slot."""
        arrays = ("channel", "viewers", "game", "language", "started_at", "tag_set")
        return replace(
            self,
            **{n: getattr(self, n)[picked] for n in (*arrays, "game_rank", "language_rank")},
        )

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[ChannelSlotDocument],
        day: DayChannels,
        keep: Mapping[int, int] | None = None,
    ) -> SlotRows:
        """A slot from its chunks (each chunk has its own dictionaries): all of them, or
        with `keep` (day index → index in `day`) only the rows of those channels."""
        if not documents:
            raise ValueError("a slot needs at least one chunk")
        day_started = np.asarray(day.started_at, np.int64)
        tables = {c: ValueTable() for c in _DAY_CODED}
        # The day's values first: their codes stay as the day has them.
        for name, table in tables.items():
            for value in day.tables[name].values:
                table.code(value)
        day_codes = {c: day.value_codes(c) for c in _DAY_CODED}
        parts = [
            _chunk_columns(document, day, tables, day_started, day_codes, keep)
            for document in sorted(documents, key=lambda d: d["chunk"])
        ]

        def joined(name: str) -> np.ndarray:
            return np.concatenate([p[name] for p in parts])

        game, language, viewers = joined("game"), joined("language"), joined("viewers")
        languages = max(len(tables["language"].values), 1)
        stored = all("game_rank" in p for p in parts)
        if not stored and keep is not None:
            raise ValueError("chunks without directory ranks must be read whole")
        return cls(
            slot=documents[0]["slot"],
            channel=joined("channel"),
            viewers=viewers,
            game_ids=tables["game"].values,
            game=game,
            languages=tables["language"].values,
            language=language,
            started_at=joined("started_at"),
            tag_sets=tables["tag_set"].values,
            tag_set=joined("tag_set"),
            # Chunks written before ranks were stored: the whole slot is here to rank.
            game_rank=joined("game_rank") if stored else directory_ranks(game, viewers),
            language_rank=joined("language_rank")
            if stored
            else directory_ranks(game * languages + language, viewers),
        )


def _chunk_columns(
    document: ChannelSlotDocument,
    day: DayChannels,
    tables: Mapping[str, ValueTable],
    day_started: np.ndarray,
    day_codes: Mapping[str, np.ndarray],
    keep: Mapping[int, int] | None,
) -> dict[str, np.ndarray]:
    """One chunk's rows as columns (codes into `tables`), those of `keep` alone if given."""
    rows = int(document["rows"])
    packed = cast(Mapping[str, Any], document)
    channel = np.cumsum(unpack_planes(document["channel"], _I32, rows))
    picked: slice | np.ndarray = slice(None)
    if keep is not None:
        picked = np.flatnonzero(np.isin(channel, list(keep)))
        channel = np.array([keep[int(c)] for c in channel[picked]], np.int64)
    if len(channel) and channel.max() >= len(day):
        raise ValueError(f"{document['_id']}: a row names a channel the day has not")
    columns = {
        "channel": channel,
        "viewers": unpack_planes(document["viewers"], _I32, rows)[picked],
    }
    offset = unpack_planes(document["started"], _I32, rows)[picked]
    columns["started_at"] = day_started[channel] + offset
    for name in ("game_rank", "language_rank"):
        if name in packed:
            columns[name] = unpack_planes(packed[name], _I32, rows)[picked]
    for name, table in tables.items():
        local = unpack_names(packed[_DAY_CODED[name]], int(packed[f"{name}_count"]))
        remap = np.array([table.code(v) for v in local] or [0], np.int64)
        stored = unpack_planes(packed[name], _I32, rows)[picked]
        columns[name] = np.where(
            stored == 0, day_codes[name][channel], remap[np.maximum(stored - 1, 0)]
        )
    return columns
