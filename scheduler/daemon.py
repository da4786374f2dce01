"""The APScheduler daemon: a snapshot at every slot, one at a time, stopping cleanly."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler.collect import Collector
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
    return scheduler


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
