"""Chat ingest benchmark; writes its section of docs/benchmarks.md.

    .venv/bin/python bench/chat.py            # full run (about 2 minutes)
    .venv/bin/python bench/chat.py --quick    # shorter, for a smoke test

The production path end to end: `python -m emulator` in its own process serves chat for
the 1,000 most watched channels of the Twitch-sized market at 20:00 UTC, at
`EMULATOR_CHAT_RATE_SCALE` times the viewer-driven rate; this process runs one
`ChatDaemon` (reader, counts, emote catalogue, per-minute writes to FerretDB) on one
event loop. Throughput is messages per CPU-second of this process (the reader's one
core; the emulator and FerretDB run beside it), and the messages received are checked
against the emulator's ledger. A second figure times the parse-and-count step alone on
lines the emulator generates.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, emulator_process, machine, write_section
from chat.counts import MinuteCounts
from chat.daemon import ChatDaemon
from chat.emotes import EmoteCatalogue
from chat.reader import ChatReader
from emulator.chat import ChatServer
from emulator.config import EmulatorSettings
from emulator.market import Market
from emulator.state import LiveClock
from store import ChatStore, LocalFerretDB, Store, free_port
from twitch_client import TwitchClient

CHANNELS = 1_000
MARKET_AT = "2026-11-22T20:00:00+00:00"  # the day's peak: the busiest top 1,000


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def _measure(daemon: ChatDaemon, url: str, seconds: float) -> dict[str, float]:
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    started = time.monotonic()
    while len(daemon.reader.joined) < CHANNELS:
        if time.monotonic() - started > 120:
            raise RuntimeError(f"joined only {len(daemon.reader.joined)} channels")
        await asyncio.sleep(0.1)
    joined_after = time.monotonic() - started
    await asyncio.sleep(3)  # past the first bursts of joins and emote lists
    messages0, cpu0, wall0 = daemon.reader.stats.messages, time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    messages1, cpu1, wall1 = daemon.reader.stats.messages, time.process_time(), time.monotonic()
    read_at_end = len(daemon.reader.joined)
    requests.post(f"{url}/_emulator/chat/pause", timeout=10).raise_for_status()
    sent = 0
    for _ in range(200):
        sent = int(requests.get(f"{url}/_emulator/chat/sent", timeout=30).json()["messages"])
        if daemon.reader.stats.messages >= sent:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await task
    return {
        "joined_after": joined_after,
        "messages": messages1 - messages0,
        "cpu": cpu1 - cpu0,
        "wall": wall1 - wall0,
        "sent": sent,
        "received": daemon.reader.stats.messages,
        "reconnects": daemon.reader.stats.reconnects,
        "sheds": daemon.reader.stats.sheds,
        "read_at_end": read_at_end,
        "writes_failed": daemon.write_failures,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def parse_only(lines: list[str]) -> float:
    """Messages a second for parsing and counting alone (no socket, no store)."""
    catalogue = EmoteCatalogue()
    reader = ChatReader("irc://127.0.0.1:1", MinuteCounts(catalogue.kind_of, ["worldcup"]))
    best = 0.0
    for _ in range(3):
        reader.counts = MinuteCounts(catalogue.kind_of, ["worldcup"])
        started = time.process_time()
        reader._handle(lines, None)  # type: ignore[arg-type]
        best = max(best, len(lines) / (time.process_time() - started))
    return best


def sample_lines(count: int) -> list[str]:
    """Lines exactly as the emulator writes them, for 50 channels."""
    settings = EmulatorSettings(_env_file=None, channels=20_000)
    market = Market(settings)
    server = ChatServer(settings, market, LiveClock(0.0))
    per = count // 50
    return [
        line
        for index in range(50)
        for line in server.sample_lines(market.login_of(index), per, 1_700_000_000_000)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--rate-scale", type=float, default=4.0)
    args = parser.parse_args()
    seconds = 10.0 if args.quick else 60.0
    command = "  .venv/bin/python bench/chat.py" + (" --quick" if args.quick else "")
    with tempfile.TemporaryDirectory() as tmp:
        db = LocalFerretDB(Path(tmp) / "ferretdb")
        db.start()
        chat_port = free_port()
        try:
            with emulator_process(
                free_port(),
                chat_port=chat_port,
                chat_rate_scale=args.rate_scale,
                chat_joins_per_10s=2_000,
                frozen_at=MARKET_AT,
            ) as url:
                _wait_port(chat_port)
                settings = bench_settings(
                    url,
                    db.uri,
                    "bench_chat",
                    Path(tmp) / "spool",
                    chat_irc_url=f"irc://127.0.0.1:{chat_port}",
                    chat_joins_per_10s=2_000,
                    chat_follow_seconds=5,
                )
                client = TwitchClient(settings)
                listing = client.top_streams(CHANNELS)
                logins = [s.user_login for s in listing.streams]
                store = Store(db.uri, "bench_chat")
                daemon = ChatDaemon(settings, ChatStore(store.db), client, channels=lambda: logins)
                result = asyncio.run(_measure(daemon, url, seconds))
                store.close()
        finally:
            db.stop()
    settings_flush = settings.chat_flush_seconds
    lines = sample_lines(100_000)
    alone = parse_only(lines)
    per_cpu = result["messages"] / result["cpu"]
    wall_rate = result["messages"] / result["wall"]
    lost = result["sent"] - result["received"]
    report = f"""## Chat ingest (`bench/chat.py`)

{machine()}. Command:

{command}

One `ChatDaemon` (asyncio reader, per-minute counts, emote catalogue, writes to FerretDB
every `CHAT_FLUSH_SECONDS`, {settings_flush:g} s) reading the chat of the {CHANNELS:,} most
watched channels of the emulator's market at its daily peak, at {args.rate_scale:g}× the viewer-driven message rate; the
emulator runs in its own process.

| figure | value |
|---|---|
| channels joined | {CHANNELS:,} in {result["joined_after"]:.1f} s (JOIN limit 2,000 / 10 s) |
| messages received in {result["wall"]:.0f} s | {result["messages"]:,.0f} ({wall_rate:,.0f} / s) |
| reader CPU time over them | {result["cpu"]:.1f} s |
| **messages per CPU-second (one core)** | **{per_cpu:,.0f}** (target ≥ 50,000) |
| parse and count alone, lines as the emulator writes them | {alone:,.0f} / s |
| sent by the emulator vs received (whole run) | {result["sent"]:,} vs {result["received"]:,} (lost {lost:,}) |
| reconnects (the emulator cuts off a reader 64 MB behind), failed writes | {result["reconnects"]:.0f}, {result["writes_failed"]:.0f} |
| times the reader parted its least-watched channels to keep up; channels read at the end | {result["sheds"]:.0f}; {result["read_at_end"]:,.0f} |
| peak memory of the reader process | {result["rss_mb"]:.0f} MB |
"""
    print(report)
    write_section("chat", report)


if __name__ == "__main__":
    main()
