"""Moving per-channel documents written before their collections were cut by group
(`store._partitions`) into the collections readers now look in.

The documents themselves did not change, only where they live; each is copied (a copy
left by an interrupted run is kept) and its old collection dropped once all are. Days of
slot chunks and names written the old way are not moved: readers still read them where
they are until they are pruned.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from pymongo import errors as mongo_errors
from pymongo.database import Database

from store import schema
from store._channel_directory import STATE_ID, entries_collection, grams_collection
from store._channel_summaries import summary_collection
from store._channel_weeks import week_collection
from store._followers import follower_collection
from store._partitions import bucket_group, day_collection

Document = dict[str, Any]


def move_channel_documents(db: Database[Document]) -> int:
    """Move every document of the old layout; returns how many were moved."""
    names = db.list_collection_names()
    moved = 0
    for name in names:
        if re.fullmatch(rf"{schema.CHANNEL_SUMMARIES}_\d{{6}}", name):
            moved += _move(db, name, lambda d: summary_collection(d["month"], d["bucket"]))
        elif re.fullmatch(rf"{schema.CHANNEL_DAYS}_\d{{8}}_\d+", name):
            moved += _move(
                db,
                name,
                lambda d: day_collection(schema.CHANNEL_DAYS, d["day"], bucket_group(d["bucket"])),
            )
    if schema.CHANNEL_FOLLOWERS in names:
        moved += _move(
            db, schema.CHANNEL_FOLLOWERS, lambda d: follower_collection(d["month"], d["bucket"])
        )
    if schema.CHANNEL_WEEKS in names:
        moved += _move(
            db, schema.CHANNEL_WEEKS, lambda d: week_collection(d["week"]), keep={"weeks"}
        )
    if schema.CHANNEL_DIRECTORY in names:
        moved += _move(db, schema.CHANNEL_DIRECTORY, _directory_collection, keep={STATE_ID})
    return moved


def _directory_collection(document: Document) -> str:
    kind, number = str(document["_id"]).split("/")
    return entries_collection(int(number)) if kind == "entries" else grams_collection(int(number))


def _move(
    db: Database[Document],
    name: str,
    destination: Callable[[Document], str],
    keep: set[str] | None = None,
) -> int:
    """Copy the documents of `name` (but those whose `_id` is in `keep`) to their
    destination, then drop them from `name` (the whole collection when nothing is kept)."""
    moved = []
    for document in db[name].find():
        if keep and document["_id"] in keep:
            continue
        # Not an upsert: on FerretDB v1 those read the whole collection.
        with suppress(mongo_errors.DuplicateKeyError):
            db[destination(document)].insert_one(document)
        moved.append(document["_id"])
    if not keep:
        db.drop_collection(name)
    else:
        for document_id in moved:
            db[name].delete_one({"_id": document_id})
    return len(moved)
