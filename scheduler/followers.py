"""Follower totals once a day for the top channels and the ones asked for by name.

Each run (several an hour, between snapshots) reads the next `per_run` channels not read
yet today, so the day's thousands of requests are spread out and leave the Helix points a
snapshot needs. The channels: the `top` most watched of the newest stored listing, plus
those named in `FOLLOWERS_CHANNELS`. A token Twitch does not let read followers (401/403)
turns the tracker off until the process restarts, with one warning; snapshots never wait
on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from slots import day_of
from store import FollowerReading, Store, StoreError
from twitch_client import TwitchClient
from twitch_client.errors import FollowersUnavailable, TwitchError

log = logging.getLogger(__name__)


@dataclass
class FollowersRun:
    """What one run did."""

    read: int = 0
    left: int = 0  # channels still to read today
    off: bool = False  # followers are unavailable to this token


class FollowerTracker:
    def __init__(
        self,
        client: TwitchClient,
        store: Store,
        *,
        top: int,
        channels: Sequence[str],
        per_run: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.store = store
        self.top = top
        self.named = [c.strip().lower() for c in channels if c.strip()]
        self.per_run = per_run
        self._clock = clock
        self.off = False
        self._day: datetime | None = None
        self._wanted: list[str] = []
        self._logins: dict[str, str] = {}  # user id → login, of the channels wanted
        self._done: set[str] = set()

    def run(self) -> FollowersRun:
        if self.off:
            return FollowersRun(off=True)
        today = day_of(self._clock())
        try:
            if self._day != today or not self._wanted:
                self._wanted = self._channels_to_track()
                self._done = self.store.followers_read_on(today)
                self._day = today
            todo = [u for u in self._wanted if u not in self._done][: self.per_run]
            readings: list[FollowerReading] = []
            for user_id in todo:
                try:
                    total = self.client.follower_total(user_id)
                    readings.append(FollowerReading(user_id, self._logins[user_id], total))
                except FollowersUnavailable as error:
                    log.warning("follower counts are off for this run of the collector: %s", error)
                    self.off = True
                    break
                except TwitchError as error:  # the next run tries again
                    log.warning("follower counts paused until the next run: %s", error)
                    break
            if readings:
                self.store.write_followers(today, readings)
                self._done.update(r.user_id for r in readings)
        except StoreError as error:
            log.warning("follower counts not stored this run: %s", error)
            return FollowersRun()
        left = sum(u not in self._done for u in self._wanted)
        return FollowersRun(read=len(readings), left=left, off=self.off)

    def _channels_to_track(self) -> list[str]:
        """The top channels of the newest stored listing, then the named ones."""
        self._logins = dict(self.store.most_watched_channels(self.top))
        for login in self.named:
            found = self.store.find_channel(login)
            if found is None:
                log.info("FOLLOWERS_CHANNELS: %s has not been listed yet", login)
            else:
                self._logins[found.user_id] = found.login
        return list(self._logins)
