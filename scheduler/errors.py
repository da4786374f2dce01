"""The scheduler's errors.

SchedulerError
├── AlreadyRunning      another scheduler process holds this database's lock
├── ReplayError         a replay that cannot run (no replaying emulator, bad recording)
└── FramesUndecodable   a stream's clip read, but no picture could be decoded from it
"""

from __future__ import annotations


class SchedulerError(Exception):
    """The scheduler cannot do what was asked; the message says why."""


class AlreadyRunning(SchedulerError):
    """Another collector process holds the database's lock."""


class ReplayError(SchedulerError):
    """A replay that cannot run; the message says why."""


class FramesUndecodable(SchedulerError):
    """A clip was read but gave no picture; `reason` says why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
