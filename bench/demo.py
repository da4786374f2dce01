"""The demo as a new user meets it, measured; writes its section of docs/benchmarks.md.

    scripts/demo                                  # in one shell
    .venv/bin/python bench/demo.py                # in another, right after: 30 minutes

Every process of `scripts/demo` runs at once on this machine (FerretDB, the emulator, the
collector and its backfill, the chat reader, the frame labeller, the highlight detector,
the site); this script only reads, as a visitor and a notebook would:

- the live chat view's delay, over 10 minutes from minute 8: the emulator's ledger total
  is polled every 0.2 s (when each line was sent) and `ChatLive.current()` every
  `LIVE_REFRESH_MS` (what the live chart shows). A line of minute m counts as shown at
  the first refresh whose count for m reaches its place in m's lines times the share of
  m's lines the reader stored (so lines the reader never got are not read as delay);
- at minute 30: lines sent (the emulator's ledger) against messages stored in
  `chat_minutes`; every highlight moment, its clip fetched from the site's clip URL and
  decoded with PyAV; the recorded highlight failures; what the Frames page can flag
  (`stream_categories`, the category model's validation).
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
import time
from collections import Counter
from datetime import UTC
from pathlib import Path
from typing import Any

import av
import numpy as np
import pymongo
import requests
from pymongo.database import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, write_section
from dashboard.chat_live import LIVE_REFRESH_MS, ChatLive
from settings import load_settings
from store import StoreReader, shard_label
from store.schema import (
    CHAT_MINUTES,
    CLASSIFIER_MODELS,
    HIGHLIGHT_FAILURES,
    HIGHLIGHT_WINDOWS,
    STREAM_CATEGORIES,
)

SITE = "http://127.0.0.1:8050"  # Procfile.local's gunicorn
SAMPLED_PER_MINUTE = 500


def _ledger_total(session: requests.Session, emulator: str) -> int:
    answer = session.get(f"{emulator}/_emulator/chat/sent?only=total", timeout=10)
    return int(answer.json()["messages"])


def ledger_minutes(emulator: str) -> dict[int, int]:
    """Lines sent per minute (epoch ms), every channel together."""
    rows = requests.get(f"{emulator}/_emulator/chat/sent", timeout=120).json()["minutes"]
    sent: Counter[int] = Counter()
    for row in rows:
        sent[int(row["minute_ms"])] += int(row["messages"])
    return dict(sent)


def stored_minutes(db: Database[Any]) -> dict[int, int]:
    """Messages stored per minute (epoch ms), every reader shard together."""
    stored: Counter[int] = Counter()
    for document in db[CHAT_MINUTES].find({}, {"minute": 1, "channels.messages": 1}):
        minute = int(document["minute"].replace(tzinfo=UTC).timestamp() * 1000)
        stored[minute] += sum(int(entry["messages"]) for entry in document["channels"])
    return dict(stored)


def live_delays(
    sent: list[tuple[float, int]],
    shown: list[tuple[float, dict[int, int]]],
    share: dict[int, float],
    span: tuple[float, float],
    ledger: dict[int, int],
    rng: np.random.Generator,
) -> np.ndarray:
    """Per sampled line: the first refresh that showed it minus when it was sent."""
    at = np.array([t for t, _ in sent])
    total = np.array([n for _, n in sent])
    lags = []
    for minute, lines in sorted(ledger.items()):
        begins = minute / 1000
        if begins < span[0] or begins + 60 > span[1] or minute not in share or not lines:
            continue
        before = np.interp(begins, at, total)  # lines sent before the minute began
        for place in rng.integers(1, lines + 1, SAMPLED_PER_MINUTE):
            index = int(np.searchsorted(total - before, place, "left"))
            if index >= len(at):
                continue
            needed = place * share[minute]
            seen = next((t for t, counts in shown if counts.get(minute, 0) >= needed), None)
            if seen is not None:
                lags.append(seen - at[index])
    return np.array(lags)


def measure_live(
    emulator: str, reader: StoreReader, shards: list[str], seconds: float
) -> tuple[list[tuple[float, int]], list[tuple[float, dict[int, int]]], list[float]]:
    sent: list[tuple[float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        session = requests.Session()
        while not stop.is_set():
            asked = time.time()
            total = _ledger_total(session, emulator)
            sent.append(((asked + time.time()) / 2, total))
            stop.wait(0.2)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    view = ChatLive(reader, shards)
    shown: list[tuple[float, dict[int, int]]] = []
    refresh: list[float] = []
    began = time.time()
    while time.time() - began < seconds:
        asked = time.time()
        frame = view.current().per_minute().dropna()
        refresh.append(time.time() - asked)
        counts = {int(ts.timestamp() * 1000): int(n) for ts, n in frame["messages"].items()}
        shown.append((time.time(), counts))
        time.sleep(max(0.0, asked + LIVE_REFRESH_MS / 1000 - time.time()))
    stop.set()
    poller.join(timeout=10)
    return sent, shown, refresh


def moment_clips(db: Database[Any]) -> tuple[int, int, int, list[float], Counter[str]]:
    """Moments, those with a clip, those whose clip the site serves as a decodable video,
    the clips' durations, and analysed clips per channel."""
    moments = with_clip = playable = 0
    durations: list[float] = []
    analysed: Counter[str] = Counter()
    for document in db[HIGHLIGHT_WINDOWS].find():
        for clip in document["clips"].values():
            analysed[document["login"]] += 1
            for moment in clip.get("moments", []):
                moments += 1
                if not moment.get("clip_id"):
                    continue
                with_clip += 1
                answer = requests.get(f"{SITE}/clips/{moment['clip_id']}.mp4", timeout=60)
                if answer.status_code != 200:
                    continue
                with av.open(io.BytesIO(answer.content), mode="r") as container:
                    frames = len(list(container.decode(video=0)))
                    if frames and container.duration:
                        playable += 1
                        durations.append(container.duration / 1e6)
    return moments, with_clip, playable, durations, analysed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="the whole run")
    parser.add_argument("--live-from", type=float, default=8.0, help="minute the delay starts")
    parser.add_argument("--live-minutes", type=float, default=10.0)
    args = parser.parse_args()
    settings = load_settings()
    emulator = settings.emulator_url.rstrip("/")
    started = time.time()
    rng = np.random.default_rng(7)
    time.sleep(max(0.0, started + args.live_from * 60 - time.time()))
    reader = StoreReader(settings.mongodb_uri, settings.mongodb_db)
    shards = [shard_label(i, settings.chat_shards) for i in range(settings.chat_shards)]
    sent, shown, refresh = measure_live(emulator, reader, shards, args.live_minutes * 60)
    span = (shown[0][0], shown[-1][0] - LIVE_REFRESH_MS / 1000)
    time.sleep(max(90.0, started + args.minutes * 60 - time.time()))
    db: Database[Any] = pymongo.MongoClient(settings.mongodb_uri)[settings.mongodb_db]
    ledger = ledger_minutes(emulator)
    stored = stored_minutes(db)
    # Closed minutes only: the reader writes a minute for good 15 s after it ends.
    closed = [m for m in ledger if m / 1000 + 75 < time.time()]
    share = {m: stored[m] / ledger[m] for m in closed if ledger[m] and m in stored}
    lag = live_delays(sent, shown, share, span, ledger, rng)
    in_span = [s for m, s in share.items() if span[0] <= m / 1000 and m / 1000 + 60 <= span[1]]
    first_minute = (min(stored) / 1000 - started) / 60 if stored else float("nan")
    moments, with_clip, playable, durations, analysed = moment_clips(db)
    failures = Counter(str(d["reason"]) for d in db[HIGHLIGHT_FAILURES].find())
    categories = list(db[STREAM_CATEGORIES].find({}, {"shows_other": 1}))
    flagged = sum(1 for c in categories if c.get("shows_other"))
    models = [
        f"{m.get('target')} model of {m.get('trained_at')}: validation balanced accuracy "
        f"{(m.get('validation') or {}).get('balanced_accuracy', float('nan')):.2f} over "
        f"{(m.get('validation') or {}).get('frames', 0)} frames, trusted {m.get('trusted')}"
        for m in db[CLASSIFIER_MODELS].find({}, {"weights": 0})
    ]
    sent_closed = sum(ledger[m] for m in closed)
    stored_closed = sum(stored.get(m, 0) for m in closed)
    clips_line = f"{min(durations):.1f}–{max(durations):.1f} s" if durations else "no clip decoded"
    report = f"""## The demo, measured (`bench/demo.py`)

{machine()}. Commands (two shells, from a fresh clone):

  scripts/demo
  .venv/bin/python bench/demo.py

Every demo process at once on this machine; the figures are read as a visitor would, at
minute {args.minutes:.0f} of the run (the live delay over minutes {args.live_from:.0f}–{args.live_from + args.live_minutes:.0f}).

| figure | value |
|---|---|
| chat: first minute stored, after this script started | {first_minute:.1f} min |
| chat: lines the emulator sent / messages stored, closed minutes | {sent_closed:,} / {stored_closed:,} ({stored_closed / max(sent_closed, 1):.1%}) |
| chat: share of each minute's lines stored, minutes of the delay span, min / median | {min(in_span, default=float("nan")):.1%} / {float(np.median(in_span)) if in_span else float("nan"):.1%} |
| live chart delay, line sent → counted on the chart, median / p95 / max ({len(lag):,} lines) | {np.median(lag):.1f} s / {np.percentile(lag, 95):.1f} s / {lag.max():.1f} s (target p95 ≤ 20 s) |
| a refresh of the live view, median / max | {np.median(refresh[1:]) * 1000:.0f} ms / {max(refresh[1:]) * 1000:.0f} ms |
| highlights: clips analysed per channel | {", ".join(f"{k} {v}" for k, v in analysed.most_common())} |
| highlights: moments / with a clip / clip served and decoded (PyAV) | {moments} / {with_clip} / {playable} ({clips_line}) |
| highlights: clips not analysed, by recorded reason | {", ".join(f"{k} {v}" for k, v in failures.items()) or "none"} |
| Frames page: streams recognised / flagged as showing another game | {len(categories)} / {flagged} |
| models | {"; ".join(models) or "none trained"} |
"""
    print(report)
    write_section("demo", report)


if __name__ == "__main__":
    main()
