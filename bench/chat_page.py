"""Chat page data benchmark; writes its section of docs/benchmarks.md.

    .venv/bin/python bench/chat_page.py            # 7 days of chat (about 4 minutes)
    .venv/bin/python bench/chat_page.py --days 1   # smaller, for a smoke test

Writes the chat rollups of `--days` days of slots for 1,000 channels (30 minutes read
each slot, Zipf-like emote use over 40 global and 25 own emotes per channel, 4 topics)
into a private FerretDB, then times what the Chat page does with them through
`dashboard.chat_data` — reading the window's chat day documents (cold: a fresh
`ChatData`; warm: cached), the per-channel, per-game, emote, trending and topic tables,
and one channel's own emotes (read on demand, every time) — and the bytes its cache
holds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, write_section
from dashboard.chat_data import (
    ChatData,
    channel_totals,
    emote_uses,
    group_totals,
    topic_counts,
    trending,
)
from store import (
    CHAT_DAY_DIMENSIONS,
    ChatDay,
    ChatStore,
    ChatSums,
    LocalFerretDB,
    Store,
    StoreReader,
    TopicSums,
    compute_chat_rollups,
)

CHANNELS = 1_000
GAMES = 150
END = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


def channel_minutes(rng: random.Random) -> dict[str, ChatSums]:
    merged: dict[str, ChatSums] = {}
    for c in range(CHANNELS):
        messages = int(3000 / (c + 1) ** 0.7) + rng.randint(0, 30)
        emotes: Counter[str] = Counter()
        for k in range(40):
            emotes[str(k)] = int(messages * 0.3 / (k + 1) ** 1.1)
        for k in range(25):
            emotes[f"emotesv2_{c}_{k}"] = int(messages * 0.2 / (k + 1) ** 1.1)
        merged[f"channel{c}"] = ChatSums(
            key=f"channel{c}",
            minutes=30,
            messages=messages,
            chatter_minutes=messages // 3,
            subscriber_messages=messages // 5,
            emote_only_messages=messages // 10,
            free_emote_uses=sum(v for k, v in emotes.items() if not k.startswith("e")),
            paid_emote_uses=sum(v for k, v in emotes.items() if k.startswith("e")),
            emotes=+emotes,
            topics={
                t: TopicSums(messages // 50, Counter({"0": messages // 40}))
                for t in ("worldcup", "patch", "speedrun", "giveaway")
            },
        )
    return merged


def seed(store: Store, days: int) -> int:
    """Day documents built in memory from per-slot rollups, written once a day each."""
    rng = random.Random(5)
    snapshot = {
        f"channel{c}": {
            "key": f"channel{c}",
            "viewers": int(200_000 / (c + 1) ** 0.9),
            "game_id": str(c % GAMES),
            "language": ("en", "es", "de", "ja", "pt")[c % 5],
        }
        for c in range(CHANNELS)
    }
    paid = {f"emotesv2_{c}_{k}" for c in range(CHANNELS) for k in range(25)}
    chat = ChatStore(store.db)
    first = END - timedelta(days=days)
    for d in range(days):
        day = first + timedelta(days=d)
        built = {dim: ChatDay.empty(day, dim) for dim in CHAT_DAY_DIMENSIONS}
        for i in range(48):
            slot = day + timedelta(minutes=30 * i)
            documents = {
                doc["dimension"]: doc
                for doc in compute_chat_rollups(
                    slot,
                    channel_minutes(rng),
                    snapshot,
                    {str(g): f"Game {g}" for g in range(GAMES)},
                    lambda game: ("Shooter", "RPG", "MOBA")[int(game) % 3],
                    {},
                    paid,
                    slot + timedelta(minutes=31),
                    minutes_read=30,
                    minutes_in_slot=30,
                    complete=True,
                )
            }
            for dim, current in built.items():
                source = documents["channel" if dim == "channel_emotes" else dim]
                built[dim] = current.with_slot(slot, source)
        for current in built.values():
            chat.save_day(current, day + timedelta(days=1))
    return days * 48


def page_work(chat: ChatData) -> float:
    started = time.perf_counter()
    window = chat.window(END - timedelta(days=7), END)
    channels = channel_totals(window, lambda game: "Shooter")
    group_totals(channels, "game_id")
    emote_uses(window, "game", "1")
    emote_uses(window, "all", "all")
    trending(window)
    topic_counts(window, "worldcup")
    chat.channel_emotes(window, "channel7")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    command = "  .venv/bin/python bench/chat_page.py" + (
        f" --days {args.days}" if args.days != 7 else ""
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = LocalFerretDB(Path(tmp) / "ferretdb")
        db.start()
        try:
            store = Store(db.uri, "bench_chat_page")
            started = time.perf_counter()
            count = seed(store, args.days)
            seeded = time.perf_counter() - started
            reader = StoreReader(db.uri, "bench_chat_page")
            colds, warms = [], []
            for _ in range(3):
                chat = ChatData(reader)
                colds.append(page_work(chat))
                warms.extend(page_work(chat) for _ in range(5))
            held = chat.cached_bytes
            reader.close()
            store.close()
        finally:
            db.stop()
    report = f"""## Chat page data (`bench/chat_page.py`)

{machine()}. Command:

{command}

{count} slots of chat ({args.days} days) for {CHANNELS:,} channels in {GAMES} games,
built and written in {seeded:.0f} s, read back by `dashboard.chat_data` as the Chat page does for a
7-day window (its day documents, the per-channel and per-game tables, a game's, all
channels' and one channel's emotes, trending emotes, a topic).

| figure | value |
|---|---|
| cold (a fresh cache; 3 runs), median / max | {statistics.median(colds):.2f} s / {max(colds):.2f} s |
| warm (cached days; 15 runs), median / max | {statistics.median(warms) * 1000:.0f} ms / {max(warms) * 1000:.0f} ms |
| bytes the cache holds for the window | {held / 2**20:.1f} MB (bound 48 MB) |
"""
    print(report)
    write_section("chat-page", report)


if __name__ == "__main__":
    main()
