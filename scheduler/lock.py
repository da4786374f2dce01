"""One writer per database: the lock every collector command holds while it writes.

The lock file is named after the database (its hosts and name), not after the spool
folder or the working directory, so two processes that write the same database exclude
each other however they were started. `flock` locks die with their process, so a crashed
collector never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pymongo.uri_parser import parse_uri

from scheduler.errors import AlreadyRunning

POLL_SECONDS = 0.2


def lock_path(uri: str, database: str, directory: Path | None = None) -> Path:
    """The lock file of this database on this machine."""
    hosts = sorted(f"{host}:{port}" for host, port in parse_uri(uri)["nodelist"])
    digest = hashlib.sha1(f"{','.join(hosts)}/{database}".encode()).hexdigest()[:16]
    folder = directory or Path(tempfile.gettempdir()) / "genre-radar-locks"
    return folder / f"collector-{digest}.lock"


@contextmanager
def database_lock(path: Path, *, holder: str, wait_seconds: float) -> Iterator[None]:
    """Hold the lock at `path` for the block, waiting up to `wait_seconds` for it;
    AlreadyRunning (naming the holder) if it stays taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    other = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
                    raise AlreadyRunning(
                        f"another collector ({other or 'unknown'}) is writing this database "
                        f"(lock {path})"
                    ) from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()}, {holder}".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
