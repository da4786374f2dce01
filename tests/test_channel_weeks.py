"""Weeks of channels, new-channel cohorts and "channels like me", over FerretDB, against a
computation straight from a raw table of channel days."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from store import (
    ChannelDirectory,
    FollowerReading,
    Store,
    channel_bucket,
    channels_like,
    month_document,
    read_channel_days,
    read_cohorts,
    read_followers_gained,
    schema,
    search_channels,
    stored_weeks,
    summary_collection,
    update_weeks,
    week_of,
    write_followers,
)

FIRST = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday
DAYS = 42  # six weeks: W0 (history), W1 (the cohort), W2 … W5 (its following weeks)
GAMES = ["g1", "g2", "g3"]
LANGUAGES = ["en", "de"]


def raw_days(seed: int = 5) -> pd.DataFrame:
    """Channel days as a collector would summarise them: user, day, minutes live, average
    viewers, game, language; channels appear on their first day and stream some days."""
    rng = np.random.default_rng(seed)
    rows = []
    for channel in range(120):
        first = int(rng.integers(0, 14))  # first listed in W0 or W1
        size = float(rng.choice([1, 2, 3, 4, 6, 8, 15, 40]))
        game, language = GAMES[channel % 3], LANGUAGES[channel % 2]
        quits = first + int(rng.integers(3, DAYS))  # some stop streaming early
        for day in range(first, min(quits, DAYS)):
            if day != first and rng.random() < 0.45:
                continue
            minutes = int(rng.choice([30, 60, 90, 120, 240]))
            viewers = max(0, int(rng.normal(size, size / 3)))
            rows.append(
                {
                    "user_id": f"u{channel:03d}",
                    "login": f"chan{channel:03d}",
                    "name": f"Chan{channel:03d}",
                    "day": FIRST + timedelta(days=day),
                    "minutes_live": minutes,
                    "viewer_minutes": minutes * viewers,
                    "peak_viewers": viewers,
                    # mostly its own game, now and then another for a short while
                    "game_id": game if rng.random() < 0.85 else GAMES[(channel + 1) % 3],
                    "language": language,
                    "tag_set": "",
                    "best_game_rank": 1,
                }
            )
    return pd.DataFrame(rows)


def store_days(store: Store, raw: pd.DataFrame) -> None:
    """Write the raw days as `channel_summaries` month documents and the channels into
    the directory, as the day regrouping would."""
    raw = raw.assign(month=[d.replace(day=1) for d in raw["day"]])
    raw["bucket"] = [channel_bucket(u) for u in raw["user_id"]]
    for (month, bucket), part in raw.groupby(["month", "bucket"]):
        rows = part.assign(day=[d.day for d in part["day"]]).sort_values(["user_id", "day"])
        document = month_document(month, int(bucket), rows, month, schema.SCHEMA_VERSION)
        store.db[summary_collection(month, int(bucket))].insert_one(dict(document))
    directory = ChannelDirectory(store.db)
    for day, part in raw.groupby("day"):
        directory.add(day, zip(part["user_id"], part["login"], part["name"], strict=True))


def week_table(raw: pd.DataFrame, week: int) -> pd.DataFrame:
    """Per channel of the week: minutes, viewer-minutes, main game and language (most
    minutes, ties to the smallest), by plain loops."""
    start = FIRST + timedelta(days=7 * week)
    part = raw[(raw["day"] >= start) & (raw["day"] < start + timedelta(days=7))]
    out = {}
    for user, rows in part.groupby("user_id"):
        games: dict[str, int] = {}
        for game, minutes in zip(rows["game_id"], rows["minutes_live"], strict=True):
            games[game] = games.get(game, 0) + minutes
        out[user] = {
            "minutes": rows["minutes_live"].sum(),
            "watched": rows["viewer_minutes"].sum(),
            "game": min(games, key=lambda g: (-games[g], g)),
            "language": rows["language"].iloc[0],
        }
    return pd.DataFrame.from_dict(out, orient="index")


@pytest.mark.integration
def test_cohorts_and_channels_like_me_equal_a_computation_from_the_raw_days(store: Store) -> None:
    raw = raw_days()
    store_days(store, raw)
    days = [FIRST + timedelta(days=d) for d in range(DAYS)]
    assert update_weeks(store.db, days) == [FIRST + timedelta(days=7 * w) for w in range(6)]
    assert stored_weeks(store.db) == [FIRST + timedelta(days=7 * w) for w in range(6)]
    assert week_of(FIRST + timedelta(days=10, hours=5)) == FIRST + timedelta(days=7)

    # Cohort of W1: channels first listed in W1 (W0 is the history they are new to).
    first_day = raw.groupby("user_id")["day"].min()
    tables = [week_table(raw, w) for w in range(6)]
    w1 = tables[1]
    new = [
        u
        for u in w1.index
        if FIRST + timedelta(days=7) <= first_day[u] < FIRST + timedelta(days=14)
    ]
    (document,) = read_cohorts(store.db, [FIRST + timedelta(days=7)])
    assert document["following"] == 4
    groups = {(g["game_id"], g["language"]): g for g in document["groups"]}
    expected: dict[tuple[str, str], list[str]] = {}
    for user in new:
        expected.setdefault((w1.loc[user, "game"], w1.loc[user, "language"]), []).append(user)
        expected.setdefault((w1.loc[user, "game"], ""), []).append(user)
    assert set(groups) == set(expected)
    for key, users in expected.items():
        group = groups[key]
        assert group["new"] == len(users)
        for k in range(1, 5):
            later = tables[1 + k]
            active = [u for u in users if u in later.index]
            grown = [u for u in active if later.loc[u, "watched"] / later.loc[u, "minutes"] >= 5]
            assert (group["active"][k - 1], group["five_plus"][k - 1]) == (len(active), len(grown))
    assert read_cohorts(store.db, [FIRST]) == []  # the first week has no history before it

    # Channels like a 6-viewer German channel of g1: the base week is W1 (the newest with
    # four weeks after it); nearest by the ratio of average viewers.
    base, like = channels_like(store.db, "g1", "de", 6.0, count=5)
    assert base == FIRST + timedelta(days=7)
    peers = w1[(w1["game"] == "g1") & (w1["language"] == "de")]
    average = peers["watched"] / peers["minutes"]
    distance = {u: abs(math.log((average[u] + 1) / 7.0)) for u in peers.index}
    nearest = sorted(distance, key=lambda u: (distance[u], u))[:5]
    assert like["user_id"].tolist() == nearest
    assert like["avg_viewers"].tolist() == pytest.approx([average[u] for u in nearest])
    for k in range(1, 5):
        later = tables[1 + k]
        for user, hours, avg in zip(
            like["user_id"], like[f"hours_live_{k}"], like[f"avg_viewers_{k}"], strict=True
        ):
            if user in later.index:
                assert hours == pytest.approx(later.loc[user, "minutes"] / 60)
                assert avg == pytest.approx(later.loc[user, "watched"] / later.loc[user, "minutes"])
            else:
                assert math.isnan(hours) and math.isnan(avg)
    _, without = channels_like(store.db, "g1", "de", 6.0, count=5, exclude=nearest[0])
    assert nearest[0] not in without["user_id"].tolist()


@pytest.mark.integration
def test_documents_stored_before_collections_were_cut_by_group_move_and_read_the_same(
    store: Store,
) -> None:
    raw = raw_days()
    store_days(store, raw)
    update_weeks(store.db, [FIRST + timedelta(days=d) for d in range(DAYS)])
    for day in (FIRST, FIRST + timedelta(days=1)):
        readings = [
            FollowerReading(f"u{c:03d}", f"chan{c:03d}", 100 + c + day.day) for c in range(30)
        ]
        write_followers(store.db, day, readings)

    def reads() -> list[object]:
        end = FIRST + timedelta(days=DAYS)
        return [
            channels_like(store.db, "g1", "de", 6.0, count=5)[1],
            read_cohorts(store.db, [FIRST + timedelta(days=7)]),
            [e.login for e in search_channels(store.db, "chan01", 50)],
            read_channel_days(store.db, "u007", FIRST, end),
            read_followers_gained(store.db, FIRST, end),
        ]

    before = reads()
    assert len(before[0]) == 5 and len(before[3]) > 3 and len(before[4]) == 30  # type: ignore[arg-type]

    # Put every document where the layout before the cut kept it: a month's summaries in
    # one collection, the followers, weeks and directory each in one.
    def old_home(name: str) -> str | None:
        for base in (schema.CHANNEL_SUMMARIES, schema.CHANNEL_FOLLOWERS):
            if name.startswith(f"{base}_"):
                return name.rsplit("_g", 1)[0] if base == schema.CHANNEL_SUMMARIES else base
        if name.startswith(f"{schema.CHANNEL_WEEKS}_"):
            return schema.CHANNEL_WEEKS
        if name.startswith(f"{schema.CHANNEL_DIRECTORY}_"):
            return schema.CHANNEL_DIRECTORY
        return None

    for name in store.db.list_collection_names():
        home = old_home(name)
        if home is not None:
            store.db[home].insert_many(list(store.db[name].find()))
            store.db.drop_collection(name)
    assert reads()[0].empty  # type: ignore[union-attr]
    assert store.migrate_channel_collections() > 0
    after = reads()
    for was, now in zip(before, after, strict=True):
        if isinstance(was, pd.DataFrame):
            pd.testing.assert_frame_equal(was, now)
        else:
            assert was == now
    assert store.migrate_channel_collections() == 0
