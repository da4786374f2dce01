"""Read-only access for the dashboard and notebooks: queries, never writes.

The dashboard connects with MONGODB_URI_READONLY (a user with only the `read` role in
production) and talks to the database only through `StoreReader`, which has no method
that writes: the dashboard has no write path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pandas as pd
import pymongo
from bson.codec_options import CodecOptions
from pymongo.database import Database

from slots import Cadence
from store import schema
from store._channel_directory import DirectoryEntry
from store._channel_store import (
    find_channel,
    read_channel_days,
    read_channel_history,
    read_channels_state,
    read_last_seen,
    search_channels,
)
from store._channel_weeks import CohortDocument, channels_like, read_cohorts, stored_weeks
from store._chat import read_chat_day
from store._chat_days import CHAT_DAY_ARRAYS, ChatDay
from store._chat_live import ChatLiveDocument, LiveCounts, live_counts
from store._directory_counts import (
    AudienceDirectory,
    DirectoryCounts,
    directory_positions,
    directory_totals,
    game_directory_counts,
    read_directory_day,
)
from store._followers import read_followers, read_followers_gained
from store._highlight_records import HighlightClip, HighlightIndexEntry
from store._highlights import highlights_written_at, read_channel_clips, read_game_clips
from store._history import DayHistory, read_dimension, read_documents
from store._moment_clips import MomentClip, read_moment_clip
from store._mongo import translate_errors
from store._records import (
    ChatState,
    ClassifierModel,
    FrameDocument,
    FrameLabel,
    GameSummary,
    MarketState,
    RollupDocument,
    StreamCategory,
    StreamGenre,
    chat_minute_id,
    rollup_id,
)
from store._rollups import TAG_DIMENSIONS

Document = dict[str, Any]


def read_frames(db: Database[Document], ids: Sequence[str]) -> dict[str, bytes]:
    """The bytes of these GridFS frames (missing ones are absent), with one chunks query:
    FerretDB v1 filters `frames.chunks` without an index, so one query per batch is far
    cheaper than one per frame."""
    if not ids:
        return {}
    parts: dict[str, list[tuple[int, bytes]]] = {}
    chunks = db[f"{schema.FRAMES_BUCKET}.chunks"].find(
        {"files_id": {"$in": list(ids)}}, {"files_id": 1, "n": 1, "data": 1}
    )
    for chunk in chunks:
        parts.setdefault(chunk["files_id"], []).append((chunk["n"], bytes(chunk["data"])))
    return {i: b"".join(data for _, data in sorted(p)) for i, p in parts.items()}


class StoreReader:
    """The queries the dashboard makes (all served by indexes)."""

    def __init__(self, uri: str, database: str, *, timeout_ms: int = 5000) -> None:
        self._client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, retryWrites=False
        )
        options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
        self._db: Database[dict[str, Any]] = self._client.get_database(
            database, codec_options=options
        )

    def close(self) -> None:
        self._client.close()

    def rollup_state(self) -> MarketState:
        """What changed since a reader last looked (empty before the first snapshot)."""
        with translate_errors("reading the rollup state"):
            return MarketState.from_document(
                self._db[schema.META].find_one({"_id": MarketState.ID})
            )

    def published_slots(self) -> set[datetime]:
        """The slots whose snapshot is complete: the only ones readers may use (a slot being
        written, or whose write crashed, has rollups that are not to be trusted)."""
        with translate_errors("reading snapshots"):
            return {
                doc["slot"]
                for doc in self._db[schema.SNAPSHOTS].find({"status": schema.COMPLETE}, {"slot": 1})
            }

    def history_documents(self, wanted: Sequence[tuple[datetime, str]]) -> list[DayHistory]:
        """These (day, dimension) days of the compact history (missing ones are absent)."""
        with translate_errors("reading the history"):
            return read_documents(self._db, wanted)

    def history_dimension(
        self, dimension: str, since: datetime | None = None
    ) -> Iterator[DayHistory]:
        """Every stored day of a dimension's compact history, from `since` on, one at a
        time (a year of days is read without holding it all decoded at once)."""
        with translate_errors(f"reading the {dimension} history"):
            yield from read_dimension(self._db, dimension, since)

    def chat_state(self) -> ChatState:
        """When each slot's and day's chat rollups were written."""
        with translate_errors("reading the chat state"):
            return ChatState.from_document(self._db[schema.META].find_one({"_id": ChatState.ID}))

    def chat_day(
        self, day: datetime, dimension: str, arrays: Collection[str] = CHAT_DAY_ARRAYS
    ) -> ChatDay | None:
        return read_chat_day(self._db, day, dimension, arrays)

    def chat_live(self, minutes: Sequence[datetime], shards: Sequence[str]) -> list[LiveCounts]:
        """The live view's copies of these minutes (`chat_live`), every reader shard's that
        is stored, each read by its `_id`: FerretDB v1 answers a query for several `_id`s
        by scanning the collection."""
        ids = [chat_minute_id(minute, shard) for minute in minutes for shard in shards]
        found = []
        with translate_errors("reading live chat"):
            for minute_id in ids:
                document = self._db[schema.CHAT_LIVE].find_one({"_id": minute_id})
                if document is not None:
                    found.append(live_counts(cast(ChatLiveDocument, document)))
        return found

    def moment_clip(self, clip_id: str) -> tuple[MomentClip, bytes] | None:
        """A highlight moment's video (its file document and MP4 bytes)."""
        return read_moment_clip(self._db, clip_id)

    def highlight_clips(self, login: str, days: Iterable[datetime]) -> list[HighlightClip]:
        return read_channel_clips(self._db, login, days)

    def highlight_game_clips(self, days: Iterable[datetime]) -> list[HighlightIndexEntry]:
        return read_game_clips(self._db, days)

    def highlights_written_at(self) -> datetime | None:
        return highlights_written_at(self._db)

    def search_channels(
        self, text: str, limit: int, *, exact: bool = False
    ) -> list[DirectoryEntry]:
        """Channels ever listed whose login or display name contains (or is) `text`."""
        with translate_errors("searching channels"):
            return search_channels(self._db, text, limit, exact=exact)

    def find_channel(self, login: str) -> DirectoryEntry | None:
        """The channel listed under this exact login, or None."""
        with translate_errors("searching channels"):
            return find_channel(self._db, login)

    def channel_slot_days(self) -> list[datetime]:
        """The UTC days whose every listed channel is kept slot by slot, oldest first."""
        with translate_errors("reading the channel state"):
            return read_channels_state(self._db).days()

    def channel_slots(self, user_id: str, start: datetime, end: datetime) -> pd.DataFrame:
        """A channel's listed slots in [start, end) (`read_channel_history`)."""
        with translate_errors("reading a channel's slots"):
            return read_channel_history(self._db, user_id, start, end)

    def channel_days(
        self, user_id: str, start: datetime, end: datetime, cadence: Cadence
    ) -> pd.DataFrame:
        """A channel's per-day summaries for the days in [start, end) (`read_channel_days`)."""
        with translate_errors("reading a channel's days"):
            return read_channel_days(self._db, user_id, start, end, cadence)

    def channel_last_seen(self, user_id: str, before: datetime) -> datetime | None:
        with translate_errors("reading when a channel was last seen"):
            return read_last_seen(self._db, user_id, before)

    def followers(
        self, user_ids: Iterable[str], start: datetime, end: datetime
    ) -> dict[str, pd.DataFrame]:
        """Channels' daily follower totals and gains in [start, end) (`read_followers`)."""
        with translate_errors("reading followers"):
            return read_followers(self._db, user_ids, start, end)

    def followers_gained(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Every tracked channel's followers and gain in [start, end), by login."""
        with translate_errors("reading followers"):
            return read_followers_gained(self._db, start, end)

    def directory_totals(self, start: datetime, end: datetime, language: str) -> pd.DataFrame:
        """Live channels by game and viewer bin, summed over the slots of [start, end)
        (`directory_totals`; language `*`: all)."""
        with translate_errors("reading directory counts"):
            return directory_totals(self._db, start, end, language)

    def directory_positions(
        self,
        start: datetime,
        end: datetime,
        language: str,
        viewers: int,
        wanted: Callable[[datetime], bool],
    ) -> AudienceDirectory:
        """Every game's directory as a channel of `viewers` sees it, per wanted slot
        (`directory_positions`)."""
        with translate_errors("reading directory counts"):
            return directory_positions(self._db, start, end, language, viewers, wanted)

    def directory_day(self, day: datetime, language: str) -> DirectoryCounts | None:
        """One UTC day's directory counts of a language (`read_directory_day`)."""
        with translate_errors("reading directory counts"):
            return read_directory_day(self._db, day, language)

    def game_directory(
        self, start: datetime, end: datetime, language: str, game_id: str
    ) -> tuple[list[datetime], np.ndarray]:
        """One game's directory counts per slot of [start, end) (`game_directory_counts`)."""
        with translate_errors("reading directory counts"):
            return game_directory_counts(self._db, start, end, language, game_id)

    def tag_rollup(self, slot: datetime, dimension: str) -> RollupDocument | None:
        """A slot's stream tags per game (`game_tag`) or per language (`language_tag`)."""
        if dimension not in TAG_DIMENSIONS:
            raise ValueError(f"{dimension!r} is not one of {TAG_DIMENSIONS}")
        with translate_errors("reading tags"):
            found = self._db[schema.ROLLUPS].find_one({"_id": rollup_id(slot, dimension)})
            return cast(RollupDocument | None, found)

    def channels_like(
        self, game_id: str, language: str, viewers: float, *, exclude: str = ""
    ) -> tuple[datetime | None, pd.DataFrame]:
        """Channels like one of `viewers` in a game and language, and their weeks since."""
        with translate_errors("finding channels like this one"):
            return channels_like(self._db, game_id, language, viewers, exclude=exclude)

    def stored_weeks(self) -> list[datetime]:
        """The ISO weeks whose channels are grouped (`channel_weeks`), oldest first."""
        with translate_errors("reading weeks"):
            return stored_weeks(self._db)

    def cohorts(self, weeks: Iterable[datetime]) -> list[CohortDocument]:
        """The new-channel cohorts of these weeks (those computed)."""
        with translate_errors("reading cohorts"):
            return read_cohorts(self._db, weeks)

    def games(self) -> list[GameSummary]:
        with translate_errors("reading games"):
            found = self._db[schema.GAMES].find({}, {"name": 1, "primary_genre": 1, "is_game": 1})
            return cast(list[GameSummary], list(found))

    def frames(self, start: datetime, end: datetime) -> list[FrameDocument]:
        """GridFS documents (metadata, no bytes) of the frames of slots in [start, end)."""
        with translate_errors("reading frames"):
            found = self._db[schema.FRAME_FILES].find(
                {"metadata.slot": {"$gte": start, "$lt": end}}, {"length": 1, "metadata": 1}
            )
            return cast(list[FrameDocument], list(found))  # the schema's shape, as stored

    def frame_bytes(self, ids: Sequence[str]) -> dict[str, bytes]:
        with translate_errors("reading frame images"):
            return read_frames(self._db, ids)

    def frame_labels(self, frame_ids: Sequence[str]) -> list[FrameLabel]:
        """These frames' labels, without their probabilities."""
        with translate_errors("reading frame labels"):
            found = self._db[schema.FRAME_LABELS].find(
                {"frame_id": {"$in": list(frame_ids)}}, {"probabilities": 0}
            )
            return cast(list[FrameLabel], list(found))

    def classifier_models(self, versions: Iterable[str]) -> list[ClassifierModel]:
        """The stored documents of these classifier models (by `_id`, one at a time:
        FerretDB v1 scans the collection for `$in`)."""
        with translate_errors("reading classifier models"):
            found = (self._db[schema.CLASSIFIER_MODELS].find_one({"_id": v}) for v in versions)
            return [cast(ClassifierModel, d) for d in found if d is not None]

    def stream_genres(self, start: datetime, end: datetime) -> list[StreamGenre]:
        """The classifier's genre of each stream with labelled frames in [start, end)."""
        with translate_errors("reading stream genres"):
            found = self._db[schema.STREAM_GENRES].find({"slot": {"$gte": start, "$lt": end}})
            return cast(list[StreamGenre], list(found))

    def stream_categories(self, start: datetime, end: datetime) -> list[StreamCategory]:
        """The category a category model recognised in each stream with labelled frames in
        [start, end)."""
        with translate_errors("reading stream categories"):
            found = self._db[schema.STREAM_CATEGORIES].find({"slot": {"$gte": start, "$lt": end}})
            return cast(list[StreamCategory], list(found))
