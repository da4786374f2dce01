"""Follower totals: the client's reading of Get Channel Followers, the daily tracker over
FerretDB and the emulator, gains per day, and a token Twitch refuses."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import FROZEN_AT, EmulatorFactory, FerretDB, collector_settings
from scheduler.app import build_collector, follower_tracker
from slots import day_of
from store import Store, read_followers, read_followers_gained
from twitch_client.errors import FollowersUnavailable, SchemaError
from twitch_client.followers import follower_total


def test_the_total_is_read_and_a_broken_answer_is_a_schema_error() -> None:
    asked: list[Any] = []

    def fetch(params: list[tuple[str, Any]]) -> Any:
        asked.append(params)
        return {"total": 42, "data": [], "pagination": {}}

    assert follower_total(fetch, "123") == 42
    assert asked == [[("broadcaster_id", "123"), ("first", 1)]]
    for body in ({"data": []}, {"total": -1}, {"total": "9"}, {"total": True}, []):
        with pytest.raises(SchemaError):
            follower_total(lambda _params, body=body: body, "1")  # type: ignore[misc]


def _collector(
    emulator: Any, ferretdb: FerretDB, database: str, tmp_path: Path, **extra: Any
) -> Any:
    settings = collector_settings(
        emulator.url, ferretdb.uri, database, tmp_path / "spool",
        snapshot_scope="market", snapshot_top_n=50,
        frames_top=0, frames_random=0, frames_non_game=0, **extra,
    )  # fmt: skip
    return settings, build_collector(settings, clock=lambda: FROZEN_AT)


@pytest.mark.integration
def test_the_tracker_reads_the_top_and_named_channels_once_a_day_and_gains_are_the_emulators(
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
) -> None:
    next_day = FROZEN_AT + timedelta(days=1)
    expected: dict[Any, dict[str, int]] = {}
    named = ""
    for at in (FROZEN_AT, next_day):
        emulator = make_emulator(channels=3_000, frozen_at=at)
        market = emulator.app.extensions["emulator"].source
        if not named:  # a small channel live at FROZEN_AT, far outside the top 5
            table = sorted(market.table().records, key=lambda r: (r["viewer_count"], r["user_id"]))
            named = table[0]["user_login"]
        settings, collector = _collector(
            emulator, ferretdb, database_name, tmp_path,
            followers_top=5, followers_channels=f" {named.upper()} ", followers_per_run=4,
        )  # fmt: skip
        assert collector.collect(at).outcome == "stored"
        tracker = follower_tracker(settings, collector)
        assert tracker is not None
        tracker._clock = lambda at=at: at  # type: ignore[method-assign]
        first, second = tracker.run(), tracker.run()
        assert (first.read, first.left) == (4, 2) and (second.read, second.left) == (2, 0)
        assert tracker.run().read == 0  # once a day
        top = market.table().records[:5]
        ids = [r["user_id"] for r in top] + [str(market.user_id_of(market.channel_of_login(named)))]
        expected[at] = {
            u: market.followers(market.channel_of_user_id(u), market.now()) for u in ids
        }
        collector.close()
    day_one, day_two = expected[FROZEN_AT], expected[next_day]
    both = set(day_one) & set(day_two)
    assert both  # the named channel at least
    stored = read_followers(store.db, both, FROZEN_AT, next_day + timedelta(days=1))
    for user_id in both:
        frame = stored[user_id]
        assert frame["day"].tolist() == [day_of(FROZEN_AT), day_of(next_day)]
        assert frame["followers"].tolist() == [day_one[user_id], day_two[user_id]]
        assert frame["gained"].iloc[1] == day_two[user_id] - day_one[user_id]
        assert frame["gained"].isna().iloc[0]  # no reading the day before
    assert any(day_two[u] > day_one[u] for u in both)  # totals grow with watched hours
    # The leaderboard's column: per login, the newest total and the gain over the window.
    board = read_followers_gained(store.db, FROZEN_AT, next_day + timedelta(days=1))
    logins = {str(market.user_id_of(i)): market.login_of(i) for i in range(3_000)}
    for user_id in both:
        row = board.loc[logins[user_id]]
        assert (row["followers"], row["gained"]) == (
            day_two[user_id],
            day_two[user_id] - day_one[user_id],
        )
    only_one_day = set(day_one) ^ set(day_two)
    for user_id in only_one_day:
        assert pd.isna(board.loc[logins[user_id], "gained"])  # one reading: no gain measured


@pytest.mark.integration
@pytest.mark.parametrize("status", [401, 403])
def test_a_token_refused_followers_turns_them_off_once_and_snapshots_go_on(
    status: int,
    make_emulator: EmulatorFactory,
    ferretdb: FerretDB,
    store: Store,
    database_name: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator = make_emulator(channels=2_000, followers_status=status)
    settings, collector = _collector(
        emulator, ferretdb, database_name, tmp_path, followers_top=10, followers_per_run=10
    )
    assert collector.collect(FROZEN_AT).outcome == "stored"
    tracker = follower_tracker(settings, collector)
    assert tracker is not None
    with caplog.at_level(logging.WARNING):
        assert tracker.run().off and tracker.run().off
    warnings = [r for r in caplog.records if "follower counts are off" in r.getMessage()]
    assert len(warnings) == 1
    assert store.followers_read_on(FROZEN_AT) == set()
    assert collector.collect(FROZEN_AT + timedelta(minutes=30)).outcome == "stored"
    with pytest.raises(FollowersUnavailable):
        collector.client.follower_total(
            str(emulator.app.extensions["emulator"].source.user_id_of(0))
        )
    collector.close()
