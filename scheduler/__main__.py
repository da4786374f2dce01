"""`python -m scheduler`: the snapshot daemon and its one-off commands (see --help)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from scheduler.app import build_collector
from scheduler.backfill import backfill
from scheduler.daemon import AlreadyRunning, build_scheduler, hold_lock, run_forever
from scheduler.replay import replay_recording
from scheduler.slots import current_slot, parse_minutes, parse_slot
from settings import Settings
from twitch_client.models import utc_now

DESCRIPTION = """\
Genre Radar's collector. Every 30 minutes (at :00 and :30 UTC) it snapshots the top live
streams from the Twitch Helix API (or the local emulator when no TWITCH_CLIENT_ID is set)
into MongoDB (MONGODB_URI, default the local FerretDB), with per-snapshot rollups by game,
genre and language. A snapshot that cannot be written is spooled to SPOOL_DIR and written
on the next run. Each run logs one JSON summary line. Settings: see .env.example.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run the daemon (the default command)")
    run.add_argument(
        "--now", action="store_true", help="also take the current slot's snapshot at start"
    )
    once = commands.add_parser("once", help="take one snapshot now and exit (exit 1 if it failed)")
    once.add_argument(
        "--slot", type=parse_slot, help="slot time to file it under (default: the current slot)"
    )
    once.add_argument(
        "--all", action="store_true", help="list every live stream, not only the top N"
    )
    once.add_argument("--top", type=int, help="how many streams (default SNAPSHOT_TOP_N, 1000)")
    replay = commands.add_parser(
        "replay", help="collect every snapshot of an emulator in replay mode"
    )
    replay.add_argument("--emulator-url", help="the replaying emulator (default EMULATOR_URL)")
    commands.add_parser("flush-spool", help="write spooled snapshots to MongoDB now")
    back = commands.add_parser("backfill", help="collect past slots from the emulator (demo data)")
    back.add_argument("--days", type=float, default=2.0, help="how many days back (default 2)")
    back.add_argument("--emulator-url", help="the emulator (default EMULATOR_URL)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    collector = build_collector(settings)
    command = args.command or "run"
    if command == "once":
        slot = args.slot or current_slot(utc_now(), parse_minutes(settings.snapshot_minutes))
        summary = collector.collect(slot, mode="all" if args.all else "top", limit=args.top)
        return 1 if summary.outcome == "failed" else 0
    if command == "replay":
        replay_recording(collector, args.emulator_url or settings.emulator_url)
        return 0
    if command == "backfill":
        if not settings.uses_emulator:
            logging.getLogger("scheduler").error(
                "backfill needs the emulator (Twitch has no history)"
            )
            return 1
        minutes = parse_minutes(settings.snapshot_minutes)
        backfill(
            collector,
            args.emulator_url or settings.emulator_url,
            end=current_slot(utc_now(), minutes),
            days=args.days,
            minutes=minutes,
        )
        return 0
    if command == "flush-spool":
        collector.flush_spool()
        return 1 if collector.spool.pending() else 0
    try:
        hold_lock(Path(settings.spool_dir).parent / "scheduler.lock")
    except AlreadyRunning as error:
        logging.getLogger("scheduler").error("%s", error)
        return 1
    scheduler = build_scheduler(
        collector,
        minutes=settings.snapshot_minutes,
        misfire_grace_seconds=settings.snapshot_misfire_grace_seconds,
        run_now=getattr(args, "now", False),
    )
    run_forever(scheduler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
