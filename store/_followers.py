"""Follower totals, read once a day per tracked channel, kept for ever.

One document per calendar month and channel bucket (`channel_bucket`, as the channel
summaries), `_id: "<YYYY-MM>/<bucket>"` in `channel_followers`: a channel's year is twelve
reads by `_id`. A day's readings arrive in several small batches; each batch rewrites only
the buckets it touches (documents of a few tens of kilobytes).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict, cast

import numpy as np
import pandas as pd
from bson.binary import Binary
from pymongo import errors as mongo_errors
from pymongo.database import Database

from slots import day_of, days_between
from store import schema
from store._channels import channel_bucket
from store._packing import join_names, pack_planes, split_names, unpack_planes
from store._partitions import BUCKETS, bucket_group, month_collection
from store._records import channel_summary_id

_I32 = np.dtype("<i4")
_I64 = np.dtype("<i8")
Document = dict[str, object]
FOLLOWER_COLUMNS = ["day", "followers", "gained"]


class FollowersDocument(TypedDict):
    """One bucket's follower readings of one month: row r is channel `channel[r]` (index
    into `channels`) on day `day[r]` of the month with `followers[r]` followers."""

    _id: str  # channel_summary_id(month, bucket)
    month: datetime
    bucket: int
    count: int
    rows: int
    channels: bytes  # zlib text: user id and login of each, SEPARATOR-joined
    channel: bytes
    day: bytes
    followers: bytes  # int64


@dataclass(frozen=True)
class FollowerReading:
    """A channel's follower total as read on a day."""

    user_id: str
    login: str
    followers: int


def _decode(document: Mapping[str, object] | None) -> dict[tuple[str, int], FollowerReading]:
    """(user id, day of month) → reading."""
    if not document or not document["rows"]:
        return {}
    found = cast(FollowersDocument, document)
    count, rows = int(found["count"]), int(found["rows"])
    fields = split_names(zlib.decompress(found["channels"]).decode("utf-8"), 2 * count)
    channel = unpack_planes(found["channel"], _I32, rows)
    day = unpack_planes(found["day"], _I32, rows)
    followers = unpack_planes(found["followers"], _I64, rows)
    return {
        (fields[2 * c], int(d)): FollowerReading(fields[2 * c], fields[2 * c + 1], int(f))
        for c, d, f in zip(channel, day, followers, strict=True)
    }


def _encode(
    month: datetime, bucket: int, readings: dict[tuple[str, int], FollowerReading]
) -> FollowersDocument:
    keys = sorted(readings)
    logins = {u: readings[(u, d)].login for u, d in keys}  # the newest login of each
    users = sorted(logins)
    index = {u: i for i, u in enumerate(users)}
    return FollowersDocument(
        _id=channel_summary_id(month, bucket),
        month=month,
        bucket=bucket,
        count=len(users),
        rows=len(keys),
        channels=Binary(
            zlib.compress(join_names([f for u in users for f in (u, logins[u])]).encode(), 9)
        ),
        channel=pack_planes(np.asarray([index[u] for u, _ in keys], np.int64), _I32),
        day=pack_planes(np.asarray([d for _, d in keys], np.int64), _I32),
        followers=pack_planes(np.asarray([readings[k].followers for k in keys], np.int64), _I64),
    )


def follower_collection(month: datetime, bucket: int) -> str:
    """The `channel_followers` collection of a month holding a bucket
    (`channel_followers_202612_g3`)."""
    return month_collection(schema.CHANNEL_FOLLOWERS, month, bucket_group(bucket))


def write_followers(
    db: Database[Document], day: datetime, readings: Iterable[FollowerReading]
) -> None:
    """Store the day's follower totals; a channel read again on the same day keeps the
    newest."""
    month = day_of(day).replace(day=1)
    by_bucket: dict[int, list[FollowerReading]] = defaultdict(list)
    for reading in readings:
        by_bucket[channel_bucket(reading.user_id)].append(reading)
    for bucket, batch in by_bucket.items():
        collection = db[follower_collection(month, bucket)]
        found = collection.find_one({"_id": channel_summary_id(month, bucket)})
        stored = _decode(found)
        stored.update({(r.user_id, day.day): r for r in batch})
        document = _encode(month, bucket, stored)
        if found is not None:  # not an upsert: on FerretDB v1 those read the whole collection
            collection.replace_one({"_id": document["_id"]}, document)
            continue
        try:
            collection.insert_one(dict(document))
        except mongo_errors.DuplicateKeyError:
            collection.replace_one({"_id": document["_id"]}, document)


def followers_read_on(db: Database[Document], day: datetime) -> set[str]:
    """The channels whose followers were read on `day` (every bucket of its month)."""
    month = day_of(day).replace(day=1)
    read: set[str] = set()
    for bucket in range(BUCKETS):
        found = db[follower_collection(month, bucket)].find_one(
            {"_id": channel_summary_id(month, bucket)}
        )
        read.update(u for u, d in _decode(found) if d == day.day)
    return read


def _readings(
    db: Database[Document], start: datetime, end: datetime, buckets: Iterable[int]
) -> pd.DataFrame:
    """Every reading of these buckets from the day before `start`'s to `end`: user_id,
    login, day, followers, gained (the change since the previous day's reading, NaN
    without one), sorted by channel and day."""
    days = days_between(day_of(start) - timedelta(days=1), end)
    rows = []
    for month in sorted({d.replace(day=1) for d in days}):
        for bucket in sorted(set(buckets)):
            found = db[follower_collection(month, bucket)].find_one(
                {"_id": channel_summary_id(month, bucket)}
            )
            rows += [
                (r.user_id, r.login, month.replace(day=d), r.followers)
                for (_, d), r in _decode(found).items()
            ]
    frame = pd.DataFrame(rows, columns=["user_id", "login", "day", "followers"])
    frame = frame.sort_values(["user_id", "day"], ignore_index=True)
    same = frame["user_id"].eq(frame["user_id"].shift())
    following = same & (frame["day"].diff() == pd.Timedelta(days=1))
    frame["gained"] = frame["followers"].diff().where(following)
    frame["day"] = pd.to_datetime(frame["day"], utc=True)
    shown = (frame["day"] >= pd.Timestamp(day_of(start))) & (frame["day"] < pd.Timestamp(end))
    return frame[shown].reset_index(drop=True)


def read_followers(
    db: Database[Document], user_ids: Iterable[str], start: datetime, end: datetime
) -> dict[str, pd.DataFrame]:
    """Each channel's readings for the days in [start, end): `FOLLOWER_COLUMNS`, `gained`
    being the change since the previous day's reading (NaN without one)."""
    wanted = set(user_ids)
    frame = _readings(db, start, end, (channel_bucket(u) for u in wanted))
    return {
        u: frame[frame["user_id"] == u].reset_index(drop=True)[FOLLOWER_COLUMNS] for u in wanted
    }


def read_followers_gained(db: Database[Document], start: datetime, end: datetime) -> pd.DataFrame:
    """Per tracked channel (index: login): its newest `followers` in [start, end) and
    `gained`, the sum of its day-to-day gains there (NaN when none could be measured)."""
    frame = _readings(db, start, end, range(BUCKETS))
    if frame.empty:
        return pd.DataFrame(columns=["followers", "gained"], index=pd.Index([], name="login"))
    grouped = frame.groupby("login", sort=False)
    return pd.DataFrame(
        {
            "followers": grouped["followers"].last(),
            "gained": grouped["gained"].sum(min_count=1),
        }
    )
