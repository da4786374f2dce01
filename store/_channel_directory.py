"""The login directory: every channel ever listed, searchable by any part of its login or
display name with reads by `_id` only.

Entries (user id, login, display name, first day seen) are appended in chunks of
`ENTRY_CHUNK`; a new login or display name of a known channel is a new entry. Search
goes through trigrams: each entry's login and lower-cased display name, framed by
`START` and `END`, are cut into three-character grams, and each gram's entries are
listed in one of `GRAM_BUCKETS` documents picked by a hash of the gram. A query's grams
name a handful of bucket documents; the entries all of them list are the candidates,
checked against the names themselves.

Appending is cheap and done after every slot, so that a channel first listed an hour ago
can be found; rewriting the gram buckets is not, so entries are indexed in batches
(`index`), and those appended since are searched by reading their chunks.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict, cast

import numpy as np
from bson.binary import Binary
from pymongo import errors as mongo_errors
from pymongo.database import Database

from store import schema
from store._packing import join_names, pack_planes, split_names, unpack_planes
from store._partitions import GROUPS
from store._reads import READERS, read_each
from store._records import directory_entries_id, directory_grams_id

ENTRY_CHUNK = 4096
GRAM_BUCKETS = 256
COLLECTION_CHUNKS = 16  # entry chunks a collection holds
START, END = "\x02", "\x03"
PREFIX = 6  # the longest name start listed as a key of its own (`prefixes`)
STATE_ID = "state"
_I32 = np.dtype("<i4")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Document = dict[str, object]


class DirectoryEntriesDocument(TypedDict):
    """A chunk of `channel_directory` entries: entry `first + i` is the i-th."""

    _id: str  # directory_entries_id(chunk)
    first: int
    count: int
    channels: bytes  # zlib text: user id, login, display name of each
    first_seen: bytes  # days since 1970-01-01


class DirectoryGramsDocument(TypedDict):
    """One gram bucket: each gram's entries, ascending."""

    _id: str  # directory_grams_id(bucket)
    grams: str  # SEPARATOR-joined
    gram_count: int
    sizes: bytes  # entries per gram
    entries: bytes  # the grams' entry lists one after another, each delta-coded


class DirectoryStateDocument(TypedDict, total=False):
    _id: str  # STATE_ID
    entries: int
    # Entries before this one are in the gram lists; the rest (the newest, appended since
    # the last indexing) are searched by reading them. Absent: all of them.
    indexed: int
    prefixes: int  # the gram lists hold the name-start keys up to this length (`prefixes`)
    days: list[str]  # the days whose channels were added, "YYYY-MM-DD"


@dataclass(frozen=True)
class DirectoryEntry:
    """A channel as the directory knows it."""

    user_id: str
    login: str
    name: str
    first_seen: datetime  # the UTC day it was first listed under this login and name


def grams(text: str) -> set[str]:
    """The trigrams of a framed, lower-cased name."""
    framed = f"{START}{text.casefold()}{END}"
    return {framed[i : i + 3] for i in range(len(framed) - 2)}


def prefixes(text: str) -> set[str]:
    """A lower-cased name's first 3 … `PREFIX` characters after `START`: the keys that make
    "starts with" exact, where trigrams alone also list names holding the query's grams
    apart (a search for "lays" among many "…plays…" names)."""
    folded = text.casefold()
    return {f"{START}{folded[:k]}" for k in range(3, min(len(folded), PREFIX) + 1)}


def _keys(entry: DirectoryEntry) -> set[str]:
    return grams(entry.login) | grams(entry.name) | prefixes(entry.login) | prefixes(entry.name)


def query_grams(text: str) -> set[str]:
    """The grams every name containing `text` has (without the frame: any position)."""
    folded = text.casefold()
    if len(folded) < 3:
        return {f"{START}{folded}"} if len(folded) == 2 else set()
    return {folded[i : i + 3] for i in range(len(folded) - 2)}


def entries_collection(chunk: int) -> str:
    """The collection of an entry chunk: `COLLECTION_CHUNKS` chunks each
    (`channel_directory_entries_0` …), so that each stays small (`store._partitions`)."""
    return f"{schema.CHANNEL_DIRECTORY}_entries_{chunk // COLLECTION_CHUNKS}"


def grams_collection(bucket: int) -> str:
    """The collection of a gram bucket: `channel_directory_grams_g0` … (16 buckets each)."""
    return f"{schema.CHANNEL_DIRECTORY}_grams_g{bucket * GROUPS // GRAM_BUCKETS}"


def gram_bucket(gram: str) -> int:
    return zlib.crc32(gram.encode("utf-8")) % GRAM_BUCKETS


def _identity(user_id: str, login: str, name: str) -> int:
    digest = hashlib.blake2b(f"{user_id}\x1f{login}\x1f{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class ChannelDirectory:
    """Reads and extends `channel_directory` (one writer: the collector's store)."""

    def __init__(self, db: Database[dict[str, object]]) -> None:
        self.db = db
        self.collection = db[schema.CHANNEL_DIRECTORY]  # the state
        self._known: set[int] | None = None  # identities of the stored entries

    def state(self) -> DirectoryStateDocument:
        found = self.collection.find_one({"_id": STATE_ID})
        if found is None:
            return DirectoryStateDocument(_id=STATE_ID, entries=0, days=[])
        return cast(DirectoryStateDocument, found)

    def entries(self, chunk: int) -> list[DirectoryEntry]:
        found = self.db[entries_collection(chunk)].find_one({"_id": directory_entries_id(chunk)})
        return _decode_entries(cast(DirectoryEntriesDocument, found)) if found else []

    def add(self, day: datetime, channels: Iterable[tuple[str, str, str]]) -> list[DirectoryEntry]:
        """`append` the channels, then `index` every entry."""
        added = self.append(day, channels)
        self.index()
        return added

    def append(
        self, day: datetime, channels: Iterable[tuple[str, str, str]]
    ) -> list[DirectoryEntry]:
        """Append the channels (user id, login, name) not in the directory yet, first seen
        on `day`; returns the new entries. They are searchable (unindexed) once the count
        in the state includes them, which is written last."""
        state = self.state()
        count = int(state.get("entries", 0))
        known = self._identities(count)
        added: list[DirectoryEntry] = []
        for user_id, login, name in channels:
            identity = _identity(user_id, login, name)
            if identity not in known:
                known.add(identity)
                added.append(DirectoryEntry(user_id, login, name, day))
        if added:
            self._append_entries(count, added)
        days = sorted({*state.get("days", []), f"{day:%Y-%m-%d}"})
        indexed = int(state.get("indexed", count))
        self._set_state(count + len(added), indexed, days, PREFIX if not indexed else None)
        self._known = known
        return added

    def unindexed(self) -> int:
        """How many entries are not in the gram lists yet."""
        state = self.state()
        return int(state.get("entries", 0)) - int(state.get("indexed", state.get("entries", 0)))

    def index(self) -> int:
        """Add the entries appended since the last indexing to the gram lists; returns how
        many. The grams are written before the state that says so, so a crash midway is
        redone whole (entries past `indexed` in a list are dropped and added again)."""
        state = self.state()
        count = int(state.get("entries", 0))
        indexed = int(state.get("indexed", count))
        if not _has_prefixes(state):
            indexed = 0  # lists written before the prefix keys: all written again
        if indexed >= count:
            return 0
        pending = [
            e
            for chunk in range(indexed // ENTRY_CHUNK, -(-count // ENTRY_CHUNK))
            for e in self._offsets(chunk, indexed, count)
        ]
        self._add_grams(indexed, pending)
        self._set_state(count, count, list(state.get("days", [])), PREFIX)
        return len(pending)

    def _offsets(self, chunk: int, start: int, stop: int) -> list[DirectoryEntry]:
        """The entries of `chunk` numbered in [start, stop)."""
        first = chunk * ENTRY_CHUNK
        return self.entries(chunk)[max(0, start - first) : max(0, stop - first)]

    def _set_state(
        self, entries: int, indexed: int, days: list[str], prefix: int | None = None
    ) -> None:
        """The state; `prefix`: the `PREFIX` the gram lists were written with (None: as
        stored)."""
        kept = self.state().get("prefixes") if prefix is None else prefix
        state: dict[str, object] = {"entries": entries, "indexed": indexed, "days": days}
        if kept is not None:
            state["prefixes"] = kept
        self.collection.replace_one({"_id": STATE_ID}, state, upsert=True)

    def search(self, text: str, limit: int, *, exact: bool = False) -> list[DirectoryEntry]:
        """Entries whose login or display name contains `text` (case-insensitive), or with
        `exact` equals it: exact matches first, then those starting with it, then the
        rest, oldest entry first."""
        folded = text.strip().casefold()
        wanted = query_grams(folded)
        state = self.state()
        total = int(state.get("entries", 0))
        count = int(state.get("indexed", total))
        if not wanted or not total:
            return []
        start = (
            {f"{START}{folded[:PREFIX]}"}
            if len(folded) > 2 and _has_prefixes(state)
            else {f"{START}{folded[:2]}"}
        )
        indexed = self._search_indexed(folded, wanted, start, count, limit, exact) if count else []
        newest = self._search_unindexed(folded, count, total, exact)
        ordered = sorted([*indexed, *newest], key=lambda item: (item[1][0], item[0]))
        return [entry for _, (_, entry) in ordered[:limit]]

    def _search_unindexed(
        self, folded: str, start: int, stop: int, exact: bool
    ) -> list[tuple[int, tuple[int, DirectoryEntry]]]:
        """(index, (rank, entry)) of every match among entries [start, stop), read whole."""
        numbers = list(range(start // ENTRY_CHUNK, -(-stop // ENTRY_CHUNK)))
        found = []
        for number, chunk in zip(numbers, self._chunks(numbers), strict=True):
            first = number * ENTRY_CHUNK
            for offset in chunk.candidates(folded):
                index = first + offset
                entry = chunk.match(offset, folded, exact) if start <= index < stop else None
                # Without a trigram (two characters), only a name's start is looked at.
                if entry is not None and (len(folded) > 2 or rank_of(folded, entry) < 2):
                    found.append((index, (rank_of(folded, entry), entry)))
        return found

    def _search_indexed(
        self,
        folded: str,
        wanted: set[str],
        start: set[str],
        count: int,
        limit: int,
        exact: bool,
    ) -> list[tuple[int, tuple[int, DirectoryEntry]]]:
        """(index, (rank, entry)) of the best `limit` matches among the indexed entries;
        `start`: the key of the names starting as the query does."""
        framed = grams(folded) | start  # an exact login or name has all of these
        starting = wanted | start  # a name starting with it, these
        lists = self._gram_entries(framed if exact else framed | starting)
        empty = np.zeros(0, np.int64)
        # Each tier's candidates hold every entry of that rank (and maybe others), so the
        # tiers are read in rank order and the reading stops once `limit` are settled.
        tiers = [_intersect([lists.get(g, empty) for g in framed])]
        if not exact:
            tiers.append(_intersect([lists.get(g, empty) for g in starting]))
            tiers.append(_intersect([lists.get(g, empty) for g in wanted]))
        found: dict[int, tuple[int, DirectoryEntry]] = {}  # index → (rank, entry)
        checked: set[int] = set()
        for tier, candidates in enumerate(tiers):
            fresh = [i for i in candidates[candidates < count].tolist() if i not in checked]
            for batch in _chunk_batches(fresh):
                numbers = sorted({i // ENTRY_CHUNK for i in batch})
                chunks = dict(zip(numbers, self._chunks(numbers), strict=True))
                for index in batch:
                    checked.add(index)
                    chunk = chunks[index // ENTRY_CHUNK]
                    entry = chunk.match(index % ENTRY_CHUNK, folded, exact)
                    if entry is not None:
                        found[index] = (rank_of(folded, entry), entry)
                if _settled(found, tier, batch[-1]) >= limit:
                    break
            if _settled(found, tier, count) >= limit:
                break
        return sorted(found.items(), key=lambda item: (item[1][0], item[0]))[:limit]

    def _chunks(self, chunks: list[int]) -> list[_EntryChunk]:
        wanted = [(entries_collection(c), directory_entries_id(c)) for c in chunks]
        return read_each(
            self.db,
            wanted,
            lambda found: _EntryChunk(cast(DirectoryEntriesDocument, found) if found else None),
        )

    def _gram_entries(self, wanted: set[str]) -> dict[str, np.ndarray]:
        by_bucket: dict[int, set[str]] = defaultdict(set)
        for gram in wanted:
            by_bucket[gram_bucket(gram)].add(gram)
        buckets = list(by_bucket)
        decoded = read_each(
            self.db,
            [(grams_collection(b), directory_grams_id(b)) for b in buckets],
            lambda found: _decode_grams(cast(DirectoryGramsDocument, found)) if found else {},
        )
        lists: dict[str, np.ndarray] = {}
        for bucket, bucket_lists in zip(buckets, decoded, strict=True):
            lists.update((g, bucket_lists[g]) for g in by_bucket[bucket] if g in bucket_lists)
        return lists

    def _identities(self, count: int) -> set[int]:
        if self._known is not None and len(self._known) == count:
            return self._known
        known = set()
        for chunk in range((count + ENTRY_CHUNK - 1) // ENTRY_CHUNK):
            for entry in self.entries(chunk)[: max(0, count - chunk * ENTRY_CHUNK)]:
                known.add(_identity(entry.user_id, entry.login, entry.name))
        return known

    def _append_entries(self, count: int, added: Sequence[DirectoryEntry]) -> None:
        first_chunk = count // ENTRY_CHUNK
        stored = self.entries(first_chunk)
        kept = stored[: count - first_chunk * ENTRY_CHUNK]
        every = [*kept, *added]
        for offset in range(0, len(every), ENTRY_CHUNK):
            chunk = first_chunk + offset // ENTRY_CHUNK
            document = _encode_entries(chunk, every[offset : offset + ENTRY_CHUNK])
            self._put(
                entries_collection(chunk), document, exists=chunk == first_chunk and bool(stored)
            )

    def _put(
        self,
        collection_name: str,
        document: DirectoryEntriesDocument | DirectoryGramsDocument,
        exists: bool,
    ) -> None:
        # Not an upsert: on FerretDB v1 an upsert by `_id` reads the whole collection.
        collection = self.db[collection_name]
        if exists:
            collection.replace_one({"_id": document["_id"]}, document)
            return
        try:
            collection.insert_one(dict(document))
        except mongo_errors.DuplicateKeyError:  # left by a write that died midway
            collection.replace_one({"_id": document["_id"]}, document)

    def _add_grams(self, count: int, added: Sequence[DirectoryEntry]) -> None:
        new: dict[str, list[int]] = defaultdict(list)
        for offset, entry in enumerate(added):
            for gram in _keys(entry):
                new[gram].append(count + offset)
        by_bucket: dict[int, list[str]] = defaultdict(list)
        for gram in new:
            by_bucket[gram_bucket(gram)].append(gram)
        for bucket, bucket_grams in by_bucket.items():
            found = self.db[grams_collection(bucket)].find_one({"_id": directory_grams_id(bucket)})
            lists = _decode_grams(cast(DirectoryGramsDocument, found)) if found else {}
            for gram in bucket_grams:
                before = lists.get(gram, np.zeros(0, np.int64))
                # Entries at or past `count` are leftovers of a write that died: replaced.
                lists[gram] = np.concatenate([before[before < count], new[gram]])
            document = _encode_grams(bucket, lists)
            self._put(grams_collection(bucket), document, exists=found is not None)


class _EntryChunk:
    """A chunk of entries, decoded only as far as matching needs."""

    def __init__(self, document: DirectoryEntriesDocument | None) -> None:
        count = int(document["count"]) if document else 0
        text = zlib.decompress(document["channels"]).decode("utf-8") if document else ""
        self.text = text
        self.fields = split_names(text, 3 * count)
        self.days: np.ndarray = (
            unpack_planes(document["first_seen"], _I32, count)
            if document
            else np.zeros(0, np.int64)
        )

    def candidates(self, folded: str) -> list[int]:
        """The offsets of the entries whose fields might hold `folded` (most chunks have
        none: the whole text is checked first)."""
        if folded not in self.text.casefold():
            return []
        return [
            i
            for i in range(len(self.fields) // 3)
            if folded in self.fields[3 * i + 1] or folded in self.fields[3 * i + 2].casefold()
        ]

    def match(self, offset: int, folded: str, exact: bool) -> DirectoryEntry | None:
        if 3 * offset + 2 >= len(self.fields):
            return None
        user_id, login, name = self.fields[3 * offset : 3 * offset + 3]
        folded_name = name.casefold()
        hit = folded in (login, folded_name) if exact else folded in login or folded in folded_name
        if not hit:
            return None
        return DirectoryEntry(user_id, login, name, _EPOCH + timedelta(days=int(self.days[offset])))


def _has_prefixes(state: DirectoryStateDocument) -> bool:
    """Whether the gram lists hold the `prefixes` keys (nothing indexed: vacuously)."""
    return state.get("prefixes") == PREFIX or not state.get("indexed", state.get("entries"))


def rank_of(folded: str, entry: DirectoryEntry) -> int:
    """0: the login or name is `folded`; 1: one starts with it; 2: one contains it."""
    names = (entry.login, entry.name.casefold())
    if folded in names:
        return 0
    return 1 if any(n.startswith(folded) for n in names) else 2


def rank_matches(folded: str, entries: Iterable[DirectoryEntry]) -> list[DirectoryEntry]:
    """Exact login or name matches first, then names starting with the query, then the
    rest; in each, in the order given (oldest entry first)."""
    return sorted(entries, key=lambda entry: rank_of(folded, entry))


def _settled(found: Mapping[int, tuple[int, DirectoryEntry]], tier: int, reached: int) -> int:
    """How many found entries no unread candidate can come before: those of a better rank
    than `tier`, and those of its rank up to entry `reached` (tiers are read in order)."""
    return sum(1 for i, (r, _) in found.items() if r < tier or (r == tier and i <= reached))


def _chunk_batches(indexes: list[int]) -> Iterator[list[int]]:
    """The ascending candidates cut where a `READERS`-th new entry chunk begins, so each
    batch's chunks are read together."""
    batch: list[int] = []
    chunks: set[int] = set()
    for index in indexes:
        chunk = index // ENTRY_CHUNK
        if chunk not in chunks and len(chunks) == READERS:
            yield batch
            batch, chunks = [], set()
        chunks.add(chunk)
        batch.append(index)
    if batch:
        yield batch


def _intersect(lists: Sequence[np.ndarray]) -> np.ndarray:
    if not lists:
        return np.zeros(0, np.int64)
    result = lists[0]
    for other in sorted(lists[1:], key=len):
        result = np.intersect1d(result, other, assume_unique=True)
    return result


def _encode_entries(chunk: int, entries: Sequence[DirectoryEntry]) -> DirectoryEntriesDocument:
    text = join_names([f for e in entries for f in (e.user_id, e.login, e.name)])
    days = [(e.first_seen - _EPOCH).days for e in entries]
    return DirectoryEntriesDocument(
        _id=directory_entries_id(chunk),
        first=chunk * ENTRY_CHUNK,
        count=len(entries),
        channels=Binary(zlib.compress(text.encode("utf-8"), 9)),
        first_seen=pack_planes(np.asarray(days, np.int64), _I32),
    )


def _decode_entries(document: DirectoryEntriesDocument) -> list[DirectoryEntry]:
    count = int(document["count"])
    fields = split_names(zlib.decompress(document["channels"]).decode("utf-8"), 3 * count)
    days = unpack_planes(document["first_seen"], _I32, count)
    return [
        DirectoryEntry(
            fields[3 * i],
            fields[3 * i + 1],
            fields[3 * i + 2],
            _EPOCH + timedelta(days=int(days[i])),
        )
        for i in range(count)
    ]


def _encode_grams(bucket: int, lists: dict[str, np.ndarray]) -> DirectoryGramsDocument:
    names = sorted(lists)
    sizes = np.asarray([len(lists[g]) for g in names], np.int64)
    deltas = [np.diff(lists[g], prepend=0) for g in names]
    flat = np.concatenate(deltas) if deltas else np.zeros(0, np.int64)
    return DirectoryGramsDocument(
        _id=directory_grams_id(bucket),
        grams=join_names(names),
        gram_count=len(names),
        sizes=pack_planes(sizes, _I32),
        entries=pack_planes(flat, _I32),
    )


def _decode_grams(document: DirectoryGramsDocument) -> dict[str, np.ndarray]:
    count = int(document["gram_count"])
    names = split_names(document["grams"], count)
    sizes = unpack_planes(document["sizes"], _I32, count)
    flat = unpack_planes(document["entries"], _I32, int(sizes.sum()))
    ends = np.cumsum(sizes)
    return {
        g: np.cumsum(flat[end - size : end])
        for g, size, end in zip(names, sizes, ends, strict=True)
    }
