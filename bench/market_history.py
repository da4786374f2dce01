"""Whole-market history for the dashboard benchmark, from the emulated market's arrays.

Rolling up 100,000 stream records per slot in Python takes seconds, and a year is 17,520
slots. So the per-slot rollups are computed here with numpy from `Market.live_arrays` (the
numbers the emulator's records are made of), for one simulated week; `check_slot` shows
they equal `store._rollups.compute_rollups` over the same slot's records. Day documents
are then built by the production `DayHistory.from_rollups`, and the week is repeated
(with a slow audience trend) to reach any length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from catalogue import Catalogue
from emulator.catalogue import IGDB_GENRES, LANGUAGES
from emulator.market import Market
from scheduler.documents import game_document, stream_document
from store import (
    HISTORY_DIMENSIONS,
    KEY_SEPARATOR,
    DayHistory,
    compute_rollups,
    histogram,
    rollup_id,
    schema,
)
from twitch_client.models import Game, Stream

TOP_N = 1000
HALF_HOUR = timedelta(minutes=30)


def game_documents(market: Market, seen_at: datetime) -> list[dict[str, Any]]:
    catalogue = Catalogue.load()
    documents = []
    for c in market.categories:
        game = Game(id=c.twitch_id, name=c.name, igdb_id=c.igdb_id)
        genres = [IGDB_GENRES[g] for g in c.igdb_genre_ids]
        resolution = catalogue.resolve(game.id, game.name, game.igdb_id, genres, seen_at)
        documents.append(game_document(game, resolution, seen_at))
    return documents


class MarketRollups:
    """Per-slot rollup documents of the emulated market, computed with numpy."""

    def __init__(self, market: Market, games: list[dict[str, Any]]) -> None:
        self.market = market
        self.game_ids = [c.twitch_id for c in market.categories]
        self.game_names = [c.name for c in market.categories]
        by_id = {g["_id"]: g for g in games}
        genre_names = [schema.genre_of(by_id.get(g)) for g in self.game_ids]
        self.genres = sorted(set(genre_names))
        self.genre_of_game = np.array([self.genres.index(g) for g in genre_names])
        self.languages = [lang.code for lang in LANGUAGES]

    def slot(self, slot: datetime) -> list[dict[str, Any]]:
        live = self.market.live_arrays(slot.timestamp())
        language = self.market.language_of(live.channel)
        viewers = live.viewers
        bins = histogram.bin_index(viewers)
        n_games, n_languages, n_genres = len(self.game_ids), len(self.languages), len(self.genres)
        genre = self.genre_of_game[live.game]

        def groups(
            codes: np.ndarray, size: int, keys: list[str], names: list[str] | None, hist: bool
        ) -> list[dict[str, Any]]:
            channels = np.bincount(codes, minlength=size)
            sums = np.bincount(codes, weights=viewers, minlength=size).astype(np.int64)
            counts = (
                np.bincount(
                    codes * histogram.BIN_COUNT + bins, minlength=size * histogram.BIN_COUNT
                ).reshape(size, -1)
                if hist
                else None
            )
            out = []
            for i in np.flatnonzero(channels):
                group: dict[str, Any] = {
                    "key": keys[i],
                    "channels": int(channels[i]),
                    "viewers": int(sums[i]),
                }
                if names is not None:
                    group["name"] = names[i]
                if counts is not None:
                    group["histogram"] = histogram.trimmed(counts[i])
                out.append(group)
            return out

        cross_games = [
            f"{g}{KEY_SEPARATOR}{lang}" for g in self.game_ids for lang in self.languages
        ]
        cross_names = [n for n in self.game_names for _ in self.languages]
        cross_genres = [f"{g}{KEY_SEPARATOR}{lang}" for g in self.genres for lang in self.languages]
        # Helix order: viewers descending, ties by stream id (all ids have 11 digits).
        top = np.lexsort((live.stream_id, -viewers))[:TOP_N]
        channel_groups = [
            {
                "key": self.market.login_of(int(live.channel[i])),
                "name": self.market.login_of(int(live.channel[i])),
                "channels": 1,
                "viewers": int(viewers[i]),
                "game_id": self.game_ids[live.game[i]],
                "language": self.languages[language[i]],
                "rank": rank,
            }
            for rank, i in enumerate(top.tolist(), 1)
        ]
        built = {
            "game": groups(live.game, n_games, self.game_ids, self.game_names, True),
            "genre": groups(genre, n_genres, self.genres, None, True),
            "language": groups(language, n_languages, self.languages, None, True),
            "genre_language": groups(
                genre * n_languages + language, n_genres * n_languages, cross_genres, None, False
            ),
            "game_language": groups(
                live.game * n_languages + language,
                n_games * n_languages,
                cross_games,
                cross_names,
                False,
            ),
            "channel": channel_groups,
        }
        totals = {"total_viewers": int(viewers.sum()), "total_channels": len(viewers)}
        return [
            {
                "_id": rollup_id(slot, dimension),
                "slot": slot,
                "dimension": dimension,
                **totals,
                "scope": "market",
                "groups": sorted(groups_, key=lambda g: (-g["viewers"], g["key"])),
                "written_at": slot,
                "schema_version": schema.SCHEMA_VERSION,
            }
            for dimension, groups_ in built.items()
        ]

    def check_slot(self, slot: datetime, games: list[dict[str, Any]]) -> None:
        """Assert these rollups equal the production ones over the slot's stream records."""
        by_id = {g["_id"]: g for g in games}
        records = self.market.table(slot.timestamp()).records
        streams = [
            stream_document(slot, Stream.model_validate(r), rank)
            for rank, r in enumerate(records, 1)
        ]
        production = {
            r["dimension"]: r
            for r in compute_rollups(
                slot,
                streams,
                lambda g: schema.genre_of_stream(by_id.get(g)),
                channel_limit=TOP_N,
                scope="market",
            )
        }
        mine = {r["dimension"]: r for r in self.slot(slot)}
        for dimension in HISTORY_DIMENSIONS:
            if dimension == "channel":  # the same channels, viewers and ranks

                def pick(r: dict[str, Any]) -> list[tuple[Any, ...]]:
                    return sorted(
                        (g["key"], g["viewers"], g["rank"], g["game_id"]) for g in r["groups"]
                    )
            else:

                def pick(r: dict[str, Any]) -> list[tuple[Any, ...]]:
                    return sorted(
                        (g["key"], g["channels"], g["viewers"], tuple(g.get("histogram", ())))
                        for g in r["groups"]
                    )

            assert pick(mine[dimension]) == pick(production[dimension]), dimension


def shifted(history: DayHistory, days: int, scale: float) -> DayHistory:
    """The same day `days` later, its audience scaled (a trend, so weeks differ)."""
    offset = timedelta(days=days)
    return dataclasses.replace(
        history,
        day=history.day + offset,
        slots=[s + offset for s in history.slots],
        viewers=np.round(history.viewers * scale).astype(np.int32),
        total_viewers=np.round(history.total_viewers * scale).astype(np.int64),
    )


def history_days(
    week: list[dict[str, DayHistory]], first_day: datetime, count: int
) -> Iterator[dict[str, DayHistory]]:
    """`count` days from `first_day`, the week repeated; audiences grow 0.5 % a week."""
    start = week[0]["game"].day
    for number in range(count):
        template = week[number % 7]
        offset = (first_day - start).days + number - number % 7
        scale = 1.0 + 0.005 * (number // 7)
        yield {d: shifted(h, offset, scale) for d, h in template.items()}
