"""Push a recording through the collector: the emulator in replay mode serves each recorded
snapshot in turn, and each is collected under its own observation time."""

from __future__ import annotations

import logging

import requests

from scheduler.collect import Collector, RunSummary
from scheduler.errors import ReplayError
from slots import parse_slot

log = logging.getLogger(__name__)


def replay_recording(
    collector: Collector, emulator_url: str, *, timeout: float = 10.0
) -> list[RunSummary]:
    """Collect every snapshot of the recording the emulator is replaying; return the summaries."""
    base = emulator_url.rstrip("/") + "/_emulator"
    summaries = []
    # Slots arrive in time order: each day's history is written once, when it is over.
    with requests.Session() as http, collector.store.bulk_history():
        while True:
            clock = http.get(f"{base}/clock", timeout=timeout).json()
            if "replay" not in clock:
                raise ReplayError(f"the emulator at {emulator_url} is not in replay mode")
            slot = parse_slot(clock["replay"]["observed_at"])
            level = str(clock["replay"].get("level", "stream"))
            summary = collector.collect(slot, mode="replay", limit=None, level=level)
            if summary.outcome == "failed":
                raise ReplayError(f"snapshot {summary.slot} failed: {summary.error}")
            summaries.append(summary)
            step = http.post(f"{base}/replay/next", timeout=timeout)
            if step.status_code == 409:
                return summaries
            step.raise_for_status()
