"""The records that cross the store's border, with the ids they are stored under.

Every `_id` the store writes is built here and nowhere else, and the `meta` state
documents are read into typed records here, so a reader never spells a key or a field
path by hand. The document layout itself is `docs/schema.md`'s: these types describe it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, NotRequired

# typing_extensions: pydantic validates some of these (spooled batches) and needs its
# TypedDict on Python 3.11.
from typing_extensions import TypedDict

from slots import day_key, parse_day_key, parse_slot_key, slot_key

# ---------------------------------------------------------------------------- ids


def stream_key(slot: datetime, stream_id: str) -> str:
    """A stream at a slot: the `_id` of its `streams` document, and how frames, labels
    and stream genres name the stream they belong to."""
    return f"{slot_key(slot)}/{stream_id}"


def rollup_id(slot: datetime, dimension: str) -> str:
    """A slot's rollup of one dimension (`rollups`, and `chat_rollups` alike)."""
    return f"{slot_key(slot)}/{dimension}"


def parse_rollup_id(rollup: str) -> tuple[datetime, str]:
    """The slot and dimension of a `rollup_id`."""
    key, _, dimension = rollup.partition("/")
    return parse_slot_key(key), dimension


def history_id(day: datetime, dimension: str) -> str:
    """A UTC day of one dimension (`history_*` and `chat_days` documents)."""
    return f"{day_key(day)}/{dimension}"


def parse_history_id(history: str) -> tuple[datetime, str]:
    """The day and dimension of a `history_id`."""
    key, _, dimension = history.partition("/")
    return parse_day_key(key), dimension


def frame_id(slot: datetime, stream_id: str, source: str, index: int = 0) -> str:
    """A frame's deterministic GridFS id, so a re-run stores nothing twice."""
    return f"{stream_key(slot, stream_id)}/{source}{index}"


def label_id(frame: str, model_version: str) -> str:
    """The label a model version gave one frame."""
    return f"{frame}@{model_version}"


def chat_minute_id(minute: datetime, shard: str) -> str:
    """One chat reader shard's counts of one minute."""
    return f"{slot_key(minute)}/{shard}"


def clip_key(login: str, start: datetime) -> str:
    """A channel's clip that starts at `start` (whole seconds): its key in the day's
    `highlight_games` index and its `highlight_failures` `_id`."""
    return f"{login}@{int(start.timestamp())}"


def parse_clip_key(key: str) -> tuple[str, datetime]:
    """The login and start of a `clip_key`."""
    login, _, epoch = key.rpartition("@")
    return login, datetime.fromtimestamp(int(epoch), UTC)


def channel_names_id(day: datetime, part: int, group: int | None) -> str:
    """One group of a part of a day's channel names (parts are numbered 0, 1, … as
    written); group None: a whole part, as written before parts were grouped."""
    return f"{day_key(day)}/{part}" if group is None else f"{day_key(day)}/{part}/{group}"


def channel_slot_id(slot: datetime, chunk: int) -> str:
    """One chunk of a slot's listed channels."""
    return f"{slot_key(slot)}/{chunk}"


def channel_day_id(day: datetime, bucket: int) -> str:
    """One bucket of a day's channels (`channel_days`)."""
    return f"{day_key(day)}/{bucket}"


def channel_summary_id(month: datetime, bucket: int) -> str:
    """One bucket of a month's per-day channel summaries (`channel_summaries`)."""
    return f"{month:%Y-%m}/{bucket}"


def directory_entries_id(chunk: int) -> str:
    """A chunk of the login directory's entries (`channel_directory`)."""
    return f"entries/{chunk}"


def directory_grams_id(bucket: int) -> str:
    """A gram bucket of the login directory (`channel_directory`)."""
    return f"grams/{bucket}"


def highlight_day_id(day: datetime, login: str) -> str:
    """A channel's highlight clips of one UTC day."""
    return f"{day_key(day)}/{login}"


# --------------------------------------------------------------------- packed days


class HistoryDocument(TypedDict):
    """A `history_*` document: one UTC day of one dimension, packed (`DayHistory`)."""

    _id: str  # history_id(day, dimension)
    day: datetime
    dimension: str
    slots: list[datetime]
    levels: list[str]
    key_count: int
    keys: str  # joined by store._packing.SEPARATOR
    names: str
    encoding: str
    channels: bytes  # zlib int32, keys × slots
    viewers: bytes
    total_channels: list[int]
    total_viewers: list[int]
    scopes: list[str]
    written_at: datetime
    schema_version: int
    bins: NotRequired[list[int]]  # viewer-count histograms (some dimensions)
    histogram: NotRequired[bytes]
    languages: NotRequired[str]  # channel history: game and directory rank per slot
    game_ids: NotRequired[str]
    game_count: NotRequired[int]
    game: NotRequired[bytes]
    rank: NotRequired[bytes]


class ChatDayDocument(TypedDict):
    """A `chat_days` document: one UTC day of chat of one dimension, packed (`ChatDay`)."""

    _id: str  # history_id(day, dimension)
    day: datetime
    dimension: str
    slots: list[datetime]
    key_count: int
    keys: str
    labels: str
    game_count: int
    game_ids: str
    language_count: int
    languages: str
    emote_count: int
    emote_ids: str
    topic_count: int
    topic_names: str
    rows: list[int]  # row counts of numbers, emotes, topics
    numbers: list[bytes]  # one zlib int64 column each
    emotes: list[bytes]
    topics: list[bytes]
    emote_name_count: int
    emote_names: str  # id, text, id, text … joined (an object in days written before)
    paid_count: int
    paid_emotes: str  # joined ids (an array in days written before)
    minutes_read: list[int]
    minutes_in_slot: list[int]
    encoding: str
    written_at: datetime
    schema_version: int


# ------------------------------------------------------------------------ rollups


class RollupGroup(TypedDict):
    """One key's figures in a rollup: distinct channels and their summed viewers."""

    key: str
    channels: int
    viewers: int
    name: NotRequired[str]
    histogram: NotRequired[Any]  # viewer-count histogram: a list, or numpy while built
    language: NotRequired[str]  # channel rollups
    game_id: NotRequired[str]  # channel rollups
    rank: NotRequired[int]  # channel rollups


class RollupDocument(TypedDict):
    """A `rollups` document: one slot, one dimension."""

    _id: str
    slot: datetime
    dimension: str
    total_viewers: int
    total_channels: int
    scope: str
    groups: list[RollupGroup]
    written_at: datetime
    schema_version: int


# ------------------------------------------------------------------- meta states


@dataclass(frozen=True)
class Backfill:
    """A backfill writing past slots (so old data is not stale)."""

    running: bool = False
    until: datetime | None = None
    heartbeat: datetime | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> Backfill | None:
        if not document:
            return None
        return cls(bool(document.get("running")), document.get("until"), document.get("heartbeat"))


@dataclass(frozen=True)
class MarketState:
    """The `meta` document `rollups`: what changed, so readers need not scan for it.

    `history_days` maps a day key to when the day's history last changed (readers reload
    only those); `history_pending` the slots published whose day history is not written
    yet (slot key → slot), which the next writer finishes."""

    ID: ClassVar[str] = "rollups"

    newest_slot: datetime | None = None
    newest_degraded: bool = False
    written_at: datetime | None = None
    rebuilt_at: datetime | None = None
    history_days: Mapping[str, datetime] = field(default_factory=dict)
    history_pending: Mapping[str, datetime] = field(default_factory=dict)
    backfill: Backfill | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> MarketState:
        found = document or {}
        return cls(
            newest_slot=found.get("newest_slot"),
            newest_degraded=bool(found.get("newest_degraded")),
            written_at=found.get("written_at"),
            rebuilt_at=found.get("rebuilt_at"),
            history_days=dict(found.get("history_days") or {}),
            history_pending=dict(found.get("history_pending") or {}),
            backfill=Backfill.from_document(found.get("backfill")),
        )

    def day_version(self, day: datetime) -> datetime | None:
        return self.history_days.get(day_key(day))

    @staticmethod
    def day_field(day: datetime) -> str:
        """The field path of a day's version, for `$set`."""
        return f"history_days.{day_key(day)}"

    @staticmethod
    def pending_field(slot: datetime) -> str:
        """The field path of a slot's pending mark, for `$set`/`$unset`."""
        return f"history_pending.{slot_key(slot)}"


@dataclass(frozen=True)
class ChatState:
    """The `meta` document `chat`: when each slot's and day's chat rollups were written."""

    ID: ClassVar[str] = "chat"

    newest_slot: datetime | None = None
    slots: Mapping[str, datetime] = field(default_factory=dict)
    days: Mapping[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> ChatState:
        found = document or {}
        return cls(
            newest_slot=found.get("newest_slot"),
            slots=dict(found.get("slots") or {}),
            days=dict(found.get("days") or {}),
        )

    @staticmethod
    def slot_field(slot: datetime) -> str:
        return f"slots.{slot_key(slot)}"

    @staticmethod
    def day_field(day: datetime) -> str:
        return f"days.{day_key(day)}"


@dataclass(frozen=True)
class ChannelsState:
    """The `meta` document `channels`: per UTC day, its slots whose channels are stored
    (slot key → when written), and the newest of those writes that the day's
    `channel_days` documents include."""

    ID: ClassVar[str] = "channels"

    slots: Mapping[str, Mapping[str, datetime]] = field(default_factory=dict)
    compacted: Mapping[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> ChannelsState:
        found = document or {}
        return cls(
            slots={k: dict(v) for k, v in (found.get("slots") or {}).items()},
            compacted=dict(found.get("compacted") or {}),
        )

    def newest_write(self, day: datetime) -> datetime | None:
        return max(self.slots.get(day_key(day), {}).values(), default=None)

    def is_compacted(self, day: datetime) -> bool:
        newest = self.newest_write(day)
        return newest is not None and self.compacted.get(day_key(day)) == newest

    def slots_of(self, day: datetime) -> list[datetime]:
        return sorted(parse_slot_key(k) for k in self.slots.get(day_key(day), {}))

    def days(self) -> list[datetime]:
        """The days with stored slots, oldest first."""
        return sorted(parse_day_key(key) for key in self.slots)

    def days_to_compact(self, before: datetime) -> list[datetime]:
        """Days before `before` with slot writes not compacted yet, oldest first."""
        return [d for d in self.days() if d < before and not self.is_compacted(d)]

    @staticmethod
    def slot_field(slot: datetime) -> str:
        return f"slots.{day_key(slot)}.{slot_key(slot)}"

    @staticmethod
    def day_field(day: datetime) -> str:
        return f"slots.{day_key(day)}"

    @staticmethod
    def compacted_field(day: datetime) -> str:
        return f"compacted.{day_key(day)}"


@dataclass(frozen=True)
class HighlightsState:
    """The `meta` document `highlights`: when a clip was last written."""

    ID: ClassVar[str] = "highlights"

    written_at: datetime | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> HighlightsState:
        return cls(written_at=(document or {}).get("written_at"))


# ------------------------------------------------------------------------- games


class GameSummary(TypedDict):
    """What the dashboard reads of a `games` document: its name and genre."""

    _id: str
    name: str
    primary_genre: str | None
    is_game: bool


# ------------------------------------------------------------------------ frames


class FrameMetadata(TypedDict):
    """A stored frame's GridFS metadata: which stream, channel, game and slot it shows,
    and why it was sampled. Frames stored by older releases may lack the optional keys."""

    slot: datetime
    stream_id: str
    user_login: str
    game_id: str
    user_name: NotRequired[str]
    game_name: NotRequired[str]
    language: NotRequired[str]
    viewer_count: NotRequired[int]
    rank: NotRequired[int]
    source: NotRequired[str]  # thumbnail | clip
    sampled_as: NotRequired[str]  # top | random | non-game
    width: NotRequired[int]
    height: NotRequired[int]
    bytes: NotRequired[int]
    clip_index: NotRequired[int]


class FrameDocument(TypedDict):
    """A `frames.files` document as readers get it (no bytes)."""

    _id: str
    length: int
    metadata: FrameMetadata


class FrameFailure(TypedDict):
    """A `frame_failures` document: a frame that could not be captured, and why."""

    _id: str  # the frame's id (`frame_id`)
    slot: datetime
    stream_id: str
    user_login: str
    game_id: str
    reason: str  # short and machine-readable: offline, placeholder, clip undecodable …
    detail: str
    at: datetime


class FrameLabel(TypedDict):
    """A `frame_labels` document: one model version's label of one frame."""

    _id: str  # `label_id`
    frame_id: str
    stream_key: str
    slot: datetime
    stream_id: str
    model_version: str
    target: NotRequired[str]  # genre | game; absent on early genre labels
    status: str  # ok | unreadable
    error: NotRequired[str]
    genre: NotRequired[str]
    game: NotRequired[str]
    confidence: NotRequired[float]
    probabilities: NotRequired[dict[str, float]]
    labelled_at: datetime


class StreamGenre(TypedDict):
    """A `stream_genres` document: the genre a model sees in one stream's frames."""

    _id: str  # `stream_key`
    slot: datetime
    stream_id: str
    user_login: str
    user_name: str
    game_id: str
    game_name: str
    category_genre: str
    genre: str
    confidence: float
    disagrees: bool
    frames: int
    model_version: str
    labelled_at: datetime


class StreamCategory(TypedDict):
    """A `stream_categories` document: the category a model recognises in a stream."""

    _id: str  # `stream_key`
    slot: datetime
    stream_id: str
    user_login: str
    user_name: str
    game_id: str
    game_name: str
    looks_like: str
    confidence: float
    own_probability: float | None
    shows_other: bool
    frames: int
    model_version: str
    labelled_at: datetime


class ClassifierModel(TypedDict):
    """A `classifier_models` document: a model that labelled frames, and its quality."""

    _id: str  # the model version
    target: str
    classes: list[str]
    trained_at: str
    data: str
    temperature: float
    validation: dict[str, Any]
    backbone: NotRequired[str]  # absent on documents recorded before it was
    min_balanced_accuracy: NotRequired[float]
    trusted: NotRequired[bool]
    recorded_at: datetime


def frame_stream_key(metadata: FrameMetadata) -> str:
    """The stream a frame belongs to (`stream_key`)."""
    return stream_key(metadata["slot"], metadata["stream_id"])
