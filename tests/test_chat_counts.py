"""Per-minute chat counts and the chat rollups, against sums computed from the messages."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chat.counts import MINUTE_MS, MinuteCounts, add_entries
from chat.emotes import EmoteCatalogue
from chat.irc import ChatMessage
from store import compute_chat_rollups, merge_channel_minutes

SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
BASE_MS = int(SLOT.timestamp() * 1000)
FREE_IDS = {"25", "41"}
PAID_IDS = {"emotesv2_a", "emotesv2_b"}


def _messages(seed: int, count: int) -> list[ChatMessage]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        emotes = rng.sample(sorted(FREE_IDS | PAID_IDS), rng.randint(0, 2))
        out.append(
            ChatMessage(
                channel=rng.choice(["alpha", "beta", "gamma"]),
                room_id="1",
                user_id=str(rng.randint(1, 30)),
                text=rng.choice(["gg", "WorldCup final!", "hello"]),
                sent_ms=BASE_MS + rng.randrange(30 * MINUTE_MS),
                subscriber=rng.random() < 0.3,
                emote_only=rng.random() < 0.1,
                emotes=tuple((e, rng.randint(1, 3)) for e in emotes),
                emote_names=tuple((e, f"name{e}") for e in emotes),
            )
        )
    return out


def _catalogue() -> EmoteCatalogue:
    catalogue = EmoteCatalogue()
    catalogue.global_ids = {"25"}
    catalogue.follower_ids = {"alpha": {"41"}}  # free in alpha only
    return catalogue


def test_minute_counts_match_the_messages() -> None:
    messages = _messages(1, 2_000)
    counts = MinuteCounts(_catalogue().kind_of, ["worldcup"])
    for message in messages:
        counts.add(message)
    counts.listening(BASE_MS, ["silent"])
    by_key: dict[tuple[int, str], list[ChatMessage]] = defaultdict(list)
    for m in messages:
        by_key[(m.sent_ms // MINUTE_MS * MINUTE_MS, m.channel)].append(m)
    for (minute, channel), mine in by_key.items():
        entry = next(e for e in counts.entries(minute) if e["channel"] == channel)
        assert entry["messages"] == len(mine)
        assert entry["chatters"] == len({m.user_id for m in mine})
        free = sum(
            n for m in mine for e, n in m.emotes if e == "25" or (e == "41" and channel == "alpha")
        )
        assert entry["free_emote_uses"] == free
        assert entry["paid_emote_uses"] == sum(n for m in mine for _, n in m.emotes) - free
        topic = [m for m in mine if "worldcup" in m.text.lower()]
        assert entry["topics"].get("worldcup", {"messages": 0})["messages"] == len(topic)
    silent = [e for e in counts.entries(BASE_MS) if e["channel"] == "silent"]
    assert silent and silent[0]["messages"] == 0


def test_a_late_line_for_a_stored_minute_is_counted_as_late_not_overwriting() -> None:
    counts = MinuteCounts(_catalogue().kind_of)
    first, later = _messages(2, 2)
    counts.add(replace(first, sent_ms=BASE_MS))
    counts.drop(BASE_MS)
    counts.add(replace(later, sent_ms=BASE_MS + 5))
    assert counts.late == 1
    assert counts.open_minutes() == []


def test_add_entries_sums_a_restarted_readers_minute() -> None:
    a = {"channel": "x", "messages": 3, "chatters": 2, "free_emotes": {"25": 1}, "topics": {}}
    b = {"channel": "x", "messages": 4, "chatters": 1, "free_emotes": {"25": 2, "41": 1},
         "topics": {"gg": {"messages": 1, "emotes": {"25": 1}}}}  # fmt: skip
    total = add_entries(a, b)
    assert total["messages"] == 7 and total["chatters"] == 3
    assert total["free_emotes"] == {"25": 3, "41": 1}
    assert total["topics"] == {"gg": {"messages": 1, "emotes": {"25": 1}}}


def test_chat_rollups_equal_sums_over_the_messages() -> None:
    messages = _messages(3, 3_000)
    counts = MinuteCounts(_catalogue().kind_of, ["worldcup"])
    for message in messages:
        counts.add(message)
    entries = [e for minute in counts.open_minutes() for e in counts.entries(minute)]
    snapshot = {
        "alpha": {"key": "alpha", "viewers": 100, "game_id": "g1", "language": "en"},
        "beta": {"key": "beta", "viewers": 40, "game_id": "g1", "language": "de"},
        # gamma is not in the snapshot: it counts only in `channel` and `all`
    }
    documents = {
        d["dimension"]: d
        for d in compute_chat_rollups(
            SLOT,
            merge_channel_minutes(entries),
            snapshot,
            {"g1": "Game One"},
            lambda game: {"g1": "Shooter"}[game],
            {},
            PAID_IDS,
            SLOT + timedelta(minutes=31),
            minutes_read=3,
            minutes_in_slot=30,
            complete=False,
        )
    }
    minutes_of: dict[str, set[int]] = defaultdict(set)
    for m in messages:
        minutes_of[m.channel].add(m.sent_ms // MINUTE_MS)
    game = documents["game"]["groups"][0]
    in_game = [m for m in messages if m.channel in snapshot]
    assert game["key"] == "g1" and game["name"] == "Game One"
    assert game["messages"] == len(in_game)
    assert game["viewer_minutes"] == sum(
        snapshot[c]["viewers"] * len(minutes_of[c]) for c in snapshot
    )
    chatter_minutes = len({(m.channel, m.sent_ms // MINUTE_MS, m.user_id) for m in in_game})
    assert game["chatter_minutes"] == chatter_minutes
    languages = {g["key"]: g for g in documents["language"]["groups"]}
    assert languages["de"]["messages"] == sum(m.channel == "beta" for m in messages)
    assert documents["genre"]["groups"][0]["key"] == "Shooter"
    everything = documents["all"]["groups"][0]
    assert everything["messages"] == len(messages)
    uses: Counter[str] = Counter()
    for m in messages:
        uses.update(dict(m.emotes))
    assert everything["emotes"] == dict(uses)
    topic = [m for m in messages if "worldcup" in m.text.lower()]
    assert everything["topics"]["worldcup"]["messages"] == len(topic)
    channels = {g["key"]: g for g in documents["channel"]["groups"]}
    assert channels["gamma"]["in_snapshot"] is False and channels["gamma"]["viewer_minutes"] == 0
    assert set(documents["all"]["paid_emotes"]) == PAID_IDS & set(uses)


def test_a_chat_day_replaces_a_rebuilt_slot_and_survives_its_document() -> None:
    from store import ChatDay

    def rollup(messages: int) -> dict[str, object]:
        return {
            "groups": [
                {
                    "key": "alpha",
                    "name": "Alpha",
                    "game_id": "g1",
                    "language": "en",
                    "minutes": 30,
                    "messages": messages,
                    "chatter_minutes": 5,
                    "viewer_minutes": 3000,
                    "free_emote_uses": 2,
                    "paid_emote_uses": 1,
                    "emotes": {"25": 2, "emotesv2_a": 1},
                    "topics": {"worldcup": {"messages": 1, "emotes": {"25": 1}}},
                }
            ],
            "emote_names": {"25": "Kappa"},
            "paid_emotes": ["emotesv2_a"],
        }

    later = SLOT + timedelta(minutes=30)
    day = ChatDay.empty(SLOT, "game").with_slot(SLOT, rollup(10)).with_slot(later, rollup(4))
    rebuilt = day.with_slot(SLOT, rollup(7))  # the running slot, rebuilt with more minutes
    assert sorted(rebuilt.numbers[:, 5].tolist()) == [4, 7]  # messages: replaced, not added
    assert len(rebuilt.emotes) == 4 and len(rebuilt.topics) == 4
    back = ChatDay.from_document(rebuilt.to_document(SLOT))
    assert back.keys == ["alpha"] and back.labels == ["Alpha"]
    assert back.numbers.tolist() == rebuilt.numbers.tolist()
    assert back.emotes.tolist() == rebuilt.emotes.tolist()
    assert back.topics.tolist() == rebuilt.topics.tolist()
    assert back.emote_names == {"25": "Kappa"} and back.paid == {"emotesv2_a"}
    assert [back.emote_ids[e] for e in back.emotes[:, 2]] == ["25", "emotesv2_a"] * 2
    # Names and paid ids are joined strings; a day written with an object and an array
    # (before they were) reads the same.
    document = dict(rebuilt.to_document(SLOT))
    assert isinstance(document["emote_names"], str) and isinstance(document["paid_emotes"], str)
    document |= {"emote_names": {"25": "Kappa"}, "paid_emotes": ["emotesv2_a"]}
    earlier = ChatDay.from_document(document)
    assert earlier.emote_names == {"25": "Kappa"} and earlier.paid == {"emotesv2_a"}
