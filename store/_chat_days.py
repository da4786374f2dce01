"""The chat rollups of a UTC day in one document per dimension: what the Chat page reads.

Per-slot chat rollups of 1,000 channels are large documents, and FerretDB v1 decodes each
in full: a week of them takes minutes to read. A day document holds the same numbers as
packed columns (one row per slot and group), so a week is 7 documents a dimension. The
`channel` document holds the channels' numbers; their emotes and topics are in
`channel_emotes`, read only for the channel a visitor picks. A day's documents are
rewritten whenever one of its slots' rollups is (re)built.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, cast

import numpy as np

from slots import day_of
from store._chat_records import ChatRollupDocument
from store._packing import ENCODING, join_names, pack, split_names, unpack
from store._records import ChatDayDocument, history_id
from store.schema import SCHEMA_VERSION

CHAT_DAY_DIMENSIONS = ("all", "channel", "channel_emotes", "game", "genre", "language")
CHAT_DAY_ARRAYS = ("numbers", "emotes", "topics")  # a day's row arrays
CHAT_FIELDS = (
    "minutes",
    "messages",
    "chatter_minutes",
    "viewer_minutes",
    "free_emote_uses",
    "paid_emote_uses",
)
# numbers: slot, key, game, language, CHAT_FIELDS…; emotes: slot, key, emote, uses;
# topics: slot, key, topic, emote (-1: the topic's message count), uses
NUMBER_COLUMNS = 4 + len(CHAT_FIELDS)
_I64 = np.dtype("<i8")
# In memory: one row's numbers are one slot's (at most 30 minutes × a few million
# viewers), well inside int32, which halves what a reader holds.
ROW = np.int32


class _Names:
    """A list of names with the index of each (names only ever get added)."""

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names = list(names)
        self._index = {name: i for i, name in enumerate(self.names)}

    def __call__(self, name: str) -> int:
        found = self._index.get(name)
        if found is None:
            found = self._index[name] = len(self.names)
            self.names.append(name)
        return found


@dataclass(frozen=True)
class ChatDay:
    day: datetime
    dimension: str
    slots: list[datetime]
    keys: list[str]
    labels: list[str]  # each key's name (game name, channel display name), latest slot's
    game_ids: list[str]
    languages: list[str]
    emote_ids: list[str]
    topic_names: list[str]
    numbers: np.ndarray
    emotes: np.ndarray
    topics: np.ndarray
    emote_names: dict[str, str] = field(default_factory=dict)
    paid: frozenset[str] = frozenset()
    # Per slot: the minutes whose chat was read, of how many (-1: not recorded, as in
    # days written before readers said so; taken as read whole).
    minutes_read: list[int] = field(default_factory=list)
    minutes_in_slot: list[int] = field(default_factory=list)

    @classmethod
    def empty(cls, day: datetime, dimension: str) -> ChatDay:
        return cls(
            day_of(day), dimension, [], [], [], [], [], [], [],
            np.zeros((0, NUMBER_COLUMNS), dtype=ROW),
            np.zeros((0, 4), dtype=ROW),
            np.zeros((0, 5), dtype=ROW),
        )  # fmt: skip

    def with_slot(self, slot: datetime, rollup: ChatRollupDocument) -> ChatDay:
        """This day with `slot`'s rows replaced by those of its chat rollup document (of
        this dimension; of `channel` for `channel_emotes`)."""
        slots = list(self.slots)
        read, whole = self.coverage()
        if slot not in slots:
            slots.append(slot)
            read.append(-1)
            whole.append(-1)
        s = slots.index(slot)
        read[s] = int(rollup.get("minutes_read", -1))
        whole[s] = int(rollup.get("minutes_in_slot", -1))
        keys, games, languages = _Names(self.keys), _Names(self.game_ids), _Names(self.languages)
        emote_ids, topic_names = _Names(self.emote_ids), _Names(self.topic_names)
        labels = list(self.labels)
        numbers: list[list[int]] = []
        emotes: list[tuple[int, int, int, int]] = []
        topics: list[tuple[int, int, int, int, int]] = []
        with_numbers = self.dimension != "channel_emotes"
        with_emotes = self.dimension != "channel"
        for group in rollup["groups"]:
            k = keys(str(group["key"]))
            labels.extend([""] * (len(keys.names) - len(labels)))
            labels[k] = str(group.get("name", "") or labels[k])
            if with_numbers:
                game = str(group.get("game_id", ""))
                language = str(group.get("language", ""))
                numbers.append(
                    [
                        s,
                        k,
                        games(game) if game else -1,
                        languages(language) if language else -1,
                        *(int(cast(Mapping[str, int], group).get(f, 0)) for f in CHAT_FIELDS),
                    ]
                )
            if with_emotes:
                emotes.extend((s, k, emote_ids(e), int(n)) for e, n in group["emotes"].items())
                for topic, counts in group.get("topics", {}).items():
                    t = topic_names(topic)
                    topics.append((s, k, t, -1, int(counts["messages"])))
                    topics.extend(
                        (s, k, t, emote_ids(e), int(n)) for e, n in counts["emotes"].items()
                    )

        def merged(old: np.ndarray, new: list[Any], width: int) -> np.ndarray:
            kept = old[old[:, 0] != s] if len(old) else old
            rows = np.asarray(new, dtype=ROW).reshape(-1, width)
            return np.concatenate([kept, rows]) if len(rows) else kept

        return replace(
            self,
            slots=slots,
            keys=keys.names,
            labels=labels,
            game_ids=games.names,
            languages=languages.names,
            emote_ids=emote_ids.names,
            topic_names=topic_names.names,
            numbers=merged(self.numbers, numbers, NUMBER_COLUMNS),
            emotes=merged(self.emotes, emotes, 4),
            topics=merged(self.topics, topics, 5),
            emote_names={**self.emote_names, **rollup.get("emote_names", {})},
            paid=self.paid | frozenset(rollup.get("paid_emotes", [])),
            minutes_read=read,
            minutes_in_slot=whole,
        )

    def coverage(self) -> tuple[list[int], list[int]]:
        """`minutes_read` and `minutes_in_slot`, one per slot (-1 where not recorded)."""
        missing = [-1] * (len(self.slots) - len(self.minutes_read))
        return [*self.minutes_read, *missing], [*self.minutes_in_slot, *missing]

    def to_document(self, written_at: datetime) -> ChatDayDocument:
        def columns(array: np.ndarray) -> list[Any]:
            # Column by column: each compresses far better than interleaved rows.
            return [pack(array[:, c], _I64) for c in range(array.shape[1])]

        return {
            "_id": history_id(self.day, self.dimension),
            "day": self.day,
            "dimension": self.dimension,
            "slots": self.slots,
            "key_count": len(self.keys),
            "keys": join_names(self.keys),
            "labels": join_names(self.labels),
            "game_count": len(self.game_ids),
            "game_ids": join_names(self.game_ids),
            "language_count": len(self.languages),
            "languages": join_names(self.languages),
            "emote_count": len(self.emote_ids),
            "emote_ids": join_names(self.emote_ids),
            "topic_count": len(self.topic_names),
            "topic_names": join_names(self.topic_names),
            "rows": [len(self.numbers), len(self.emotes), len(self.topics)],
            "numbers": columns(self.numbers),
            "emotes": columns(self.emotes),
            "topics": columns(self.topics),
            # Joined, not an object and an array: FerretDB v1 takes time superlinear in
            # an object's keys, and most per value of an array, to return a document.
            "emote_name_count": len(self.emote_names),
            "emote_names": join_names([t for pair in self.emote_names.items() for t in pair]),
            "paid_count": len(self.paid),
            "paid_emotes": join_names(sorted(self.paid)),
            "minutes_read": self.coverage()[0],
            "minutes_in_slot": self.coverage()[1],
            "encoding": ENCODING,
            "written_at": written_at,
            "schema_version": SCHEMA_VERSION,
        }

    @cached_property
    def key_array(self) -> np.ndarray:
        """`keys` as an array, for indexing by row (made once per day read)."""
        return np.asarray(self.keys, dtype=object)

    @cached_property
    def label_array(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=object)

    @classmethod
    def from_document(
        cls, document: Mapping[str, Any], arrays: Collection[str] = CHAT_DAY_ARRAYS
    ) -> ChatDay:
        """The day a document holds; of its row arrays only `arrays` (the others empty:
        a reader of one channel's emotes need not unpack a thousand channels' topics)."""
        rows = document["rows"]

        def columns(name: str, count: int) -> np.ndarray:
            width = {"numbers": NUMBER_COLUMNS, "emotes": 4, "topics": 5}[name]
            if name not in arrays:
                return np.zeros((0, width), dtype=ROW)
            parts = [unpack(c, _I64, (count,)).astype(ROW) for c in document[name]]
            return np.stack(parts, axis=1) if parts else np.zeros((0, width), dtype=ROW)

        return cls(
            day=document["day"],
            dimension=document["dimension"],
            slots=list(document["slots"]),
            keys=split_names(document["keys"], document["key_count"]),
            labels=split_names(document["labels"], document["key_count"]),
            game_ids=split_names(document["game_ids"], document["game_count"]),
            languages=split_names(document["languages"], document["language_count"]),
            emote_ids=split_names(document["emote_ids"], document["emote_count"]),
            topic_names=split_names(document["topic_names"], document["topic_count"]),
            numbers=columns("numbers", rows[0]),
            emotes=columns("emotes", rows[1]),
            topics=columns("topics", rows[2]),
            emote_names=_emote_names(document),
            paid=_paid(document),
            minutes_read=list(document.get("minutes_read", [])),
            minutes_in_slot=list(document.get("minutes_in_slot", [])),
        )


def _emote_names(document: Mapping[str, Any]) -> dict[str, str]:
    """Emote id → text: joined id, text, id, text …; an object in days written before."""
    stored = document.get("emote_names", {})
    if isinstance(stored, Mapping):
        return dict(stored)
    flat = split_names(stored, 2 * int(document["emote_name_count"]))
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _paid(document: Mapping[str, Any]) -> frozenset[str]:
    """The paid emote ids: joined; an array in days written before."""
    stored = document.get("paid_emotes", [])
    if isinstance(stored, str):
        return frozenset(split_names(stored, int(document["paid_count"])))
    return frozenset(stored)
