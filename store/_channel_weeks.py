"""Channels per ISO week (Monday to Sunday, UTC), grouped by their main game: what
"channels like me" and the cohort figures need, built from the per-day summaries once a
week is over.

`channel_weeks_<monday>` holds one document per main game of the week (`_id:
"<monday>/<game id>"`) with every channel whose main game that week it was: hours live,
time-weighted average viewers, language; and an index document (`_id: "<monday>"`) naming
its games (`channel_weeks` lists the weeks). A collection a week keeps each one small
(`store._partitions`).
`channel_cohorts` holds one document per week W: of the channels first listed in W (new
to the stored history), per main game and language, how many still streamed and how many
averaged at least 5 viewers in each of the weeks W+1 … W+4 stored so far.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict, cast

import numpy as np
import pandas as pd
from bson.binary import Binary
from pymongo.database import Database

from slots import day_key, day_of, days_between
from store import schema
from store._channel_directory import ENTRY_CHUNK, ChannelDirectory
from store._channel_summaries import (
    ChannelSummaryDocument,
    decode_month,
    most_minutes,
    summary_collection,
)
from store._channels import channel_bucket
from store._packing import join_names, pack_planes, split_names, unpack_planes
from store._partitions import BUCKETS, day_collection
from store._records import channel_summary_id

WEEK = timedelta(days=7)
FOLLOWING_WEEKS = 4
# A channel "averaging at least this many viewers" in a week survives as a growing one.
COHORT_VIEWERS = 5
_I32 = np.dtype("<i4")
_I64 = np.dtype("<i8")
Document = dict[str, Any]
WEEK_COLUMNS = ["user_id", "login", "name", "game_id", "language", "minutes_live", "viewer_minutes"]


def week_of(moment: datetime) -> datetime:
    """The Monday (00:00 UTC) that starts `moment`'s ISO week."""
    day = day_of(moment)
    return day - timedelta(days=day.weekday())


class ChannelWeekDocument(TypedDict):
    _id: str  # "<monday>/<game id>"
    week: datetime
    game_id: str
    count: int
    channels: bytes  # zlib text: user id, login, display name of each
    language_count: int
    languages: str
    language: bytes
    minutes_live: bytes
    viewer_minutes: bytes  # int64


def summarise_week(db: Database[Document], week: datetime) -> pd.DataFrame:
    """Per channel listed in the week: `WEEK_COLUMNS`, main game and language being those
    with the most minutes live (ties to the smallest), login and name the week's last."""
    days = days_between(week, week + WEEK)
    parts = []
    for month in sorted({d.replace(day=1) for d in days}):
        wanted = [d.day for d in days if d.replace(day=1) == month]
        for bucket in range(BUCKETS):
            found = db[summary_collection(month, bucket)].find_one(
                {"_id": channel_summary_id(month, bucket)}
            )
            rows = decode_month(cast(ChannelSummaryDocument | None, found))
            rows = rows[rows["day"].isin(wanted)]
            if len(rows):
                parts.append(rows.assign(day=[month.replace(day=int(d)) for d in rows["day"]]))
    if not parts:
        return pd.DataFrame(columns=WEEK_COLUMNS)
    rows = pd.concat(parts, ignore_index=True).sort_values(["user_id", "day"], ignore_index=True)
    grouped = rows.groupby("user_id", sort=True)
    week_rows = grouped.agg(
        login=("login", "last"),
        name=("name", "last"),
        minutes_live=("minutes_live", "sum"),
        viewer_minutes=("viewer_minutes", "sum"),
    )
    for column in ("game_id", "language"):
        week_rows[column] = most_minutes(rows["user_id"], rows[column], rows["minutes_live"])
    return week_rows.reset_index()[WEEK_COLUMNS]


def week_collection(week: datetime) -> str:
    return day_collection(schema.CHANNEL_WEEKS, week, None)


def write_week(db: Database[Document], week: datetime, table: pd.DataFrame) -> None:
    """Store a week's channels, one document per main game, then the week's index."""
    collection = db[week_collection(week)]
    games = sorted(table["game_id"].unique().tolist()) if len(table) else []
    for game_id, part in table.groupby("game_id", sort=True):
        document = _encode(week, str(game_id), part)
        collection.replace_one({"_id": document["_id"]}, document, upsert=True)
    index = {"_id": day_key(week), "week": week, "games": games}
    collection.replace_one({"_id": index["_id"]}, index, upsert=True)


def read_week_game(db: Database[Document], week: datetime, game_id: str) -> pd.DataFrame:
    """The channels whose main game in `week` was `game_id` (`WEEK_COLUMNS`)."""
    found = db[week_collection(week)].find_one({"_id": f"{day_key(week)}/{game_id}"})
    return _decode(cast(ChannelWeekDocument | None, found))


def read_week(db: Database[Document], week: datetime) -> pd.DataFrame | None:
    """Every channel of a stored week (`WEEK_COLUMNS`), or None when it is not stored."""
    index = db[week_collection(week)].find_one({"_id": day_key(week)})
    if index is None:
        return None
    parts = [read_week_game(db, week, g) for g in index["games"]]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=WEEK_COLUMNS)


def stored_weeks(db: Database[Document]) -> list[datetime]:
    found = db[schema.CHANNEL_WEEKS].find_one({"_id": "weeks"})
    return sorted(found["weeks"]) if found else []


def _encode(week: datetime, game_id: str, part: pd.DataFrame) -> ChannelWeekDocument:
    codes, languages = pd.factorize(part["language"], sort=True)
    text = join_names(
        [
            f
            for u, lo, n in zip(part["user_id"], part["login"], part["name"], strict=True)
            for f in (u, lo, n)
        ]
    )
    return ChannelWeekDocument(
        _id=f"{day_key(week)}/{game_id}",
        week=week,
        game_id=game_id,
        count=len(part),
        channels=Binary(zlib.compress(text.encode("utf-8"), 9)),
        language_count=len(languages),
        languages=join_names(list(languages)),
        language=pack_planes(codes, _I32),
        minutes_live=pack_planes(part["minutes_live"].to_numpy(), _I32),
        viewer_minutes=pack_planes(part["viewer_minutes"].to_numpy(), _I64),
    )


def _decode(document: ChannelWeekDocument | None) -> pd.DataFrame:
    if document is None or not document["count"]:
        return pd.DataFrame(columns=WEEK_COLUMNS)
    count = int(document["count"])
    fields = split_names(zlib.decompress(document["channels"]).decode("utf-8"), 3 * count)
    languages = split_names(document["languages"], int(document["language_count"]))
    return pd.DataFrame(
        {
            "user_id": fields[0::3],
            "login": fields[1::3],
            "name": fields[2::3],
            "game_id": document["game_id"],
            "language": [languages[i] for i in unpack_planes(document["language"], _I32, count)],
            "minutes_live": unpack_planes(document["minutes_live"], _I32, count),
            "viewer_minutes": unpack_planes(document["viewer_minutes"], _I64, count),
        },
        columns=WEEK_COLUMNS,
    )


class CohortGroup(TypedDict):
    """One cohort: the channels new in week W whose main game and language there were
    these ("" = all languages); `active[k-1]` and `five_plus[k-1]` count those that
    streamed, and that averaged ≥ COHORT_VIEWERS viewers, in week W+k."""

    game_id: str
    language: str
    new: int
    active: list[int]
    five_plus: list[int]


class CohortDocument(TypedDict):
    _id: str  # "<monday>"
    week: datetime
    following: int  # weeks after W stored so far (at most FOLLOWING_WEEKS)
    groups: list[CohortGroup]


def cohorts(
    week: datetime, first_seen: dict[str, datetime], tables: list[pd.DataFrame]
) -> CohortDocument:
    """The cohorts of `week` from its table and those of the weeks after it (`tables[0]`
    is W's) and each channel's first listed day."""
    base = tables[0]
    new = base[[week <= first_seen.get(u, week) < week + WEEK for u in base["user_id"]]]
    later = []
    for table in tables[1 : 1 + FOLLOWING_WEEKS]:
        average = table["viewer_minutes"] / table["minutes_live"].where(table["minutes_live"] > 0)
        later.append((set(table["user_id"]), set(table.loc[average >= COHORT_VIEWERS, "user_id"])))
    groups: list[CohortGroup] = []
    # Per game and language, and per game over all languages ("").
    for frame in (new, new.assign(language="")):
        for (game_id, language), part in frame.groupby(["game_id", "language"], sort=True):
            users = set(part["user_id"])
            groups.append(
                CohortGroup(
                    game_id=str(game_id),
                    language=str(language),
                    new=len(users),
                    active=[len(users & active) for active, _ in later],
                    five_plus=[len(users & grown) for _, grown in later],
                )
            )
    return CohortDocument(_id=day_key(week), week=week, following=len(later), groups=groups)


def first_listed(db: Database[Document]) -> dict[str, datetime]:
    """Each channel's first listed day, from the login directory."""
    directory = ChannelDirectory(db)
    count = int(directory.state()["entries"])
    first: dict[str, datetime] = {}
    for chunk in range(-(-count // ENTRY_CHUNK)):
        for entry in directory.entries(chunk):
            if entry.user_id not in first or entry.first_seen < first[entry.user_id]:
                first[entry.user_id] = entry.first_seen
    return first


def update_weeks(db: Database[Document], summarised: Iterable[datetime]) -> list[datetime]:
    """Store every week wholly summarised and not stored yet, and recompute the cohorts
    of the weeks whose following weeks changed; returns the weeks stored."""
    days = sorted(set(summarised))
    if not days:
        return []
    done = set(stored_weeks(db))
    week = week_of(days[0])
    complete = []
    while week + WEEK <= days[-1] + timedelta(days=1):
        if week not in done and all(d in days for d in days_between(week, week + WEEK)):
            write_week(db, week, summarise_week(db, week))
            complete.append(week)
        week += WEEK
    if not complete:
        return []
    weeks = sorted(done | set(complete))
    db[schema.CHANNEL_WEEKS].replace_one(
        {"_id": "weeks"}, {"_id": "weeks", "weeks": weeks}, upsert=True
    )
    first = first_listed(db)
    # "New" needs a week of history before it: the first stored week has no cohort.
    oldest = min(first.values(), default=weeks[0])
    for start in weeks:
        if start < oldest + WEEK or start < complete[0] - FOLLOWING_WEEKS * WEEK:
            continue
        tables = []
        for k in range(FOLLOWING_WEEKS + 1):
            table = read_week(db, start + k * WEEK)
            if table is None:
                break
            tables.append(table)
        document = cohorts(start, first, tables)
        db[schema.CHANNEL_COHORTS].replace_one({"_id": document["_id"]}, document, upsert=True)
    return complete


def read_cohorts(db: Database[Document], weeks: Iterable[datetime]) -> list[CohortDocument]:
    found = (db[schema.CHANNEL_COHORTS].find_one({"_id": day_key(w)}) for w in weeks)
    return [cast(CohortDocument, f) for f in found if f is not None]


LIKE_ME_COLUMNS = ["user_id", "login", "name", "language", "hours_live", "avg_viewers"]


def channels_like(
    db: Database[Document],
    game_id: str,
    language: str,
    viewers: float,
    *,
    count: int = 20,
    exclude: str = "",
) -> tuple[datetime | None, pd.DataFrame]:
    """The `count` channels most like a channel of `viewers` average viewers streaming
    `game_id` mostly (in `language`, "" for any) in a base week, nearest in size first
    (by the ratio of average viewers), and their weeks since: columns `LIKE_ME_COLUMNS`
    for the base week and `hours_live_<k>`, `avg_viewers_<k>` for weeks k = 1 … 4 stored
    after it (NaN where a channel did not stream). The base week is the newest with four
    stored weeks after it, else the oldest stored week."""
    weeks = stored_weeks(db)
    if not weeks:
        return None, pd.DataFrame(columns=LIKE_ME_COLUMNS)
    followed = [w for w in weeks if all(w + k * WEEK in weeks for k in range(1, 5))]
    base = followed[-1] if followed else weeks[0]
    table = read_week_game(db, base, game_id)
    if language:
        table = table[table["language"] == language]
    table = table[table["user_id"] != exclude]
    averages = table["viewer_minutes"] / table["minutes_live"].where(table["minutes_live"] > 0)
    distance = np.abs(np.log((averages.to_numpy(float) + 1.0) / (max(viewers, 0.0) + 1.0)))
    chosen = (
        table.assign(
            avg_viewers=averages, hours_live=table["minutes_live"] / 60.0, distance=distance
        )
        .sort_values(["distance", "user_id"])
        .head(count)
    )
    result = chosen[LIKE_ME_COLUMNS].reset_index(drop=True)
    following = [k for k in range(1, FOLLOWING_WEEKS + 1) if base + k * WEEK in weeks]
    if not following:
        return base, result
    end = base + (following[-1] + 1) * WEEK
    months = sorted({d.replace(day=1) for d in days_between(base + WEEK, end)})
    per_week: dict[tuple[str, int], tuple[float, float]] = {}
    for user_id in result["user_id"]:
        rows = _channel_rows(db, user_id, months)
        rows = rows[(rows["day"] >= base + WEEK) & (rows["day"] < end)]
        week_index = pd.Series([(d - base).days // 7 for d in rows["day"]], index=rows.index)
        for k, part in rows.groupby(week_index):
            minutes = float(part["minutes_live"].sum())
            per_week[(user_id, int(k))] = (
                minutes / 60.0,
                float(part["viewer_minutes"].sum()) / minutes if minutes else float("nan"),
            )
    for k in following:
        found = [per_week.get((u, k)) for u in result["user_id"]]
        result[f"hours_live_{k}"] = [f[0] if f else np.nan for f in found]
        result[f"avg_viewers_{k}"] = [f[1] if f else np.nan for f in found]
    return base, result


def _channel_rows(db: Database[Document], user_id: str, months: list[datetime]) -> pd.DataFrame:
    """A channel's summary rows of these months, `day` as a date."""
    bucket = channel_bucket(user_id)
    parts = []
    for month in months:
        found = db[summary_collection(month, bucket)].find_one(
            {"_id": channel_summary_id(month, bucket)}
        )
        rows = decode_month(cast(ChannelSummaryDocument | None, found), user_id)
        parts.append(rows.assign(day=[month.replace(day=int(d)) for d in rows["day"]]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["day"])
