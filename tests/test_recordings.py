"""Real recordings: localised category names become one category, and old data is labelled
as old."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from dashboard.filters import Filters
from emulator.recordings import LOCALISED_CATEGORIES, convert


def test_localised_category_names_are_mapped_to_twitchs(shared_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "michaelnich.jsonl"
    convert("michaelnich", shared_data / "recorded", target)
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    names = {r["game_name"] for r in records}
    assert not names & set(LOCALISED_CATEGORIES), "no Portuguese category name is left"
    first = min(r["observed_at"] for r in records)
    chatting = [r for r in records if r["game_name"] == "Just Chatting"]
    # The first snapshot said "Só na conversa, 492.4 mil espectadores": the same category
    # (one game id, one channel) as every later "Just Chatting".
    assert {r["game_id"] for r in chatting} == {chatting[0]["game_id"]}
    assert {r["user_login"] for r in chatting} == {"just_chatting"}
    opening = [r for r in chatting if r["observed_at"] == first]
    assert [r["viewer_count"] for r in opening] == [492_400]
    assert len({r["observed_at"] for r in chatting}) == len({r["observed_at"] for r in records})


def test_a_preset_over_old_data_says_which_days_it_shows() -> None:
    newest = pd.Timestamp("2018-03-19 19:42", tz="UTC")
    week = Filters(window="7d")
    window = week.window_for(newest)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert week.describe(window, now) == "7 days ending 2018-03-19 19:42 UTC"
    fresh = newest.to_pydatetime() + timedelta(minutes=40)
    assert week.describe(window, fresh) == "Last 7 days"
    assert (
        Filters(window="24h", language="es")
        .describe(window, now)
        .startswith("24 hours ending 2018-03-19 19:42 UTC, language Spanish")
    )
