"""Composition root of the collector: settings → Twitch client, store, spool, collector."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from scheduler.collect import Collector
from scheduler.followers import FollowerTracker
from scheduler.frames import FramePolicy
from settings import Settings
from store import FrameStore, Spool, StoreUnavailable
from twitch_client import TwitchClient
from twitch_client.models import utc_now

log = logging.getLogger(__name__)


def frame_policy(settings: Settings) -> FramePolicy:
    return FramePolicy(
        top=settings.frames_top,
        random=settings.frames_random,
        non_game=settings.frames_non_game,
        width=settings.frame_width,
        height=settings.frame_height,
        max_age=timedelta(days=settings.frames_max_age_days),
        max_count=settings.frames_max_count,
        clip_frames=settings.clip_frames,
        clip_streams=settings.clip_streams,
        clip_seconds=settings.clip_seconds,
        clip_url=settings.clip_url,
    )


def build_collector(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Collector:
    """The collector of these settings; StoreUnavailable when the database cannot be
    reached (checked here, at start, so a wrong URI never looks like an outage)."""
    store = FrameStore(
        settings.mongodb_uri, settings.mongodb_db, timeout_ms=settings.mongodb_timeout_ms
    )
    try:
        store.ensure_indexes()  # also the first contact: StoreUnavailable if unreachable
        store.migrate_snapshot_ids()
        store.migrate_channel_collections()
        store.ensure_history()
    except StoreUnavailable:
        store.close()
        raise
    client = TwitchClient(settings)
    log.info(
        "collecting from %s (%s) into database %r",
        settings.helix_url,
        "emulator" if settings.uses_emulator else "Twitch",
        settings.mongodb_db,
    )
    return Collector(
        client,
        store,
        Spool(settings.spool_dir),
        top_n=settings.snapshot_top_n,
        scope=settings.snapshot_scope,
        degraded_share=settings.degraded_quarantine_share,
        frame_policy=frame_policy(settings),
        channel_slots_kept=timedelta(days=settings.channel_slots_days),
        cadence=settings.cadence,
        clock=clock,
    )


def follower_tracker(settings: Settings, collector: Collector) -> FollowerTracker | None:
    """The daily follower counts, or None when no channel is to be tracked."""
    if not settings.followers_top and not settings.followed_logins:
        return None
    return FollowerTracker(
        collector.client,
        collector.store,
        top=settings.followers_top,
        channels=settings.followed_logins,
        per_run=settings.followers_per_run,
        clock=utc_now,
    )
