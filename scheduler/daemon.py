"""The APScheduler daemon: a snapshot at every slot, one at a time, follower batches between
them, stopping cleanly."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler.collect import Collector
from scheduler.followers import FollowerTracker
from slots import Cadence
from twitch_client.models import utc_now

log = logging.getLogger(__name__)


def build_scheduler(
    collector: Collector,
    *,
    cadence: Cadence,
    misfire_grace_seconds: int,
    catch_up: bool = True,
    clock: Callable[[], datetime] = utc_now,
    followers: FollowerTracker | None = None,
) -> BlockingScheduler:
    if misfire_grace_seconds >= cadence.shortest.total_seconds():
        raise ValueError("the misfire grace time must be shorter than the interval between slots")

    def snapshot_job() -> None:
        # A run that outlasts its slot makes APScheduler skip the next start (one
        # instance at a time): the slot that began meanwhile is taken here instead, as
        # soon as this run ends, while it is still the current one.
        taken = cadence.current_slot(clock())
        collector.collect(taken)
        while (current := cadence.current_slot(clock())) != taken:
            log.warning(
                "slot %s began while %s was being taken; taking it now",
                current.isoformat(),
                taken.isoformat(),
            )
            collector.collect(current)
            taken = current

    # Catching up takes the current slot at start when it is missing (a crash or a deploy
    # must not lose it; `collect` skips a stored slot). Earlier slots are not taken: a
    # listing made now, filed under a past slot, would be a false observation of it.
    # Leaving next_run_time out lets the trigger compute it; passing None would pause the job.
    first_run = {"next_run_time": datetime.now(UTC)} if catch_up else {}
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        snapshot_job,
        CronTrigger(minute=",".join(map(str, cadence.minutes)), timezone=UTC),
        id="snapshot",
        name="top-streams snapshot",
        max_instances=1,  # never two snapshots at once
        coalesce=True,  # several missed runs become one
        misfire_grace_time=misfire_grace_seconds,
        **first_run,
    )
    if followers is not None:
        followers_job(scheduler, followers, cadence)
    return scheduler


def followers_job(
    scheduler: BlockingScheduler, followers: FollowerTracker, cadence: Cadence
) -> None:
    """Follower batches 10 and 20 minutes after each snapshot minute, never at one."""
    minutes = sorted(
        {(m + after) % 60 for m in cadence.minutes for after in (10, 20)} - set(cadence.minutes)
    )

    def run() -> None:
        done = followers.run()
        if done.read:
            log.info("follower counts: %d read, %d left today", done.read, done.left)

    scheduler.add_job(
        run,
        CronTrigger(minute=",".join(map(str, minutes)), timezone=UTC),
        id="followers",
        name="follower counts",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=300,
    )


def run_forever(scheduler: BlockingScheduler) -> None:
    """Run until SIGTERM or SIGINT, then let a running snapshot finish and stop."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping after the running snapshot", signal.Signals(signum).name)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "scheduler starting (snapshots at minutes %s UTC)", scheduler.get_job("snapshot").trigger
    )
    scheduler.start()
    log.info("scheduler stopped")
