"""Packet and frame times of a clip in seconds, continuing across a timestamp that jumps.

A live stream's timestamps can start a new timeline (they wrap, or the encoder restarts);
a demuxer also "unwraps" a jump back into one far ahead. A jump of more than
`JUMP_SECONDS` either way is taken for a new timeline that continues from the last time,
not for a gap in the stream.
"""

from __future__ import annotations

JUMP_SECONDS = 10.0


class Timeline:
    """Seconds from `origin` (default: the first time placed), across timestamp jumps."""

    def __init__(self, origin: float | None = None) -> None:
        self.origin = origin
        self.shift = 0.0
        self.last: float | None = None

    def place(self, time: float | None, step: float) -> float:
        """Where a packet or frame at `time` (None: unknown) lasting `step` seconds falls."""
        if time is None:
            self.last = (self.last or 0.0) + step
            return self.last
        if self.origin is None:
            self.origin = time
        at = time - self.origin + self.shift
        if self.last is not None and abs(at - self.last) > JUMP_SECONDS:
            self.shift += self.last + step - at
            at = self.last + step
        self.last = at if self.last is None else max(self.last, at)
        return at
