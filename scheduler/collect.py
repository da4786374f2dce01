"""The snapshot job: list the live streams, look up new games, roll up, store (or spool).

By default (`market` scope) every live stream is listed: the top N are stored in full,
and the whole market, long tail included, goes into the rollups."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from catalogue import Catalogue
from scheduler.documents import quarantine_document, stream_document
from scheduler.frames import FramePolicy, sample_frames
from scheduler.games import look_up_games
from slots import DEFAULT_CADENCE, Cadence, day_of, slot_key
from store import (
    ChannelListing,
    FrameStore,
    SnapshotBatch,
    Spool,
    Store,
    StoreError,
    StoreUnavailable,
    compute_rollups,
    schema,
    snapshot_document,
)
from twitch_client import StreamListing, TwitchClient
from twitch_client.errors import TwitchError
from twitch_client.models import utc_now

log = logging.getLogger(__name__)
summary_log = logging.getLogger("scheduler.summary")


@dataclass
class RunSummary:
    """What one run did: logged as one JSON line, returned to callers and tests."""

    slot: str
    mode: str
    outcome: str  # stored | spooled | skipped | failed
    degraded: bool = False
    streams: int = 0  # stored in full
    listed: int = 0  # every stream the listing found (the market, in market scope)
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    quarantined: int = 0
    new_games: int = 0
    spool_flushed: int = 0
    frames: int = 0
    frame_failures: int = 0
    end_reason: str = ""
    chains: int = 0  # cursor chains the listing ran side by side
    longest_chain: int = 0  # pages of the longest chain
    seconds: float = 0.0
    error: str = ""

    def line(self) -> str:
        return "snapshot " + json.dumps(asdict(self), separators=(",", ":"))


class Collector:
    """Takes snapshots with a Twitch client and writes them to the store (or the spool)."""

    def __init__(
        self,
        client: TwitchClient,
        store: Store,
        spool: Spool,
        *,
        top_n: int,
        scope: str = "market",
        degraded_share: float = 0.05,
        clock: Callable[[], datetime] = utc_now,
        catalogue: Catalogue | None = None,
        frame_policy: FramePolicy | None = None,
        channel_slots_kept: timedelta = timedelta(days=35),
        cadence: Cadence = DEFAULT_CADENCE,
    ) -> None:
        self.client = client
        self.catalogue = catalogue or Catalogue.load()
        self.frame_policy = frame_policy
        self.store = store
        self.spool = spool
        self.top_n = top_n
        self.scope = scope  # the default mode: market | top
        self.degraded_share = degraded_share
        self._clock = clock
        # Game documents read or written by this collector: only it writes `games`, so
        # each game is read once per process (on FerretDB v1 every read scans them all).
        self._games: dict[str, Mapping[str, Any]] = {}
        self.channel_slots_kept = channel_slots_kept
        self.cadence = cadence  # what each slot stands for in the channels' day summaries
        self._pruned_on: datetime | None = None  # the day channel rows were last pruned

    def close(self) -> None:
        self.client.close()
        self.store.close()

    def flush_spool(self) -> int:
        """Write spooled snapshots (oldest first); stop at the first that still fails.

        A spooled slot that has a complete snapshot by now is dropped (the stored one
        wins); a spool file that cannot be read, or that the database refuses, is moved
        aside with its reason, not retried, so the files behind it are written."""
        written = 0
        for path in self.spool.pending():
            batch = self.spool.load(path)
            if batch is None:
                continue
            try:
                stored = self.store.write_snapshot(batch)
            except StoreUnavailable:
                log.warning(
                    "store still unavailable; %d spooled snapshot(s) wait",
                    len(self.spool.pending()),
                )
                break
            except StoreError as error:
                self.spool.reject(path, f"the database refused it: {error}")
                continue
            self.spool.remove(path)
            written += stored
        if written:
            log.info("wrote %d spooled snapshot(s) to the store", written)
        return written

    def collect(
        self,
        slot: datetime,
        *,
        mode: str | None = None,
        limit: int | None = None,
        level: str = "stream",
    ) -> RunSummary:
        """Take the snapshot of `slot` unless it is stored already.

        `mode`: `market` (list every live stream, store the top N in full and roll up
        all of them), `top` (list and store the top N), `all` (store every stream in
        full) or `replay`; default: the collector's scope. `level`: `stream` (each record
        is a channel) or `category` (each record is one category's total, as in
        recordings of the top categories)."""
        mode = mode or self.scope
        began = time.monotonic()
        self.client.reset_stats()
        summary = RunSummary(slot=slot_key(slot), mode=mode, outcome="failed")
        summary.spool_flushed = self._flush_quietly()
        try:
            if self._already_stored(slot):
                summary.outcome = "skipped"
                return self._finish(summary, began)
            started_at = self._clock()
            listing = self._list(mode, limit)
            batch = self._batch(slot, mode, limit, listing, started_at, level)
        except TwitchError as error:
            summary.error = f"{type(error).__name__}: {error}"
            self._count(summary)
            return self._finish(summary, began)
        self._count(summary)
        summary.streams, summary.pages = len(batch.streams), listing.pages
        summary.listed = int(batch.snapshot["market_stream_count"])
        summary.quarantined, summary.end_reason = len(batch.quarantine), listing.end_reason
        summary.chains, summary.longest_chain = listing.chains, listing.longest_chain
        summary.new_games = len(batch.games)
        summary.degraded = bool(batch.snapshot["degraded"])
        if summary.degraded:
            log.warning(
                "snapshot %s is degraded: %d of %d records quarantined (see the quarantine "
                "collection for the reasons)",
                summary.slot,
                summary.quarantined,
                summary.quarantined + summary.streams,
            )
        try:
            stored = self.store.write_snapshot(batch)
            summary.outcome = "stored" if stored else "skipped"
            if stored:
                self._games.update((g["_id"], g) for g in batch.games)
        except StoreUnavailable as error:
            log.warning("%s; spooling the snapshot", error)
            self.spool.put(batch)
            summary.outcome = "spooled"
            return self._finish(summary, began)
        if stored and batch.channels is not None:
            self._maintain_channels(slot)
        if stored and mode != "replay":  # a recording has no thumbnails to fetch
            self._sample_frames(batch, summary)
        return self._finish(summary, began)

    def _maintain_channels(self, slot: datetime) -> None:
        """Regroup by channel the days that are over, and once a day drop channel rows
        past their retention (a failure waits for the next slot: nothing is lost)."""
        try:
            self.store.compact_channel_days(day_of(slot), self.cadence)
        except StoreError as error:
            log.warning("channel rows not regrouped by channel yet: %s", error)
        if self._pruned_on == day_of(slot):
            return
        try:
            pruned = self.store.prune_channel_slots(slot - self.channel_slots_kept)
        except StoreError as error:
            log.warning("old channel rows not pruned yet: %s", error)
            return
        self._pruned_on = day_of(slot)
        if pruned:
            log.info(
                "dropped %d day(s) of channel rows older than %s", pruned, self.channel_slots_kept
            )

    def _sample_frames(self, batch: SnapshotBatch, summary: RunSummary) -> None:
        """Thumbnails of this snapshot's sample; a failure here never fails the snapshot."""
        if self.frame_policy is None or not isinstance(self.store, FrameStore):
            return
        try:
            frames = sample_frames(
                self.client, self.store, batch.slot, batch.streams, self.frame_policy, self._clock()
            )
        except (StoreError, TwitchError) as error:
            log.warning("frame sampling skipped for this snapshot: %s", error)
            return
        summary.frames, summary.frame_failures = frames.stored, sum(frames.failed.values())

    def _flush_quietly(self) -> int:
        try:
            return self.flush_spool()
        except StoreError as error:
            log.error("could not write a spooled snapshot: %s", error)
            return 0

    def _already_stored(self, slot: datetime) -> bool:
        try:
            return self.store.is_collected(slot)
        except StoreUnavailable:
            return False  # collect anyway; the write will be spooled

    def _list(self, mode: str, limit: int | None) -> StreamListing:
        if mode in ("all", "market"):
            return self.client.all_streams()
        return self.client.top_streams(limit if mode == "replay" else (limit or self.top_n))

    def _batch(
        self,
        slot: datetime,
        mode: str,
        limit: int | None,
        listing: StreamListing,
        started_at: datetime,
        level: str = "stream",
    ) -> SnapshotBatch:
        finished_at = self._clock()
        listed = [stream_document(slot, s, rank) for rank, s in enumerate(listing.streams, 1)]
        stored_limit = (limit or self.top_n) if mode == "market" else None
        streams = listed[:stored_limit] if stored_limit is not None else listed
        ids = {s["game_id"] for s in listed}
        missing = ids - self._games.keys()
        with suppress(StoreUnavailable):  # unread games are looked up again; the write spools
            if missing:
                self._games.update(self.store.games(missing))
        known = {i: self._games[i] for i in ids if i in self._games}
        new_games, bad_games = look_up_games(
            self.client, self.catalogue, known, (s["game_id"] for s in streams), finished_at
        )
        catalogue: dict[str, Any] = {**known, **{g["_id"]: g for g in new_games}}
        # The same bad record can arrive twice (pages overlap while counts drift): its
        # quarantine document is keyed by its content, so repeats are one record.
        quarantine = {
            doc["_id"]: doc
            for doc in (
                quarantine_document(slot, q, finished_at)
                for q in [*listing.quarantined, *bad_games]
            )
        }
        received = len(listed) + len(quarantine)
        share = len(quarantine) / received if received else 0.0
        snapshot = snapshot_document(
            slot,
            started_at=started_at,
            finished_at=finished_at,
            status=schema.PARTIAL if listing.end_reason == "invalid cursor" else schema.COMPLETE,
            mode=mode,
            level=level,
            top_n=None if mode in ("all", "replay") and limit is None else (limit or self.top_n),
            streams=streams,
            listed=listed,
            pages=listing.pages,
            requests=self.client.stats.requests,
            retries=self.client.stats.retries,
            quarantined=len(quarantine),
            quarantine_share=round(share, 4),
            degraded=share > self.degraded_share,
            end_reason=listing.end_reason,
        )
        return SnapshotBatch(
            slot=slot,
            snapshot=snapshot,
            streams=streams,
            quarantine=list(quarantine.values()),
            rollups=compute_rollups(
                slot,
                listed,
                lambda g: schema.genre_of_stream(catalogue.get(g)),
                written_at=finished_at,
                channel_limit=stored_limit,
                scope="market" if mode in ("market", "all") else "top",
            ),
            games=new_games,
            # Every listed channel, for directory ranks and channel pages; a category-level
            # recording lists categories, not channels.
            channels=(
                ChannelListing.from_streams(slot, listed)
                if mode in ("market", "all", "replay") and level == schema.STREAM_LEVEL
                else None
            ),
        )

    def _count(self, summary: RunSummary) -> None:
        stats = self.client.stats
        summary.requests, summary.retries, summary.rate_limited = (
            stats.requests,
            stats.retries,
            stats.rate_limited,
        )

    @staticmethod
    def _finish(summary: RunSummary, began: float) -> RunSummary:
        summary.seconds = round(time.monotonic() - began, 3)
        (summary_log.info if summary.outcome != "failed" else summary_log.error)(summary.line())
        return summary
