"""The MongoDB schema: collection names, indexes, ids and the genre rules (the document
builders are in `store._documents`).

This is a public interface (notebooks read these collections); `docs/schema.md` documents
every field. Change it only with a new SCHEMA_VERSION and a note in that document.
All times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pymongo import ASCENDING, DESCENDING, IndexModel

from catalogue import NON_GAME
from slots import slot_key

# 2: `snapshots._id` is the slot key string (was the date).
# 3: rollups cover the whole market, with viewer histograms; `history` day documents.
SCHEMA_VERSION = 3

SNAPSHOTS = "snapshots"
STREAMS = "streams"
GAMES = "games"
QUARANTINE = "quarantine"
ROLLUPS = "rollups"
META = "meta"
# One document per UTC day and dimension (`store._history`): what readers load, in one
# collection per dimension and month, `history_<dimension>_<YYYYMM>`.
HISTORY = "history"
# Frames: a GridFS bucket (`frames.files` + `frames.chunks`), what could not be captured,
# the classifier's label of each frame, its genre for each stream, and the category (game)
# a category model recognises in each stream.
FRAMES_BUCKET = "frames"
FRAME_FILES = f"{FRAMES_BUCKET}.files"
MOMENT_CLIPS_BUCKET = "moment_clips"
MOMENT_CLIP_FILES = f"{MOMENT_CLIPS_BUCKET}.files"
FRAME_FAILURES = "frame_failures"
FRAME_LABELS = "frame_labels"
STREAM_GENRES = "stream_genres"
STREAM_CATEGORIES = "stream_categories"
# Every frame-classifier model that labelled frames: its classes and validation quality,
# and whether its genres count in the rollups (`trusted`).
CLASSIFIER_MODELS = "classifier_models"
# Chat: per-minute counts per reader shard, per-slot rollups, per-day columns, emote names.
CHAT_MINUTES = "chat_minutes"
CHAT_LIVE = "chat_live"  # the newest minutes again, packed for the live view
CHAT_ROLLUPS = "chat_rollups"
CHAT_DAYS = "chat_days"  # chat_days_<dimension>_YYYYMMDD: one document each (older: all in one)
EMOTES = "emotes"
# Every listed channel per slot (packed columns) and the day's channel names they index.
CHANNEL_NAMES = "channel_names"
CHANNEL_SLOTS = "channel_slots"
CHANNEL_DAYS = "channel_days"
CHANNEL_SUMMARIES = "channel_summaries"  # one collection per month: channel_summaries_YYYYMM
CHANNEL_DIRECTORY = "channel_directory"
CHANNEL_FOLLOWERS = "channel_followers"
CHANNEL_WEEKS = "channel_weeks"
CHANNEL_COHORTS = "channel_cohorts"
# Per day (directory_counts_YYYYMMDD) and language: live channels by game and viewers, per slot.
DIRECTORY_COUNTS = "directory_counts"
# Highlights: analysed clips per channel and day, the games they came from, what failed.
HIGHLIGHT_WINDOWS = "highlight_windows"
HIGHLIGHT_GAMES = "highlight_games"
HIGHLIGHT_FAILURES = "highlight_failures"
HIGHLIGHT_FOLLOWS = "highlight_follows"
# `meta` document that tells readers what changed, so they need not scan `rollups`.
ROLLUP_STATE_ID = "rollups"

# `snapshots.status`: readers use only complete slots. `writing` marks a write in progress
# (or one that crashed), `partial` a listing Helix cut short; neither is published.
COMPLETE = "complete"
PARTIAL = "partial"
WRITING = "writing"
# `snapshots.level`: each stream document is a channel, or (recordings of top categories)
# one category's total, for which per-channel figures mean nothing.
STREAM_LEVEL = "stream"
CATEGORY_LEVEL = "category"

UNKNOWN_GENRE = "Unknown"
NON_GAME_GENRE = NON_GAME
UNKNOWN_LANGUAGE = "unknown"

if TYPE_CHECKING:  # the records import this module's names
    from store._documents import GameDocument
    from store._records import GameSummary

INDEXES: dict[str, list[IndexModel]] = {
    STREAMS: [
        IndexModel(
            [("slot", ASCENDING), ("stream_id", ASCENDING)], unique=True, name="slot_stream_unique"
        ),
        IndexModel([("user_login", ASCENDING), ("slot", ASCENDING)], name="login_slot"),
        IndexModel([("game_id", ASCENDING), ("slot", ASCENDING)], name="game_slot"),
    ],
    SNAPSHOTS: [IndexModel([("status", ASCENDING), ("slot", DESCENDING)], name="status_slot")],
    ROLLUPS: [
        IndexModel(
            [("dimension", ASCENDING), ("slot", ASCENDING)],
            unique=True,
            name="dimension_slot_unique",
        )
    ],
    QUARANTINE: [IndexModel([("slot", ASCENDING)], name="slot")],
    FRAME_FILES: [IndexModel([("metadata.slot", DESCENDING)], name="slot")],
    FRAME_FAILURES: [IndexModel([("slot", DESCENDING)], name="slot")],
    FRAME_LABELS: [IndexModel([("model_version", ASCENDING)], name="model_version")],
    STREAM_GENRES: [IndexModel([("slot", ASCENDING)], name="slot")],
    STREAM_CATEGORIES: [IndexModel([("slot", ASCENDING)], name="slot")],
    GAMES: [
        IndexModel([("igdb_id", ASCENDING)], name="igdb_id"),
        IndexModel([("name", ASCENDING)], name="name"),
    ],
}


def snapshot_id(slot: datetime) -> str:
    """A snapshot document's `_id`: the slot key. A string, not the date: FerretDB v1
    filters a string `_id` inside SQLite, but a date `_id` only after decoding every
    document of the collection, many times slower as it grows by 48 documents a day
    (`bench/ferretdb_ids.py`)."""
    return slot_key(slot)


CLASSIFIER_SUFFIX = " (classifier)"


def classifier_genre(genre: str) -> str:
    """The genre-rollup key of streams whose genre only the frame classifier gives."""
    return f"{genre}{CLASSIFIER_SUFFIX}"


def genre_of(game: GameDocument | GameSummary | None) -> str:
    """The catalogue's genre of this game (IGDB and the curated file), or Unknown: what
    the classifier trains on and what a stream's frames are compared with."""
    if game is None:
        return UNKNOWN_GENRE
    return str(game.get("primary_genre") or UNKNOWN_GENRE)


def genre_of_stream(game: GameDocument | GameSummary | None) -> str:
    """The genre a stream of this game counts under everywhere (rollups, pages, API): the
    catalogue's genre; for a game the catalogue cannot place, the genre the frame
    classifier gave the game's streams (`classifier_genre`), marked " (classifier)"."""
    genre = genre_of(game)
    by_frames = game.get("classifier_genre") if game is not None else None
    if genre == UNKNOWN_GENRE and by_frames:
        return classifier_genre(str(by_frames))
    return genre
