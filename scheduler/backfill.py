"""Backfill past slots from the emulator: move its simulated clock to each slot, collect it.

Only for the emulator (Twitch has no history API): it gives the demo and the screenshots
days of realistic data through the real pipeline (HTTP → client → rollups → store).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from scheduler.collect import Collector, RunSummary
from slots import Cadence
from store import StoreError

log = logging.getLogger(__name__)
# The emulator may still be starting when the backfill does (the demo starts every
# process at once): a refused connection is tried again, 0.5 s, 1 s, 2 s, … apart (about
# two minutes in all) before the backfill gives up.
EMULATOR_STARTING = Retry(total=None, connect=8, read=0, status=0, backoff_factor=0.5)


def backfill(
    collector: Collector,
    emulator_url: str,
    *,
    end: datetime,
    days: float,
    cadence: Cadence,
    skip_every: int = 0,
) -> list[RunSummary]:
    """Collect every slot in the `days` before `end` (oldest first); slots already stored are
    skipped. `skip_every` > 0 leaves out every n-th slot, to show gaps in the demo."""
    slots = list(cadence.slots_between(end - timedelta(days=days), end))
    summaries = []
    with requests.Session() as http:
        http.mount(emulator_url, HTTPAdapter(max_retries=EMULATOR_STARTING))
        try:
            for number, slot in enumerate(slots, 1):
                _mark(collector, running=True, until=end)  # also the heartbeat readers watch
                if skip_every and number % skip_every == 0:
                    continue
                http.post(
                    f"{emulator_url.rstrip('/')}/_emulator/clock",
                    json={"at": slot.isoformat()},
                    timeout=10,
                )
                summaries.append(collector.collect(slot))
        finally:
            _mark(collector, running=False, until=end)
        http.post(
            f"{emulator_url.rstrip('/')}/_emulator/clock", json={"at": end.isoformat()}, timeout=10
        )
    stored = sum(s.outcome == "stored" for s in summaries)
    log.info("backfilled %d of %d slots", stored, len(slots))
    return summaries


def _mark(collector: Collector, *, running: bool, until: datetime) -> None:
    """Readers say "backfilling", not "stale", while this runs; the mark is advisory, so
    an outage here never stops the backfill (its snapshots are spooled as usual)."""
    try:
        collector.store.mark_backfill(running=running, until=until)
    except StoreError as error:
        log.warning("could not record the backfill's progress: %s", error)
