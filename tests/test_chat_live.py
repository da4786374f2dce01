"""The live chat view's figures from minute documents, against plain sums."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import dash
import numpy as np
import pandas as pd

from dashboard.chat_live import LIVE_MINUTES, NOW_MINUTES, ChatLive
from store import LiveCounts, chat_minute_id, live_counts
from store._chat_live import chat_live_document

NOW = datetime(2026, 12, 6, 20, 30, 40, tzinfo=UTC)
THIS = NOW.replace(second=0)
SHARDS = ["0of2", "1of2"]


def _entry(channel: str, rng: np.random.Generator) -> dict[str, Any]:
    free = {f"f{i}": int(rng.integers(1, 9)) for i in rng.choice(6, 3, replace=False)}
    paid = {f"{channel}_p{i}": int(rng.integers(1, 9)) for i in rng.choice(4, 2, replace=False)}
    return {
        "channel": channel,
        "messages": int(rng.integers(1, 50)),
        "free_emote_uses": sum(free.values()),
        "paid_emote_uses": sum(paid.values()),
        "free_emotes": free,
        "paid_emotes": paid,
    }


class Reader:
    """Minute documents by `_id`, counting the reads."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.reads: Counter[datetime] = Counter()

    def chat_live(self, minutes: list[datetime], shards: list[str]) -> list[LiveCounts]:
        """What the reader writes beside each minute document, packed and read back."""
        self.reads.update(minutes)
        ids = [chat_minute_id(minute, s) for minute in minutes for s in shards]
        packed = [
            chat_live_document(
                d["_id"], d["minute"], d["shard"], d["channels"], d["emote_names"], NOW, 1
            )
            for d in (self.documents[i] for i in ids if i in self.documents)
        ]
        return [live_counts(document) for document in packed]


def _market(seed: int = 1) -> Reader:
    rng = np.random.default_rng(seed)
    reader = Reader()
    for back in range(LIVE_MINUTES + 10):
        minute = THIS - timedelta(minutes=back)
        if back in (7, 20):  # no reader stored these minutes
            continue
        for shard, channels in zip(SHARDS, (["<b>a</b>", "b"], ["c", "d", "e"]), strict=True):
            if back == 12 and shard == "1of2":
                continue  # one shard missing: the other's counts still show
            reader.documents[chat_minute_id(minute, shard)] = {
                "_id": chat_minute_id(minute, shard),
                "minute": minute,
                "shard": shard,
                "channels": [_entry(c, rng) for c in channels],
                "emote_names": {"f1": "Kappa", "<b>a</b>_p1": "<i>hype</i>"},
            }
    return reader


def _entries(reader: Reader, since: datetime) -> list[dict[str, Any]]:
    return [
        entry
        for document in reader.documents.values()
        if since <= document["minute"] <= THIS
        for entry in document["channels"]
    ]


def test_the_last_hour_per_minute_equals_the_documents_and_gaps_stay_gaps() -> None:
    reader = _market()
    live = ChatLive(reader, SHARDS, clock=lambda: NOW).current()  # type: ignore[arg-type]
    frame = live.per_minute()
    assert len(frame) == LIVE_MINUTES and frame.index[-1] == THIS
    for minute, row in frame.iterrows():
        documents = [d for d in reader.documents.values() if d["minute"] == minute]
        if not documents:
            assert row.isna().all(), minute  # nothing read is not zero
            continue
        entries = [e for d in documents for e in d["channels"]]
        assert row["free"] == sum(e["free_emote_uses"] for e in entries)
        assert row["paid"] == sum(e["paid_emote_uses"] for e in entries)
        assert row["messages"] == sum(e["messages"] for e in entries)
        assert row["shards_read"] == len(documents)
    assert frame["free"].isna().sum() == 2


def test_top_channels_and_a_channels_emotes_now_equal_plain_sums() -> None:
    reader = _market(2)
    live = ChatLive(reader, SHARDS, clock=lambda: NOW).current()  # type: ignore[arg-type]
    recent = _entries(reader, THIS - timedelta(minutes=NOW_MINUTES - 1))
    uses: Counter[str] = Counter()
    for e in recent:
        uses[e["channel"]] += e["free_emote_uses"] + e["paid_emote_uses"]
    top = live.top_channels(3)
    expected = sorted(uses.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert list(zip(top["channel"], top["uses"], strict=True)) == expected
    assert live.channels_now() == sorted(uses)

    emotes: Counter[str] = Counter()
    for e in recent:
        if e["channel"] == "<b>a</b>":
            emotes.update({**e["free_emotes"], **e["paid_emotes"]})
    shown = live.channel_emotes("<b>a</b>", 20)
    assert dict(zip(shown["emote"], shown["uses"], strict=True)) == dict(emotes)
    assert list(shown["uses"]) == sorted(emotes.values(), reverse=True)
    named = shown.set_index("emote")
    assert named.loc["<b>a</b>_p1", "name"] == "<i>hype</i>" and named.loc["f1", "name"] == "Kappa"
    assert set(named.loc[[e for e in emotes if "_p" in e], "kind"]) == {"paid"}
    assert live.channel_emotes("nobody").empty


def test_settled_minutes_are_read_once_and_the_newest_again() -> None:
    reader = _market(3)
    clock = [NOW]
    live = ChatLive(reader, SHARDS, clock=lambda: clock[0])  # type: ignore[arg-type]
    live._read(clock[0])
    clock[0] = NOW + timedelta(seconds=10)
    again = live._read(clock[0])
    # With readers flushing every 5 s a minute is final 40 s after it ended (20:29 at
    # 20:30:40, its end 20:30:00); newer ones may still change.
    assert [reader.reads[THIS - timedelta(minutes=m)] for m in (3, 2, 1)] == [1, 1, 1]
    assert reader.reads[THIS] == 2
    # A final minute with no document, or one shard's only, is asked for again a minute
    # later, not at every refresh (a reader's spool may write it later); meanwhile the
    # shard read still shows.
    missing, partial = THIS - timedelta(minutes=7), THIS - timedelta(minutes=12)
    assert reader.reads[missing] == 1 and reader.reads[partial] == 1
    assert next(m for m in again.minutes if m.minute == partial).shards_read == 1
    clock[0] = NOW + timedelta(seconds=75)
    live._read(clock[0])
    assert reader.reads[missing] == 2 and reader.reads[partial] == 2
    slow = ChatLive(reader, SHARDS, clock=lambda: NOW, flush_seconds=60)  # type: ignore[arg-type]
    slow._read(NOW)
    slow._read(NOW)
    assert reader.reads[THIS - timedelta(minutes=1)] == 3  # not final with 60 s flushes
    # A settled minute older than "now" keeps no per-emote counts.
    old = next(m for m in again.minutes if m.minute == THIS - timedelta(minutes=30))
    assert len(old.pair_uses) == 0 and old.free.sum() > 0


def test_no_chat_is_an_empty_view() -> None:
    live = ChatLive(Reader(), SHARDS, clock=lambda: NOW).current()  # type: ignore[arg-type]
    assert live.per_minute()["free"].isna().all()
    assert live.top_channels().empty and live.channels_now() == []
    assert isinstance(live.per_minute().index, pd.DatetimeIndex)


def _text(component: Any) -> str:
    """Every string under a Dash component."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else _text(children)


def _silent_market() -> Reader:
    """Minutes whose channels were listened to and said nothing."""
    reader = Reader()
    for back in range(3):
        minute = THIS - timedelta(minutes=back)
        entry: dict[str, Any] = {"channel": "a", "messages": 0}
        entry |= {"free_emote_uses": 0, "paid_emote_uses": 0}
        entry |= {"free_emotes": {}, "paid_emotes": {}}
        minute_id = chat_minute_id(minute, "0of1")
        reader.documents[minute_id] = {
            "_id": minute_id, "minute": minute, "shard": "0of1", "channels": [entry],
            "emote_names": {},
        }  # fmt: skip
    return reader


def test_the_live_section_says_so_when_channels_were_read_but_silent_or_long_ago() -> None:
    dash.Dash(__name__, use_pages=True, pages_folder="")  # a page module registers itself
    from dashboard.pages.chat import live_children

    silent = ChatLive(_silent_market(), ["0of1"], clock=lambda: NOW).current()  # type: ignore[arg-type]
    children = live_children(silent, None, "UTC")
    assert "no message arrived" in _text(children)
    assert not any(getattr(c, "id", None) == "chat-live-minutes" for c in children)

    # Chat read earlier in the hour, none in the last minutes: the chart, and no empty name.
    later = NOW + timedelta(minutes=NOW_MINUTES + 20)
    old = ChatLive(_market(), SHARDS, clock=lambda: later).current()  # type: ignore[arg-type]
    text = _text(live_children(old, None, "UTC"))
    assert f"No channel was read in the last {NOW_MINUTES} minutes" in text
    assert "Top emotes of ," not in text and "Top emotes of a channel" in text
