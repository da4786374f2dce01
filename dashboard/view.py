"""`MarketView`: the market as of one refresh, and every figure the pages ask of it.

A view is immutable, so a request sees one version throughout; its results are memoised
in the shared `ResultCache` under the view's version, so many distinct filter URLs cannot
grow a worker without limit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np
import pandas as pd

from dashboard.blocks import CROSS_DIMENSIONS, Block
from dashboard.cache import ResultCache
from dashboard.metrics import snapshot_weights
from dashboard.window import Window
from slots import (
    DEFAULT_CADENCE,
    Cadence,
    from_datetime64,
    to_datetime64,
)
from store import GameSummary, MarketState, StoreReader, histogram, schema

T = TypeVar("T")


class MarketView:
    """The market as of one refresh: immutable, so a request sees one version throughout."""

    def __init__(
        self,
        blocks: dict[str, dict[str, Block]],
        games: dict[str, GameSummary],
        state: MarketState,
        version: int,
        cache: ResultCache,
        reader: StoreReader,
        cadence: Cadence = DEFAULT_CADENCE,
        day_cache: ResultCache | None = None,
    ) -> None:
        self.reader = reader  # for the queries that are not history (frames)
        self.cadence = cadence
        self.blocks = blocks
        self.games = games
        self.version = version
        self._cache = cache
        self.newest_degraded = state.newest_degraded
        # When each day's stored history last changed (a day key → a time): a day's
        # figures computed at one version stay right until the next.
        self.history_days = dict(state.history_days)
        self.day_cache = day_cache if day_cache is not None else ResultCache(0)
        self.backfill = state.backfill
        language_days = [blocks["language"][k] for k in sorted(blocks["language"])]
        columns = [b.slots for b in language_days] or [to_datetime64([])]
        self.slots = from_datetime64(np.concatenate(columns))
        levels = [level for block in language_days for level in block.levels]
        scopes = [scope for block in language_days for scope in block.scopes]
        category = {
            s for s, level in zip(self.slots, levels, strict=True) if level == schema.CATEGORY_LEVEL
        }
        market = {s for s, scope in zip(self.slots, scopes, strict=True) if scope == "market"}
        self.category_slots = category
        self.market_slots = market  # slots whose rollups cover every live stream
        recent = [b.slots[0] for b in blocks["channel"].values() if len(b.slots)]
        self.detail_start: pd.Timestamp | None = (
            from_datetime64([min(recent)])[0] if recent else None
        )

    # -- bookkeeping -------------------------------------------------------------------

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per view and key (while the cache keeps it)."""
        return self._cache.get((self.version, key), compute)

    def newest_slot(self) -> pd.Timestamp | None:
        return self.slots[-1] if len(self.slots) else None

    def oldest_slot(self) -> pd.Timestamp | None:
        return self.slots[0] if len(self.slots) else None

    def window_slots(self, window: Window) -> pd.DatetimeIndex:
        return self.slots[
            (self.slots >= pd.Timestamp(window.start)) & (self.slots < pd.Timestamp(window.end))
        ]

    def category_level(self, slots: pd.DatetimeIndex) -> bool:
        """Whether any of these slots holds category totals instead of channels."""
        return any(slot in self.category_slots for slot in slots)

    def coverage(self, window: Window) -> str:
        """What the window's figures cover, for labels: "all live channels" when every
        snapshot listed the whole market."""
        slots = self.window_slots(window)
        whole = [slot in self.market_slots for slot in slots]
        if whole and all(whole):
            return "all live channels"
        if any(whole):
            return "all live channels in part of the window, the top streams in the rest"
        return "the top live streams only"

    def detail_cut(self, window: Window) -> bool:
        """Whether the window holds snapshots older than the days that games per language
        and channels are held for (those figures then cover only the newest days)."""
        oldest = self.oldest_slot()
        if self.detail_start is None or oldest is None or oldest >= self.detail_start:
            return False
        return pd.Timestamp(window.start) < self.detail_start

    def genre_of_game(self, game_id: str) -> str:
        return schema.genre_of_stream(self.games.get(game_id))

    def game_name(self, game_id: str) -> str:
        """The catalogue's name of the game; for a game it has not looked up yet, the
        name its streams were listed with (Helix's `game_name`)."""
        game = self.games.get(game_id)
        if game:
            return str(game["name"])
        return self._listed_names().get(game_id) or game_id or "(no category)"

    def _listed_names(self) -> dict[str, str]:
        def build() -> dict[str, str]:
            names: dict[str, str] = {}
            for day in sorted(self.blocks["game"]):  # the newest day's name wins
                block = self.blocks["game"][day]
                names.update((k, n) for k, n in zip(block.keys, block.names, strict=True) if n)
            return names

        return self.memo(("listed-game-names",), build)

    def _blocks(self, dimension: str, window: Window) -> list[Block]:
        first = pd.Timestamp(window.start).floor("D")
        return [
            block
            for key in sorted(self.blocks[dimension])
            if first <= (block := self.blocks[dimension][key]).day < pd.Timestamp(window.end)
        ]

    # -- queries -----------------------------------------------------------------------

    def group_frame(
        self, by: str, window: Window, *, language: str = "", genre: str = ""
    ) -> pd.DataFrame:
        """Per-snapshot viewers and channels by `by` (genre | game | language) in `window`,
        restricted to one language and/or genre when given: columns slot, key, viewers,
        channels, one row per snapshot and group with at least one channel."""
        return self.memo(
            ("group_frame", by, window, language, genre),
            lambda: self._group_frame(by, window, language, genre),
        )

    def _group_frame(self, by: str, window: Window, language: str, genre: str) -> pd.DataFrame:
        if by == "game":
            dimension = "game_language" if language else "game"
        elif by == "genre":
            dimension = "genre_language" if language else "genre"
        else:
            dimension = "genre_language" if genre else "language"
        parts = []
        for block in self._blocks(dimension, window):
            cells = block.cells(window)
            if cells.start == cells.stop:
                continue
            keys = block.second if by == "language" and dimension != "language" else block.first
            wanted = np.ones(len(block.keys), dtype=bool)
            if language and dimension in CROSS_DIMENSIONS:
                wanted &= block.second == language
            if genre:
                genres = (
                    np.array([self.genre_of_game(k) for k in block.first], dtype=object)
                    if by == "game"
                    else block.first
                )
                wanted &= genres == genre
            rows = block.row[cells]
            chosen = wanted[rows]
            parts.append(
                pd.DataFrame(
                    {
                        "slot": block.slots_of(cells)[chosen],
                        "key": keys[rows[chosen]],
                        "viewers": block.viewers[cells][chosen],
                        "channels": block.channels[cells][chosen].astype(np.int64),
                    }
                )
            )
        if not parts:
            return _empty_group_frame()
        frame = pd.concat(parts, ignore_index=True)
        if dimension in CROSS_DIMENSIONS and by != "game":  # several crosses make one key
            frame = frame.groupby(["slot", "key"], sort=False)[["viewers", "channels"]].sum()
            frame = frame.reset_index()
        frame["slot"] = from_datetime64(frame["slot"])
        return frame

    def game_frame(self, game_id: str, window: Window, *, language: str = "") -> pd.DataFrame:
        """`group_frame("game", …)` of one game only: its cells are picked out of each day,
        so a game's page does not build the frame of every game."""

        def build() -> pd.DataFrame:
            dimension = "game_language" if language else "game"
            parts = []
            for block in self._blocks(dimension, window):
                cells = block.cells(window)
                wanted = block.first == game_id
                if language:
                    wanted &= block.second == language
                found = np.flatnonzero(wanted)
                if cells.start == cells.stop or not len(found):
                    continue
                picked = cells.start + np.flatnonzero(np.isin(block.row[cells], found))
                at = np.searchsorted(block.offsets, picked, "right") - 1
                parts.append(
                    pd.DataFrame(
                        {
                            "slot": block.slots[at],
                            "key": game_id,
                            "viewers": block.viewers[picked],
                            "channels": block.channels[picked].astype(np.int64),
                        }
                    )
                )
            if not parts:
                return _empty_group_frame()
            frame = pd.concat(parts, ignore_index=True)
            frame["slot"] = from_datetime64(frame["slot"])
            return frame

        return self.memo(("game_frame", game_id, window, language), build)

    def subject_frame(
        self, window: Window, subject: str, *, language: str = "", genre: str = ""
    ) -> pd.DataFrame:
        """Per-snapshot viewers and channels of one subject: `all` (the market, within the
        filters), `genre:<name>`, `language:<code>` or `game:<id>`."""
        kind, _, value = subject.partition(":")
        if kind == "game":
            frame = self.group_frame("game", window, language=language)
            return frame[frame["key"] == value]
        if kind == "language":
            frame = self.group_frame("language", window, genre=genre)
            return frame[frame["key"] == value]
        chosen = value if kind == "genre" else genre
        return self.group_frame("genre", window, language=language, genre=chosen)

    def totals(self, window: Window) -> pd.DataFrame:
        """The whole market per snapshot (every live stream): slot, viewers, channels."""
        rows = []
        for block in self._blocks("language", window):
            columns = block.columns(window)
            rows.append(
                pd.DataFrame(
                    {
                        "slot": block.slots[columns],
                        "viewers": block.total_viewers[columns],
                        "channels": block.total_channels[columns],
                    }
                )
            )
        frame = (
            pd.concat(rows, ignore_index=True)
            if rows
            else pd.DataFrame({"slot": [], "viewers": [], "channels": []})
        )
        frame["slot"] = from_datetime64(frame["slot"])
        return frame

    def histograms(self, by: str, window: Window, *, genre: str = "") -> pd.DataFrame:
        """Viewer-count histograms by `by` (game | genre | language) over the whole UTC
        days the window touches: rows keys, columns the bins' lower edges."""

        def build() -> pd.DataFrame:
            parts = []
            for block in self._blocks(by, window):
                if block.histogram is None or not len(block.keys):
                    continue
                keep = np.ones(len(block.keys), dtype=bool)
                if genre:
                    genres = (
                        [self.genre_of_game(k) for k in block.keys] if by == "game" else block.keys
                    )
                    keep &= np.array(genres, dtype=object) == genre
                counts = block.histograms()
                parts.append(
                    pd.DataFrame(
                        counts[keep],
                        index=block.keys[keep],
                        columns=list(histogram.VIEWER_BINS[: counts.shape[1]]),
                    )
                )
            if not parts:
                return pd.DataFrame()
            return pd.concat(parts).groupby(level=0).sum()

        return self.memo(("histograms", by, window, genre), build)

    def directory_totals(self, window: Window, language: str) -> pd.DataFrame:
        """Live channels of the language (`*`: all) by game and viewer bin over the
        window's slots (rows game ids, columns the bins' lower edges); read on demand."""
        return self.memo(
            ("directory-totals", window, language),
            lambda: self.reader.directory_totals(window.start, window.end, language),
        )

    def game_tails(self, window: Window, language: str, *, genre: str = "") -> pd.DataFrame:
        """Per game, the long-tail histogram: over every language from the day
        histograms, within one language from the directory counts."""
        if language:
            return self.directory_totals(window, language)
        return self.histograms("game", window, genre=genre)

    def channel_rows(
        self, window: Window, *, login: str = "", game_id: str = "", language: str = ""
    ) -> pd.DataFrame:
        """Observations of stored (top N) channels in `window` for one channel and/or one
        game: slot, login, name, game_id, language, viewers, rank."""
        parts = []
        for block in self._blocks("channel", window):
            cells = block.cells(window)
            if cells.start == cells.stop or block.game is None or block.rank is None:
                continue
            assert block.languages is not None and block.game_ids is not None
            wanted = np.ones(len(block.keys), dtype=bool)
            if login:
                wanted &= block.keys == login
            if language:
                wanted &= block.languages == language
            rows = block.row[cells]
            games = block.game[cells]
            chosen = wanted[rows]
            if game_id:  # by the game's index in this day, not by comparing strings per cell
                chosen &= np.isin(games, np.flatnonzero(block.game_ids == game_id))
            rows = rows[chosen]
            parts.append(
                pd.DataFrame(
                    {
                        "slot": block.slots_of(cells)[chosen],
                        "login": block.keys[rows],
                        "name": block.names[rows],
                        "game_id": block.game_ids[games[chosen]],
                        "language": block.languages[rows],
                        "viewers": block.viewers[cells][chosen],
                        "rank": block.rank[cells][chosen].astype(np.int64),
                    }
                )
            )
        columns_out = ["slot", "login", "name", "game_id", "language", "viewers", "rank"]
        if not parts:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns_out}).astype(
                {"slot": "datetime64[ns, UTC]", "viewers": np.int64, "rank": np.int64}
            )
        frame = pd.concat(parts, ignore_index=True)
        frame["slot"] = from_datetime64(frame["slot"])
        return frame

    def daily(self, dimension: str, key: str) -> pd.DataFrame:
        """One group's whole stored history, per UTC day: `day`, `hours` (the hours the
        day's snapshots stand for), `hours_watched`, `hours_streamed`. Read from the day
        blocks directly, so a year costs one pass and no frame of every group."""

        def build() -> pd.DataFrame:
            weights = self.memo(("weights",), lambda: snapshot_weights(self.slots, self.cadence))
            rows = []
            for day in sorted(self.blocks[dimension]):
                block = self.blocks[dimension][day]
                if not len(block.slots):
                    continue
                slot_weights = block.slot_weights(weights)
                found = np.flatnonzero(block.keys == key)
                watched = streamed = 0.0
                if len(found):
                    cells = np.flatnonzero(block.row == found[0])
                    slot_of_cell = np.searchsorted(block.offsets, cells, "right") - 1
                    cell_weights = slot_weights[slot_of_cell]
                    watched = float((block.viewers[cells] * cell_weights).sum())
                    streamed = float((block.channels[cells] * cell_weights).sum())
                rows.append((block.day, float(slot_weights.sum()), watched, streamed))
            frame = pd.DataFrame(rows, columns=["day", "hours", "hours_watched", "hours_streamed"])
            frame["day"] = pd.to_datetime(frame["day"], utc=True)
            return frame

        return self.memo(("daily", dimension, key), build)

    def channel_totals(self, window: Window) -> pd.DataFrame:
        """Per stored channel over the window: `login`, `name`, `language` (the newest),
        `hours_live`, `hours_watched`, `peak_viewers` and `main_game` (the game id of the
        most hours live). Summed day by day with numpy, so a month of the top 1,000 never
        becomes a frame of every observation."""

        def build() -> pd.DataFrame:
            weights = snapshot_weights(self.window_slots(window), self.cadence)
            parts, plays = [], []
            for block in self._blocks("channel", window):
                cells = block.cells(window)
                if cells.start == cells.stop or block.game is None:
                    continue
                assert block.languages is not None and block.game_ids is not None
                w = block.cell_weights(cells, weights)
                rows = block.row[cells].astype(np.int64)
                viewers = block.viewers[cells]
                n = len(block.keys)
                peak = np.zeros(n, dtype=np.int64)
                np.maximum.at(peak, rows, viewers)
                seen = np.bincount(rows, minlength=n) > 0
                parts.append(
                    pd.DataFrame(
                        {
                            "login": block.keys[seen],
                            "name": block.names[seen],
                            "language": block.languages[seen],
                            "hours_live": np.bincount(rows, weights=w, minlength=n)[seen],
                            "hours_watched": np.bincount(rows, weights=viewers * w, minlength=n)[
                                seen
                            ],
                            "peak_viewers": peak[seen],
                        }
                    )
                )
                # Hours per (channel, game) played: the pairs that occur, not every pair.
                games = len(block.game_ids)
                pairs, which = np.unique(
                    rows * games + block.game[cells].astype(np.int64), return_inverse=True
                )
                plays.append(
                    pd.DataFrame(
                        {
                            "login": block.keys[pairs // games],
                            "game_id": block.game_ids[pairs % games],
                            "hours": np.bincount(which, weights=w),
                        }
                    )
                )
            columns = ["login", "name", "language", "hours_live", "hours_watched"]
            if not parts:
                return pd.DataFrame(columns=[*columns, "peak_viewers", "main_game"])
            days = pd.concat(parts, ignore_index=True)
            grouped = days.groupby("login", sort=False)
            totals = grouped.agg(
                name=("name", "last"),
                language=("language", "last"),
                hours_live=("hours_live", "sum"),
                hours_watched=("hours_watched", "sum"),
                peak_viewers=("peak_viewers", "max"),
            )
            played = pd.concat(plays, ignore_index=True).groupby(["login", "game_id"])["hours"]
            main = played.sum().reset_index().sort_values(["hours", "game_id"], ascending=False)
            totals["main_game"] = main.drop_duplicates("login").set_index("login")["game_id"]
            return totals.reset_index()

        return self.memo(("channel-totals", window), build)

    def languages(self) -> list[str]:
        return self.memo(("languages",), lambda: self._keys_of("language"))

    def genres(self) -> list[str]:
        return self.memo(("genres",), lambda: self._keys_of("genre"))

    def _keys_of(self, dimension: str) -> list[str]:
        keys: set[str] = set()
        for block in self.blocks[dimension].values():
            keys.update(block.keys.tolist())
        return sorted(keys)

    def top_games(self, count: int) -> list[str]:
        """The `count` games with the most viewers over the whole history."""

        def build() -> list[str]:
            totals: dict[str, int] = {}
            for block in self.blocks["game"].values():
                sums = np.bincount(
                    block.row, weights=block.viewers.to_numpy(), minlength=len(block.keys)
                )
                for key, value in zip(block.keys.tolist(), sums.tolist(), strict=True):
                    totals[key] = totals.get(key, 0) + int(value)
            return sorted(totals, key=lambda k: -totals[k])[:count]

        return self.memo(("top_games", count), build)


def _empty_group_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "slot": pd.DatetimeIndex([], tz="UTC"),
            "key": pd.Series([], dtype=object),
            "viewers": pd.Series([], dtype=np.int64),
            "channels": pd.Series([], dtype=np.int64),
        }
    )
