"""The storage layer: Genre Radar's MongoDB schema, writes, rollups and the spool.

This module is the store's whole public face: other packages import from `store` only.
The submodules (`store._mongo`, `store._reader` …) are private; `store.schema` (the
collection names and genre rules, documented in `docs/schema.md`) and `store.histogram`
(the viewer-count bins) are public namespaces.

- writers: `Store` (snapshots, rollups, history), `FrameStore`, `ChatStore`,
  `HighlightStore`; `Spool` keeps batches a write could not store;
- the reader: `StoreReader`, the dashboard's only way in (it has no write method);
- records and ids: `store._records` (meta states, frames, rollups and every `_id`),
  `store._chat_records` (chat minutes, rollups, emotes), `store._highlight_records`
  (analysed clips and their index),
  `store._documents` (the snapshot's documents), `DayHistory` and `ChatDay` (days);
- every listed channel per slot: `ChannelListing` (written with the snapshot),
  `read_channel_listing` (a slot as a DataFrame), `read_slot_rows`, `read_day_channels`;
- notebooks: `read_history`, `read_histograms`, `read_dimension` give DataFrames/days.
"""

from store import histogram, schema
from store._batch import SnapshotBatch
from store._channel_store import (
    ChannelWrite,
    ChannelWriter,
    read_channel_listing,
    read_day_channels,
    read_slot_rows,
)
from store._channels import (
    ChannelListing,
    ChannelNamesDocument,
    ChannelSlotDocument,
    DayChannels,
    SlotRows,
    directory_ranks,
)
from store._chat import (
    ChatStore,
    minutes_between,
    read_chat_day,
    read_chat_rollup,
    shard_label,
)
from store._chat_days import CHAT_DAY_DIMENSIONS, CHAT_FIELDS, ChatDay
from store._chat_records import (
    SECOND_FIELDS,
    ChatMinuteDocument,
    ChatMinuteEntry,
    ChatRollupDocument,
    ChatRollupGroup,
    EmoteDocument,
    SecondCounts,
    TopicCounts,
)
from store._chat_rollups import (
    CHAT_ALL_KEY,
    ChatSums,
    TopicSums,
    compute_chat_rollups,
    merge_channel_minutes,
)
from store._documents import (
    GameDocument,
    QuarantineDocument,
    SnapshotDocument,
    StreamDocument,
    game_document,
    quarantine_document,
    snapshot_document,
    stream_document,
)
from store._errors import SpoolFileInvalid, StoreError, StoreUnavailable
from store._frames import FrameStore
from store._highlight_records import (
    FeatureContribution,
    HighlightClip,
    HighlightIndexEntry,
    Moment,
    SnapshotGame,
)
from store._highlights import (
    HighlightStore,
    clip_features,
    newest_channel_games,
    read_channel_clips,
)
from store._history import (
    HISTORY_DIMENSIONS,
    DayHistory,
    collection_of,
    read_dimension,
    read_histograms,
    read_history,
)
from store._localdb import LocalFerretDB, free_port
from store._mongo import Store, set_phase_hook
from store._packing import join_names, pack, split_names, unpack
from store._reader import StoreReader
from store._records import (
    Backfill,
    ChatDayDocument,
    ChatState,
    ClassifierModel,
    FrameDocument,
    FrameFailure,
    FrameLabel,
    FrameMetadata,
    GameSummary,
    HighlightsState,
    HistoryDocument,
    MarketState,
    RollupDocument,
    RollupGroup,
    StreamCategory,
    StreamGenre,
    channel_names_id,
    channel_slot_id,
    chat_minute_id,
    clip_key,
    frame_id,
    frame_stream_key,
    highlight_day_id,
    history_id,
    label_id,
    parse_clip_key,
    parse_history_id,
    parse_rollup_id,
    rollup_id,
    stream_key,
)
from store._rollups import (
    DIMENSIONS,
    HISTOGRAM_DIMENSIONS,
    KEY_SEPARATOR,
    compute_rollups,
    derive_genre_rollups,
)
from store._spool import Spool

__all__ = [
    "CHAT_ALL_KEY",
    "CHAT_DAY_DIMENSIONS",
    "CHAT_FIELDS",
    "DIMENSIONS",
    "HISTOGRAM_DIMENSIONS",
    "HISTORY_DIMENSIONS",
    "KEY_SEPARATOR",
    "SECOND_FIELDS",
    "Backfill",
    "ChannelListing",
    "ChannelNamesDocument",
    "ChannelSlotDocument",
    "ChannelWrite",
    "ChannelWriter",
    "ChatDay",
    "ChatDayDocument",
    "ChatMinuteDocument",
    "ChatMinuteEntry",
    "ChatRollupDocument",
    "ChatRollupGroup",
    "ChatState",
    "ChatStore",
    "ChatSums",
    "ClassifierModel",
    "DayChannels",
    "DayHistory",
    "EmoteDocument",
    "FeatureContribution",
    "FrameDocument",
    "FrameFailure",
    "FrameLabel",
    "FrameMetadata",
    "FrameStore",
    "GameDocument",
    "GameSummary",
    "HighlightClip",
    "HighlightIndexEntry",
    "HighlightStore",
    "HighlightsState",
    "HistoryDocument",
    "LocalFerretDB",
    "MarketState",
    "Moment",
    "QuarantineDocument",
    "RollupDocument",
    "RollupGroup",
    "SecondCounts",
    "SlotRows",
    "SnapshotBatch",
    "SnapshotDocument",
    "SnapshotGame",
    "Spool",
    "SpoolFileInvalid",
    "Store",
    "StoreError",
    "StoreReader",
    "StoreUnavailable",
    "StreamCategory",
    "StreamDocument",
    "StreamGenre",
    "TopicCounts",
    "TopicSums",
    "channel_names_id",
    "channel_slot_id",
    "chat_minute_id",
    "clip_features",
    "clip_key",
    "collection_of",
    "compute_chat_rollups",
    "compute_rollups",
    "derive_genre_rollups",
    "directory_ranks",
    "frame_id",
    "frame_stream_key",
    "free_port",
    "game_document",
    "highlight_day_id",
    "histogram",
    "history_id",
    "join_names",
    "label_id",
    "merge_channel_minutes",
    "minutes_between",
    "newest_channel_games",
    "pack",
    "parse_clip_key",
    "parse_history_id",
    "parse_rollup_id",
    "quarantine_document",
    "read_channel_clips",
    "read_channel_listing",
    "read_chat_day",
    "read_chat_rollup",
    "read_day_channels",
    "read_dimension",
    "read_histograms",
    "read_history",
    "read_slot_rows",
    "rollup_id",
    "schema",
    "set_phase_hook",
    "shard_label",
    "snapshot_document",
    "split_names",
    "stream_document",
    "stream_key",
    "unpack",
]
