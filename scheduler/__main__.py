"""`python -m scheduler`: the snapshot daemon and its one-off commands (see --help)."""

from __future__ import annotations

import argparse
import logging
import sys

from scheduler.app import build_collector, follower_tracker
from scheduler.backfill import backfill
from scheduler.daemon import build_scheduler, run_forever
from scheduler.errors import AlreadyRunning
from scheduler.lock import database_lock, lock_path
from scheduler.replay import replay_recording
from settings import Settings
from settings.cli import configure_logging, settings_or_exit
from slots import parse_slot
from store import Spool, StoreUnavailable
from twitch_client.models import utc_now

DESCRIPTION = """\
Genre Radar's collector. Every 30 minutes (at :00 and :30 UTC) it snapshots the top live
streams from the Twitch Helix API (or the local emulator when no TWITCH_CLIENT_ID is set)
into MongoDB (MONGODB_URI, default the local FerretDB), with per-snapshot rollups by game,
genre and language. A snapshot that cannot be written is spooled to SPOOL_DIR and written
on the next run. Each run logs one JSON summary line. Settings: see .env.example.

Every command holds the database's collector lock while it writes (a second one waits up
to a minute, then fails). Exit status: 0 done; 1 failed (including a database that cannot
be reached at start, or a lock that stays taken); 2 bad settings (one line per problem);
3 `once` stored a degraded snapshot (too many records quarantined).
"""

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_DEGRADED = 0, 1, 2, 3
LOCK_WAIT_SECONDS = 60.0
log = logging.getLogger("scheduler")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run the daemon (the default command)")
    run.add_argument(
        "--no-catch-up",
        action="store_true",
        help="do not take the current slot at start when it is missing (the default does)",
    )
    once = commands.add_parser(
        "once", help="take one snapshot now and exit (exit 1 if it failed, 3 if degraded)"
    )
    once.add_argument(
        "--slot", type=parse_slot, help="slot time to file it under (default: the current slot)"
    )
    once.add_argument(
        "--all", action="store_true", help="store every live stream in full, not only the top N"
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
    command = args.command or "run"
    settings = settings_or_exit("scheduler")
    try:
        Spool(settings.spool_dir).check_writable()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        print(
            f"scheduler: SPOOL_DIR: cannot write in {settings.spool_dir} ({reason})",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    if command == "backfill" and not settings.uses_emulator:
        log.error("backfill needs the emulator (Twitch has no history)")
        return EXIT_CONFIG
    try:
        with database_lock(
            lock_path(settings.mongodb_uri, settings.mongodb_db),
            holder=f"scheduler {command}",
            wait_seconds=LOCK_WAIT_SECONDS,
        ):
            return _run(command, args, settings)
    except AlreadyRunning as error:
        log.error("%s", error)
        return EXIT_FAILED


def _run(command: str, args: argparse.Namespace, settings: Settings) -> int:
    """The command, with the database lock held."""
    try:
        # An unreachable database at start is a setup error, not an outage to spool for.
        collector = build_collector(settings)
    except StoreUnavailable as error:
        log.error("cannot start: %s (is MONGODB_URI right and the server up?)", error)
        return EXIT_FAILED
    collector.spool.clean_partials()
    cadence = settings.cadence
    try:
        if command == "once":
            slot = args.slot or cadence.current_slot(utc_now())
            summary = collector.collect(slot, mode="all" if args.all else None, limit=args.top)
            if summary.outcome == "failed":
                return EXIT_FAILED
            return EXIT_DEGRADED if summary.degraded else EXIT_OK
        if command == "replay":
            replay_recording(collector, args.emulator_url or settings.emulator_url)
            return EXIT_OK
        if command == "backfill":
            end = cadence.current_slot(utc_now())
            url = args.emulator_url or settings.emulator_url
            backfill(collector, url, end=end, days=args.days, cadence=cadence)
            return EXIT_OK
        if command == "flush-spool":
            collector.flush_spool()
            return EXIT_FAILED if collector.spool.pending() else EXIT_OK
        scheduler = build_scheduler(
            collector,
            cadence=cadence,
            misfire_grace_seconds=settings.snapshot_misfire_grace_seconds,
            catch_up=not args.no_catch_up,
            followers=follower_tracker(settings, collector),
        )
        run_forever(scheduler)
        return EXIT_OK
    finally:
        collector.close()


if __name__ == "__main__":
    sys.exit(main())
