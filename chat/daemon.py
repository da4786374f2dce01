"""The chat daemon: follows the newest snapshot's top channels (and those followed for
highlights, counted per second too), reads their chat, writes per-minute counts every few
seconds and, on shard 0, the chat rollups of each slot."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bson import json_util

from chat.counts import MINUTE_MS, MinuteCounts, add_entries
from chat.emotes import EmoteCatalogue, EmoteSource
from chat.reader import ChatReader, sleep_or_stop
from settings import Settings
from store import (
    ChatMinuteEntry,
    ChatStore,
    StoreError,
    highlight_channels,
    shard_label,
    within,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

CLOSE_AFTER_MS = 15_000  # a minute is complete this long after it ended
RUNNING_EVERY = timedelta(minutes=5)  # how often the running slot's rollups are rebuilt
FINAL_WRITE_SECONDS = 1.5  # on stop, how long the last minutes may take to write
STOP_WAIT_SECONDS = 2.0  # on stop, how long the reader and a running write may take to end


def in_shard(login: str, index: int, count: int) -> bool:
    """Whether reader `index` of `count` reads this channel (stable across processes)."""
    return zlib.crc32(login.encode()) % count == index


def minute_at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class ChatDaemon:
    def __init__(
        self,
        settings: Settings,
        store: ChatStore,
        emote_source: EmoteSource | None,
        *,
        channels: Callable[[], list[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.emote_source = emote_source
        self.catalogue = EmoteCatalogue()
        self.counts = MinuteCounts(self.catalogue.kind_of, settings.topics)
        self.reader = ChatReader(
            settings.chat_url,
            self.counts,
            joins_per_10s=settings.chat_joins_per_10s,
            nick=settings.chat_nick,
            token=settings.chat_oauth_token.get_secret_value(),
            clock=clock,
        )
        self.shard = shard_label(settings.chat_shard, settings.chat_shards)
        self.shards = [shard_label(i, settings.chat_shards) for i in range(settings.chat_shards)]
        self.run_id = uuid.uuid4().hex[:12]
        self._channels = channels or self._snapshot_channels
        self._base: dict[int, dict[str, ChatMinuteEntry]] = {}  # a previous run's counts
        self._written: dict[int, int] = {}  # minute → the counts' version stored
        self._spool = settings.spool_dir / "chat"
        self.cadence = settings.cadence
        self.rolled: set[datetime] = set()
        self._running_built: datetime | None = None
        self.write_failures = 0
        self.stopping = threading.Event()  # seen by jobs running in threads

    def _snapshot_channels(self) -> list[str]:
        limit = max(self.settings.chat_channels, self.settings.highlight_top)
        _, logins = self.store.newest_snapshot_channels(limit)
        return logins

    def mine(self, logins: list[str]) -> list[str]:
        s = self.settings
        return [login for login in logins if in_shard(login, s.chat_shard, s.chat_shards)]

    async def run(self, stop: asyncio.Event) -> None:
        writing = asyncio.create_task(
            self._every(stop, self.settings.chat_flush_seconds, self.flush)
        )
        reading = asyncio.create_task(self.reader.run(stop))
        # The catalogue and rollup jobs: their threads check `stopping` and end their
        # round; one blocked on an unreachable store is left behind (a daemon thread).
        side_jobs = [
            asyncio.create_task(self._every(stop, self.settings.chat_follow_seconds, self.follow))
        ]
        if self.settings.chat_shard == 0:
            side_jobs.append(asyncio.create_task(self._every(stop, 30.0, self.roll_up_due)))
        await stop.wait()
        log.info("chat reader stopping")
        self.stopping.set()
        # Only the reader (the counts must be still) and the writer are waited for, and
        # briefly, so a stop takes seconds whatever the store does. The last counts go to
        # the spool first, and are written from it now only when no write is still running
        # (one landing later could put older counts over them); else at the next start.
        finished, _ = await asyncio.wait([writing, reading], timeout=STOP_WAIT_SECONDS)
        await self._flush_final(write=writing in finished)

    async def _every(self, stop: asyncio.Event, seconds: float, job: Callable[[], Any]) -> None:
        """Run `job` every `seconds` (a coroutine function on the loop, else in a thread)."""
        while not stop.is_set():
            try:
                if asyncio.iscoroutinefunction(job):
                    await job()
                else:
                    await in_daemon_thread(job)
            except StoreError as error:
                log.warning("chat: %s", error)
            except Exception:  # one failed round must not end the daemon
                log.exception("chat job %s failed", getattr(job, "__name__", job))
            await sleep_or_stop(stop, seconds)

    def follow(self) -> None:
        """Join the newest snapshot's top channels of this shard; refresh stale emote lists."""
        top = self._channels()
        followed = highlight_channels(self.store.db, self.settings.followed_channels)
        highlights = self.mine([*followed, *top[: self.settings.highlight_top]])
        # In order of priority (a reader that cannot keep up parts the last first): the
        # channels followed for highlights, then the top channels by viewers.
        first = set(highlights)
        wanted = highlights + [
            c for c in self.mine(top[: self.settings.chat_channels]) if c not in first
        ]
        self.counts.by_second = set(highlights)
        self.reader.follow(wanted)
        rooms = self.reader.room_ids
        stale = [c for c in self.catalogue.stale(wanted) if c == "" or c in rooms]
        self.refresh_emotes(stale, rooms)

    def refresh_emotes(self, logins: list[str], rooms: dict[str, str]) -> int:
        """Fetch these emote lists ("" = the global one) and store them; returns how many
        lists were fetched (a list Twitch cannot give now is tried next round)."""
        if self.emote_source is None:
            return 0
        fetched = 0
        for login in logins:
            if self.stopping.is_set():
                break
            try:
                documents = self.catalogue.refresh(self.emote_source, login, rooms.get(login, ""))
            except Exception as error:  # Twitch down: keep the old lists
                log.warning("chat: emotes of %r not refreshed (%s)", login or "global", error)
                continue
            self.store.save_emotes(documents)
            fetched += 1
        return fetched

    async def flush(self, final: bool = False) -> int:
        """Write every open minute; forget those that are complete and stored. Counts are
        copied on the event loop (the reader changes them there); writes run in a thread.

        The final flush spools every minute first and then replays the spool: a store that
        stopped with us (or is unreachable) would hold the process past its stop deadline,
        and what is on disk is written at the next start."""
        if final:
            return await self._flush_final()
        now_ms = self.reader.server_now_ms()
        versions = dict(self.counts.versions)
        # A minute unchanged since it was written is not written again (a document of a
        # minute of the top 1,000 channels is about a megabyte).
        unchanged = {m for m, v in self._written.items() if versions.get(m, 0) == v}
        batch = [
            (
                minute,
                self.counts.entries(minute),
                final or minute + MINUTE_MS + CLOSE_AFTER_MS <= now_ms,
            )
            for minute in self.counts.open_minutes()
        ]
        names = dict(self.counts.emote_names)
        writes = [item for item in batch if item[0] not in unchanged]
        stored, spooled = await in_daemon_thread(self._write, writes, names)
        for minute in stored:
            self._written[minute] = versions.get(minute, 0)
        for minute, _, closed in batch:
            if closed and (minute in stored or minute in spooled or minute in unchanged):
                self.counts.drop(minute)
                self._base.pop(minute, None)
                self._written.pop(minute, None)
        return len(stored)

    def _write(
        self, batch: list[tuple[int, list[ChatMinuteEntry], bool]], names: dict[str, str]
    ) -> tuple[set[int], set[int]]:
        stored: set[int] = set()
        spooled: set[int] = set()
        try:
            self._replay_spool()
        except StoreError as error:
            log.warning("chat: spooled minutes not written yet (%s)", error)
        # Every open minute's small live copy first: the newest counts must not wait
        # for an older minute's megabyte document.
        merged: dict[int, list[ChatMinuteEntry]] = {}
        for minute, entries, _ in batch:
            try:
                merged[minute] = self._with_base(minute, entries)
                self.store.write_live(minute_at(minute), self.shard, merged[minute], names)
            except StoreError as error:
                log.warning("chat: live copy of a minute not written (%s)", error)
        for minute, entries, closed in batch:
            try:
                if minute not in merged:
                    merged[minute] = self._with_base(minute, entries)
                self.store.write_minute(
                    minute_at(minute), self.shard, self.run_id, merged[minute], names, live=False
                )
            except StoreError as error:
                self.write_failures += 1
                log.warning("chat: minute not written, kept for the next try (%s)", error)
                if closed and len(batch) > self.settings.chat_max_pending_minutes:
                    self._spool_minute(minute, entries, names)
                    spooled.add(minute)
                continue
            stored.add(minute)
        return stored, spooled

    async def _flush_final(self, write: bool = True) -> int:
        batch = [(minute, self.counts.entries(minute)) for minute in self.counts.open_minutes()]
        names = dict(self.counts.emote_names)
        await in_daemon_thread(self._spool_all, batch, names)
        for minute, _ in batch:
            self.counts.drop(minute)
        if not write:
            log.warning("chat: a write is still running; the last minutes stay spooled")
            return 0
        try:
            return await in_daemon_thread(self._replay_within, FINAL_WRITE_SECONDS)
        except StoreError as error:
            log.warning("chat: the last minutes stay spooled until the next start (%s)", error)
            return 0

    def _spool_all(
        self, batch: list[tuple[int, list[ChatMinuteEntry]]], names: dict[str, str]
    ) -> None:
        for minute, entries in batch:
            self._spool_minute(minute, entries, names)

    def _replay_within(self, seconds: float) -> int:
        with within(seconds):
            return self._replay_spool()

    def _with_base(self, minute: int, entries: list[ChatMinuteEntry]) -> list[ChatMinuteEntry]:
        """Entries plus what an earlier run stored for the same minute."""
        if minute not in self._base:
            found = self.store.read_minute(minute_at(minute), self.shard)
            previous = found["channels"] if found and found.get("run") != self.run_id else []
            self._base[minute] = {str(e["channel"]): e for e in previous}
        return _summed(list(self._base[minute].values()), entries)

    def _spool_minute(
        self, minute: int, entries: list[ChatMinuteEntry], names: dict[str, str]
    ) -> Path:
        """Keep a minute on disk. With the earlier runs' counts known (read when the minute
        was first written) the file holds the whole minute; else this run's counts only,
        added to the stored minute when replayed."""
        base = self._base.get(minute)
        merged = base is not None
        if base is not None:
            entries = self._with_base(minute, entries)
        self._spool.mkdir(parents=True, exist_ok=True)
        path = self._spool / f"{minute}-{self.shard}-{self.run_id}.json"
        body = {
            "minute": minute,
            "run": self.run_id,
            "merged": merged,
            "entries": entries,
            "names": names,
        }
        temporary = path.with_suffix(".partial")
        temporary.write_text(json_util.dumps(body), encoding="utf-8")
        temporary.replace(path)
        log.warning("chat: spooled minute %s to %s", minute_at(minute).isoformat(), path)
        return path

    def _spooled(self) -> list[Path]:
        if not self._spool.is_dir():
            return []
        named = [
            *self._spool.glob(f"*-{self.shard}.json"),
            *self._spool.glob(f"*-{self.shard}-*.json"),
        ]
        return sorted(named, key=lambda path: (int(path.name.partition("-")[0]), path.name))

    def _replay_spool(self) -> int:
        """Write the spooled minutes, oldest first; returns how many were written."""
        written = 0
        for path in self._spooled():
            body = json_util.loads(path.read_text(encoding="utf-8"))
            minute = int(body["minute"])
            entries = body["entries"]
            run = str(body.get("run") or self.run_id)
            if "merged" not in body:  # a file from before spool files named their run
                entries = self._with_base(minute, entries)
            elif not body["merged"]:
                found = self.store.read_minute(minute_at(minute), self.shard)
                if found and found.get("run") == run:  # replayed before, then stopped
                    path.unlink()
                    continue
                if found:
                    entries = _summed(found["channels"], entries)
            self.store.write_minute(minute_at(minute), self.shard, run, entries, body["names"])
            path.unlink()
            written += 1
        return written

    def roll_up_due(self, now: datetime | None = None) -> list[datetime]:
        """Build the chat rollups of the slot that ended last, once its minutes are in,
        and every few minutes those of the running slot (so far: `complete` false)."""
        now = now or datetime.now(UTC)
        built = []
        # A slot's chat runs from its snapshot to the next; the one that ended last:
        waited = now - timedelta(seconds=self.settings.chat_rollup_grace_seconds)
        end = self.cadence.current_slot(waited)
        slot = self.cadence.current_slot(end - timedelta(minutes=1))
        if slot not in self.rolled:
            self.store.build_rollups(slot, end, self.shards, complete=True)
            self.rolled.add(slot)
            retention = timedelta(days=self.settings.chat_minutes_retention_days)
            self.store.prune_minutes(now - retention, now)
            built.append(slot)
        running = self.cadence.current_slot(now)
        if self._running_built is None or now - self._running_built >= RUNNING_EVERY:
            end = self.cadence.next_slot(running)
            self.store.build_rollups(running, end, self.shards, complete=False)
            self._running_built = now
            built.append(running)
        return built


def _summed(base: list[ChatMinuteEntry], entries: list[ChatMinuteEntry]) -> list[ChatMinuteEntry]:
    """One minute's entries of two runs, channel by channel."""
    if not base:
        return entries
    earlier = {str(e["channel"]): e for e in base}
    mine = {str(e["channel"]): e for e in entries}
    merged = {k: add_entries(earlier[k], mine[k]) if k in mine else earlier[k] for k in earlier}
    merged.update({k: v for k, v in mine.items() if k not in earlier})
    return [merged[k] for k in sorted(merged)]


async def in_daemon_thread(job: Callable[..., T], *args: Any) -> T:
    """`job(*args)` in a thread of its own, awaited like `asyncio.to_thread`; but the
    thread is a daemon, so one still blocked (on an unreachable store) when the process
    stops does not hold it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def target() -> None:
        try:
            outcome: tuple[Any, BaseException | None] = (job(*args), None)
        except BaseException as error:  # handed to the awaiting task
            outcome = (None, error)
        with suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    name = f"chat-{getattr(job, '__name__', 'job')}"
    threading.Thread(target=target, name=name, daemon=True).start()
    return await future
