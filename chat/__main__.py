"""`python -m chat`: the Twitch chat reader and its rollups (see --help)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from chat.daemon import ChatDaemon
from settings.cli import start
from slots import parse_slot
from store import ChatStore, Store, StoreError, shard_label, within
from twitch_client import TwitchClient

DESCRIPTION = """\
Genre Radar's chat reader. It joins the Twitch chat (IRC; the local emulator's when no
TWITCH_CLIENT_ID is set) of the newest snapshot's top CHAT_CHANNELS channels, follows them
as the snapshots change, and stores per-minute counts per channel (messages, chatters,
free and paid emote uses, topic keywords; no message text, no chatter names) in
`chat_minutes`, kept CHAT_MINUTES_RETENTION_DAYS days. Shard 0 builds each slot's chat
rollups by channel, game, genre and language 90 s after the slot ends. Several readers
share the channels with CHAT_SHARDS / CHAT_SHARD. Settings: see .env.example.

Exit status: 0 done; 1 failed; 2 bad settings (one line per problem).
"""

log = logging.getLogger("chat")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chat",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="read chat until stopped (the default command)")
    rollup = commands.add_parser("rollup", help="(re)build the chat rollups of slots")
    rollup.add_argument("slots", nargs="+", type=parse_slot, help="slot times (ISO 8601, UTC)")
    return parser


async def _run(daemon: ChatDaemon) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await daemon.run(stop)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = start("chat")
    store = Store(settings.mongodb_uri, settings.mongodb_db, timeout_ms=settings.mongodb_timeout_ms)
    chat_store = ChatStore(store.db)
    try:
        if args.command == "rollup":
            shards = [shard_label(i, settings.chat_shards) for i in range(settings.chat_shards)]
            for slot in args.slots:
                documents = chat_store.build_rollups(slot, settings.cadence.next_slot(slot), shards)
                if not documents:
                    log.warning("no chat was read in %s: nothing to roll up", slot.isoformat())
                    continue
                channels = len(documents[1]["groups"])
                log.info(
                    "chat rollups of %s: %d channels, %d of %d minutes read",
                    slot.isoformat(),
                    channels,
                    documents[0]["minutes_read"],
                    documents[0]["minutes_in_slot"],
                )
            return 0
        client = TwitchClient(settings)
        daemon = ChatDaemon(settings, chat_store, client)
        log.info(
            "chat reader %s of %d on %s (top %d channels)",
            settings.chat_shard,
            settings.chat_shards,
            settings.chat_url,
            settings.chat_channels,
        )
        asyncio.run(_run(daemon))
        log.info("chat reader stopped")
        return 0
    except StoreError as error:
        log.error("chat: %s", error)
        return 1
    finally:
        # Closing ends the client's sessions on the server (a courtesy: the server drops
        # idle sessions itself): bounded, so a store that stopped first cannot hold the exit.
        with within(0.5):
            store.close()


if __name__ == "__main__":
    sys.exit(main())
