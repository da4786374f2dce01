"""The few seconds of video around each highlight moment, in GridFS (bucket
`moment_clips`), for the Streamer page to play.

A clip's id is `<login>-<moment epoch seconds>` (`moment_clip_id`): storing the same
moment again keeps the first. Retention drops clips older than `max_age`, then the oldest
beyond `max_count`. Chunks are written with the `_id` `<clip id>/<n>` (a GridFS reader
finds them by `files_id` and `n` as ever), so the dashboard reads a clip's file document
and each chunk by `_id`: FerretDB v1 answers a query on `files_id` by scanning every
stored clip's chunks, seconds once a few hundred are kept.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, cast

import gridfs
from bson.binary import Binary
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from store import schema
from store._mongo import translate_errors
from store._retention import beyond_retention

Document = dict[str, Any]
MOMENT_CLIP_ID = re.compile(r"^[a-z0-9_]{1,25}-\d{1,12}$")


class MomentClipMetadata(TypedDict):
    login: str
    moment: datetime  # the moment's window start
    start: datetime  # the clip's first frame
    seconds: float
    moment_offset: float  # seconds from the clip's start to the moment
    content_type: str  # video/mp4


class MomentClip(TypedDict):
    _id: str
    length: int
    uploadDate: datetime
    metadata: MomentClipMetadata


def moment_clip_id(login: str, moment: datetime) -> str:
    return f"{login}-{int(moment.timestamp())}"


CHUNK_BYTES = 255 * 1024  # GridFS's default chunk size
_CHUNKS = f"{schema.MOMENT_CLIPS_BUCKET}.chunks"


def _bucket(db: Database[Document]) -> gridfs.GridFSBucket:
    return gridfs.GridFSBucket(db, bucket_name=schema.MOMENT_CLIPS_BUCKET)


def _chunk_id(clip_id: str, n: int) -> str:
    return f"{clip_id}/{n}"


def write_moment_clip(db: Database[Document], data: bytes, metadata: MomentClipMetadata) -> str:
    """Store one moment's clip; its id (a clip stored before is kept). The chunks go first
    and the file document last, so a reader that finds the file finds all of it."""
    clip_id = moment_clip_id(metadata["login"], metadata["moment"])
    with translate_errors(f"storing moment clip {clip_id}"):
        if db[schema.MOMENT_CLIP_FILES].find_one({"_id": clip_id}, {"_id": 1}) is not None:
            return clip_id
        for n, start in enumerate(range(0, len(data), CHUNK_BYTES)):
            chunk = {"files_id": clip_id, "n": n, "data": Binary(data[start : start + CHUNK_BYTES])}
            db[_CHUNKS].replace_one({"_id": _chunk_id(clip_id, n)}, chunk, upsert=True)
        with contextlib.suppress(DuplicateKeyError):  # another writer stored it meanwhile
            db[schema.MOMENT_CLIP_FILES].insert_one(
                {
                    "_id": clip_id,
                    "length": len(data),
                    "chunkSize": CHUNK_BYTES,
                    "uploadDate": datetime.now(UTC),
                    "filename": f"{clip_id}.mp4",
                    "metadata": dict(metadata),
                }
            )
    return clip_id


def prune_moment_clips(
    db: Database[Document], now: datetime, max_age: timedelta, max_count: int
) -> int:
    """Delete clips of moments older than `max_age`, then the oldest beyond `max_count`;
    returns how many went."""
    with translate_errors("listing moment clips"):
        files = list(db[schema.MOMENT_CLIP_FILES].find({}, {"metadata.moment": 1}))
    doomed = beyond_retention(
        ((f["metadata"]["moment"], f["_id"]) for f in files), now, max_age, max_count
    )
    with translate_errors("deleting old moment clips"):
        for clip_id in doomed:
            _bucket(db).delete(clip_id)
    return len(doomed)


def read_moment_clip(db: Database[Document], clip_id: str) -> tuple[MomentClip, bytes] | None:
    """A clip's file document and bytes, or None when there is none."""
    if not MOMENT_CLIP_ID.match(clip_id):
        return None
    with translate_errors(f"reading moment clip {clip_id}"):
        found = db[schema.MOMENT_CLIP_FILES].find_one({"_id": clip_id})
        if found is None:
            return None
        count = -(-int(found["length"]) // int(found["chunkSize"]))
        by_id = (db[_CHUNKS].find_one({"_id": _chunk_id(clip_id, n)}) for n in range(count))
        parts = [chunk for chunk in by_id if chunk is not None]
        if len(parts) < count:  # a clip stored by GridFS itself: its chunks have ObjectIds
            parts = sorted(
                db[_CHUNKS].find({"files_id": clip_id}, {"n": 1, "data": 1}),
                key=lambda chunk: int(chunk["n"]),
            )
    data = b"".join(bytes(part["data"]) for part in parts)
    if len(data) != int(found["length"]):  # being written or half deleted
        return None
    return cast(MomentClip, found), data
