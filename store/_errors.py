"""Storage errors; pymongo's exceptions do not leave this package.

StoreError
├── StoreUnavailable   the server cannot be reached now: spool and retry later
└── SpoolFileInvalid   a spooled snapshot the current batch model does not accept
"""

from __future__ import annotations


class StoreError(Exception):
    """A write or read failed for a reason other than reachability."""


class StoreUnavailable(StoreError):
    """MongoDB cannot be reached (down, restarting, network); the write can be retried."""


class SpoolFileInvalid(StoreError):
    """A spooled snapshot that the current batch model does not accept."""
