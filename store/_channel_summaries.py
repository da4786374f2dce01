"""Per-day channel summaries, kept for ever: one row per channel and UTC day listed.

Slot rows are dropped after `CHANNEL_SLOTS_DAYS`; what a channel's page needs for a year
(hours live, average and peak viewers, main game, language, tags, best directory rank)
is summarised per day when the day is regrouped, and kept in one document per calendar
month and channel bucket (`channel_bucket`), so a channel's year is twelve reads by
`_id`. The month's document is rewritten as each of its days is summarised.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any, cast

import numpy as np
import pandas as pd
from bson.binary import Binary
from numpy.typing import ArrayLike

from store import schema
from store._channels import PLANES, TAG_SEPARATOR, DayChannels, PackedValues
from store._packing import (
    join_names,
    pack_names,
    pack_planes,
    split_names,
    unpack_names,
    unpack_planes,
)
from store._partitions import bucket_group, month_collection
from store._records import channel_summary_id

_I32 = np.dtype("<i4")
_I64 = np.dtype("<i8")
# A month document's rows, as `decode_month` returns them and `month_document` takes them.
MONTH_COLUMNS = [
    "day", "user_id", "login", "name", "minutes_live", "viewer_minutes", "peak_viewers",
    "game_id", "language", "tag_set", "best_game_rank",
]  # fmt: skip
_INT_COLUMNS = ("day", "minutes_live", "peak_viewers", "best_game_rank")


class ChannelSummaryDocument(PackedValues):
    """A `channel_summaries` document: one bucket's channels, per day of one month."""

    _id: str  # channel_summary_id(month, bucket)
    month: datetime
    bucket: int
    days: list[int]  # the days of the month summarised so far
    count: int  # channels
    rows: int
    channels: bytes  # zlib text: user id, login, display name (the month's latest) of each
    channel: bytes  # the row's channel (index into `channels`), delta-coded
    day: bytes  # day of the month, 1-31
    minutes_live: bytes
    viewer_minutes: bytes  # int64: Σ viewers × minutes the slot stands for
    peak_viewers: bytes
    game: bytes  # the main game: most minutes live, ties to the smallest game id
    language: bytes  # the same rule
    tag_set: bytes  # the same rule
    best_game_rank: bytes  # the best (lowest) directory rank in its game that day


def summary_collection(month: datetime, bucket: int) -> str:
    """The `channel_summaries` collection of a calendar month holding a bucket
    (`channel_summaries_202612_g3`)."""
    return month_collection(schema.CHANNEL_SUMMARIES, month, bucket_group(bucket))


def day_summaries(
    names: DayChannels,
    channel: np.ndarray,
    slot: np.ndarray,
    viewers: np.ndarray,
    values: Mapping[str, tuple[Sequence[str], np.ndarray]],
    game_rank: np.ndarray,
    slot_minutes: np.ndarray,
) -> pd.DataFrame:
    """One row per channel (user id) listed on the day: `MONTH_COLUMNS`.

    Row r of the inputs is day-index channel `channel[r]` at slot `slot[r]` (an index into
    `slot_minutes`, the minutes each slot stands for); `values` maps game_id, language and
    tag_set to (distinct values, each row's index into them)."""
    if len(channel) == 0:
        return pd.DataFrame(columns=MONTH_COLUMNS)
    user_ids, user_of = np.unique(np.asarray(names.user_ids, dtype=object), return_inverse=True)
    minutes = slot_minutes[slot].astype(np.int64)
    rows = pd.DataFrame(
        {
            "user": user_of[channel],
            "slot": slot,
            "channel": channel,
            "minutes": minutes,
            "viewer_minutes": viewers.astype(np.int64) * minutes,
            "viewers": viewers,
            "game_rank": game_rank,
        }
    )
    by_user = rows.groupby("user", sort=True)
    out = by_user.agg(
        minutes_live=("minutes", "sum"),
        viewer_minutes=("viewer_minutes", "sum"),
        peak_viewers=("viewers", "max"),
        best_game_rank=("game_rank", "min"),
    )
    latest = rows.sort_values("slot", kind="stable").groupby("user")["channel"].last()
    out["user_id"] = user_ids[out.index]
    out["login"] = [names.logins[i] for i in latest.loc[out.index]]
    out["name"] = [names.names[i] for i in latest.loc[out.index]]
    for column, (distinct, codes) in values.items():
        out[column] = _main_value(rows["user"], codes, minutes, distinct).loc[out.index]
    out["day"] = 0  # set by the caller, who knows the day
    return out.reset_index(drop=True)[MONTH_COLUMNS]


def _main_value(
    user: pd.Series, codes: np.ndarray, minutes: np.ndarray, distinct: Sequence[str]
) -> pd.Series:
    """Per user, the value with the most minutes; ties go to the smallest value."""
    labels = np.asarray(distinct, dtype=object)
    return most_minutes(user.to_numpy(), labels[codes], minutes)


def most_minutes(keys: ArrayLike, values: ArrayLike, minutes: ArrayLike) -> pd.Series:
    """Per key, the value with the most minutes summed over its rows (ties go to the
    smallest value): a channel's main game, language or tags of a day or a week."""
    totals = (
        pd.DataFrame({"key": keys, "value": values, "minutes": minutes})
        .groupby(["key", "value"], sort=False)["minutes"]
        .sum()
        .reset_index()
    )
    best = totals.sort_values(["key", "minutes", "value"], ascending=[True, False, True])
    return best.drop_duplicates("key").set_index("key")["value"]


def slot_minutes(
    slots: Sequence[datetime], following: datetime | None, interval_minutes: int
) -> np.ndarray:
    """Minutes each slot of a day stands for: until the next stored slot (`following`:
    the next day's first), at most twice the cadence's interval (a longer stretch is a
    gap); the last slot with nothing after it stands for one interval."""
    starts = [*slots, following] if following is not None else list(slots)
    minutes = [
        min(int((b - a).total_seconds() // 60), 2 * interval_minutes) for a, b in pairwise(starts)
    ]
    if following is None and slots:
        minutes.append(interval_minutes)
    return np.asarray(minutes, np.int64)


def merge_month(previous: pd.DataFrame, day: int, rows: pd.DataFrame) -> pd.DataFrame:
    """A month's rows with `day` replaced by `rows` (a day summarised again replaces its
    earlier rows), sorted by channel and day."""
    kept = previous[previous["day"] != day]
    merged = (
        pd.concat([kept, rows.assign(day=day)], ignore_index=True)
        if len(kept)
        else rows.assign(day=day)
    )
    return merged.sort_values(["user_id", "day"], kind="stable", ignore_index=True)


def month_document(
    month: datetime, bucket: int, rows: pd.DataFrame, written_at: datetime, schema_version: int
) -> ChannelSummaryDocument:
    """The month's document of `bucket` from its rows (`MONTH_COLUMNS`, sorted by user id)."""
    user_codes, users = pd.factorize(rows["user_id"], sort=True)
    latest = rows.assign(channel=user_codes).drop_duplicates("channel", keep="last")
    latest = latest.sort_values("channel")
    text = join_names(
        [
            f
            for u, lo, n in zip(users, latest["login"], latest["name"], strict=True)
            for f in (u, lo, n)
        ]
    )
    dictionaries: dict[str, Any] = {}
    coded: dict[str, np.ndarray] = {}
    for column, field, count in (
        ("game_id", "game_ids", "game_count"),
        ("language", "languages", "language_count"),
        ("tag_set", "tag_sets", "tag_set_count"),
    ):
        codes, distinct = pd.factorize(rows[column], sort=True)
        coded[column] = codes
        dictionaries[field] = (
            pack_names(list(distinct)) if column == "tag_set" else join_names(list(distinct))
        )
        dictionaries[count] = len(distinct)
    document = dict(
        _id=channel_summary_id(month, bucket),
        month=month,
        bucket=bucket,
        days=sorted({int(d) for d in rows["day"]}),
        count=len(users),
        rows=len(rows),
        channels=Binary(zlib.compress(text.encode("utf-8"), 9)),
        channel=pack_planes(np.diff(user_codes, prepend=0), _I32),
        day=pack_planes(rows["day"].to_numpy(), _I32),
        minutes_live=pack_planes(rows["minutes_live"].to_numpy(), _I32),
        viewer_minutes=pack_planes(rows["viewer_minutes"].to_numpy(), _I64),
        peak_viewers=pack_planes(rows["peak_viewers"].to_numpy(), _I32),
        game=pack_planes(coded["game_id"], _I32),
        language=pack_planes(coded["language"], _I32),
        tag_set=pack_planes(coded["tag_set"], _I32),
        best_game_rank=pack_planes(rows["best_game_rank"].to_numpy(), _I32),
        encoding=PLANES,
        written_at=written_at,
        schema_version=schema_version,
        **dictionaries,
    )
    return cast(ChannelSummaryDocument, document)


def decode_month(
    document: ChannelSummaryDocument | None, user_id: str | None = None
) -> pd.DataFrame:
    """A month document's rows (`MONTH_COLUMNS`): all of them, or one channel's."""
    if document is None or not document["rows"]:
        return pd.DataFrame(columns=MONTH_COLUMNS)
    count, total = int(document["count"]), int(document["rows"])
    fields = split_names(zlib.decompress(document["channels"]).decode("utf-8"), 3 * count)
    user_ids, logins, names = fields[0::3], fields[1::3], fields[2::3]
    channel = np.cumsum(unpack_planes(document["channel"], _I32, total))
    if user_id is None:
        picked = np.arange(total)
    elif user_id in user_ids:
        picked = np.flatnonzero(channel == user_ids.index(user_id))
    else:
        return pd.DataFrame(columns=MONTH_COLUMNS)
    packed = cast(Mapping[str, Any], document)
    columns: dict[str, Any] = {
        n: unpack_planes(packed[n], _I32, total)[picked] for n in _INT_COLUMNS
    }
    columns["viewer_minutes"] = unpack_planes(document["viewer_minutes"], _I64, total)[picked]
    mine = channel[picked]
    columns["user_id"] = [user_ids[i] for i in mine]
    columns["login"] = [logins[i] for i in mine]
    columns["name"] = [names[i] for i in mine]
    for column, field, count_field in (
        ("game_id", "game_ids", "game_count"),
        ("language", "languages", "language_count"),
        ("tag_set", "tag_sets", "tag_set_count"),
    ):
        distinct = unpack_names(packed[field], int(packed[count_field]))
        codes = unpack_planes(packed[column.removesuffix("_id")], _I32, total)[picked]
        columns[column] = [distinct[i] for i in codes]
    return pd.DataFrame(columns)[MONTH_COLUMNS]


def tags_of(tag_set: str) -> list[str]:
    return tag_set.split(TAG_SEPARATOR) if tag_set else []
