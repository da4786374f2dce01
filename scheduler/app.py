"""Composition root of the collector: settings → Twitch client, store, spool, collector."""

from __future__ import annotations

import logging

from scheduler.collect import Collector
from settings import Settings
from store import Spool, Store, StoreUnavailable
from twitch_client import TwitchClient

log = logging.getLogger(__name__)


def build_collector(settings: Settings) -> Collector:
    store = Store(settings.mongodb_uri, settings.mongodb_db, timeout_ms=settings.mongodb_timeout_ms)
    try:
        store.ensure_indexes()
    except StoreUnavailable as error:
        log.warning("%s; indexes will be created on a later start", error)
    client = TwitchClient(settings)
    log.info(
        "collecting from %s (%s) into database %r",
        settings.helix_url,
        "emulator" if settings.uses_emulator else "Twitch",
        settings.mongodb_db,
    )
    return Collector(client, store, Spool(settings.spool_dir), top_n=settings.snapshot_top_n)
