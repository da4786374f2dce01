"""The Chat page's tables (`dashboard.chat_data`) against a plain computation over the
rollup groups they were built from: channels that change name, game and language within
a day, come and go between days, and slots outside the window."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from dashboard.chat_data import NUMBERS, ChatWindow, channel_totals, emote_uses, trending
from store import CHAT_ALL_KEY, CHAT_FIELDS, ChatDay

DAY = datetime(2026, 11, 20, tzinfo=UTC)
GENRES = {"g1": "Shooter", "g2": "RPG", "g3": "Shooter", "g4": "MOBA"}


def _rollups() -> list[tuple[datetime, list[dict[str, Any]]]]:
    """Per slot, the channel groups of two days (random, with markup in names)."""
    rng = random.Random(11)
    slots = []
    for d in range(2):
        for i in range(0, 48, 3):
            slot = DAY + timedelta(days=d, minutes=30 * i)
            groups = []
            for c in range(12):
                if rng.random() < 0.25:
                    continue  # offline this slot
                groups.append(
                    {
                        "key": f"chan{c}",
                        "name": f"<b>Chan {c}</b> v{rng.randint(0, 3)}",
                        "game_id": rng.choice(list(GENRES)),
                        "language": rng.choice(["en", "de", ""]),
                        **{f: rng.randint(0, 500) for f in CHAT_FIELDS},
                        "emotes": {f"e{k}": rng.randint(1, 40) for k in rng.sample(range(9), 4)},
                    }
                )
            slots.append((slot, groups))
    return slots


def _days(dimension: str, rollups: list[tuple[datetime, list[dict[str, Any]]]]) -> list[ChatDay]:
    days: dict[datetime, ChatDay] = {}
    for slot, groups in rollups:
        day = slot.replace(hour=0, minute=0)
        current = days.get(day) or ChatDay.empty(day, dimension)
        rollup = {"groups": groups, "minutes_read": 30, "minutes_in_slot": 30}
        days[day] = current.with_slot(slot, rollup)  # type: ignore[arg-type]
    return [days[d] for d in sorted(days)]


def _by(groups_of: list[tuple[datetime, list[dict[str, Any]]]], field: str) -> list[Any]:
    """The same slots regrouped by a field of the channel groups (a game's, say)."""
    regrouped = []
    for slot, groups in groups_of:
        merged: dict[str, dict[str, Any]] = {}
        for g in groups:
            into = merged.setdefault(g[field], {"key": g[field], "name": g[field], "emotes": {}})
            for emote, n in g["emotes"].items():
                into["emotes"][emote] = into["emotes"].get(emote, 0) + n
        regrouped.append((slot, list(merged.values())))
    return regrouped


@pytest.mark.parametrize(
    ("language", "genre"), [("", ""), ("de", ""), ("", "Shooter"), ("en", "RPG"), ("xx", "")]
)
def test_channel_totals_equal_sums_over_the_window_slots(language: str, genre: str) -> None:
    rollups = _rollups()
    start, end = DAY + timedelta(hours=7), DAY + timedelta(days=1, hours=17)
    inside = [(s, g) for s, g in rollups if start <= s < end]
    window = ChatWindow(start, end, [s for s, _ in inside], {"channel": _days("channel", rollups)})
    got = channel_totals(window, GENRES.__getitem__, language, genre)

    sums: dict[str, Counter[str]] = defaultdict(Counter)
    latest: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for slot, groups in inside:
        for g in groups:
            if (language and g["language"] != language) or (
                genre and GENRES[g["game_id"]] != genre
            ):
                continue
            sums[g["key"]].update({n: g[f] for f, n in zip(CHAT_FIELDS, NUMBERS, strict=True)})
            if g["key"] not in latest or slot > latest[g["key"]][0]:
                latest[g["key"]] = (slot, g)
    # A channel's name is kept per day: its name in the day's last slot that listed it.
    day_names = {(s.date(), g["key"]): g["name"] for s, groups in rollups for g in groups}
    assert sorted(got.index) == sorted(sums)
    for login, counts in sums.items():
        row = got.loc[login]
        assert {n: int(row[n]) for n in NUMBERS} == {n: counts[n] for n in NUMBERS}
        at, last = latest[login]
        assert (row["name"], row["game_id"], row["language"]) == (
            day_names[(at.date(), login)],
            last["game_id"],
            last["language"],
        )
        assert row["genre"] == GENRES[last["game_id"]]


def test_emote_uses_and_trending_equal_sums_over_the_window_slots() -> None:
    rollups = _rollups()
    start, end = DAY + timedelta(hours=3), DAY + timedelta(days=1, hours=20)
    inside = [(s, g) for s, g in rollups if start <= s < end]
    slots = [s for s, _ in inside]
    by_game = _by(rollups, "game_id")
    everything = [
        (s, [{"key": CHAT_ALL_KEY, "name": "", "emotes": m[0]["emotes"]}] if m else [])
        for (s, m) in _by(
            [(s, [{**g, "all": CHAT_ALL_KEY} for g in gs]) for s, gs in rollups], "all"
        )
    ]
    window = ChatWindow(
        start, end, slots, {"game": _days("game", by_game), "all": _days("all", everything)}
    )

    want: Counter[str] = Counter()
    for slot, groups in by_game:
        if start <= slot < end:
            want.update(next((g["emotes"] for g in groups if g["key"] == "g2"), {}))
    got = emote_uses(window, "game", "g2")
    assert got.to_dict() == dict(want)
    assert list(got) == sorted(got, reverse=True)

    half = slots[len(slots) // 2]
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for slot, groups in everything:
        if start <= slot < end:
            (after if slot >= half else before).update(groups[0]["emotes"])
    frame = trending(window, minimum=0)
    assert frame["before"].to_dict() == {e: before[e] for e in frame.index}
    assert frame["after"].to_dict() == {e: after[e] for e in frame.index}
    assert set(frame.index) == set(before) | set(after)
    assert isinstance(frame, pd.DataFrame)
