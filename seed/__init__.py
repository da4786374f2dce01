"""Seed a database with history straight from the emulator's simulated market, bypassing
HTTP: for benchmarks (up to a year), browser tests and screenshots, where collecting
every slot through the emulator's HTTP API would take too long. It lives outside
`emulator/` because the fake Twitch never writes Genre Radar's database. Documents are
built by the same code the collector uses (models, schema, rollups), so they are what the
collector would store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from catalogue import Catalogue
from emulator.catalogue import IGDB_GENRES
from emulator.config import EmulatorSettings
from emulator.market import Market
from scheduler.documents import game_document, stream_document
from slots import DEFAULT_CADENCE, Cadence
from store import ChannelListing, SnapshotBatch, Store, compute_rollups, schema, snapshot_document
from twitch_client.models import Game, Stream

SMALL_MARKET = 20_000


def slots_between(
    start: datetime,
    end: datetime,
    *,
    skip: set[int] | None = None,
    cadence: Cadence = DEFAULT_CADENCE,
) -> Iterator[datetime]:
    """The cadence's slots in [start, end); `skip` leaves out slots by position (gaps)."""
    for number, slot in enumerate(cadence.slots_between(start, end)):
        if not skip or number not in skip:
            yield slot


def write_history(
    store: Store,
    slots: list[datetime],
    *,
    top_n: int = 1000,
    settings: EmulatorSettings | None = None,
    channels: bool = True,
) -> int:
    """Store one whole-market snapshot per slot (the top `top_n` streams in full, rollups
    of every live stream, and with `channels` every listed channel, its finished days
    regrouped and summarised); return the number of stream documents. The default market
    is a small one (20,000 channels), for tests."""
    market = Market(settings or EmulatorSettings(_env_file=None, channels=SMALL_MARKET))
    games = []
    genre_catalogue = Catalogue.load()
    seen_at = slots[0] if slots else datetime.now().astimezone()
    for category in market.categories:
        genres = [IGDB_GENRES[g] for g in category.igdb_genre_ids]
        game = Game(id=category.twitch_id, name=category.name, igdb_id=category.igdb_id)
        resolution = genre_catalogue.resolve(game.id, game.name, game.igdb_id, genres, seen_at)
        games.append(game_document(game, resolution, seen_at))
    catalogue = {g["_id"]: g for g in games}
    written = 0
    for number, slot in enumerate(slots):
        records = market.table(slot.timestamp()).records
        listed = [
            stream_document(slot, Stream.model_validate(r), rank)
            for rank, r in enumerate(records, 1)
        ]
        streams = listed[:top_n]
        batch = SnapshotBatch(
            slot=slot,
            snapshot=snapshot_document(
                slot,
                started_at=slot,
                finished_at=slot,
                status=schema.COMPLETE,
                mode="market",
                level=schema.STREAM_LEVEL,
                top_n=top_n,
                streams=streams,
                listed=listed,
            ),
            streams=streams,
            rollups=compute_rollups(
                slot,
                listed,
                lambda g: schema.genre_of_stream(catalogue.get(g)),
                written_at=slot,
                channel_limit=top_n,
                scope="market",
            ),
            games=games if number == 0 else [],
            channels=ChannelListing.from_streams(slot, listed) if channels else None,
        )
        store.write_snapshot(batch)
        written += len(streams)
    if channels and slots:
        store.compact_channel_days(slots[-1])
    return written
