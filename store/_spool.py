"""A local spool of snapshots that could not be written, replayed on the next run.

One file per slot, written atomically (temporary `.partial` file + rename), so a crash
mid-write never leaves a half file that would be mistaken for a snapshot. A file that
cannot be read all the same (truncated by a full disk, edited by hand) is moved into
`rejected/` beside a note of the reason, so one bad file never blocks the others.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from bson.errors import BSONError

from slots import slot_key
from store._batch import SnapshotBatch
from store._errors import SpoolFileInvalid

log = logging.getLogger(__name__)

REJECTED = "rejected"


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, batch: SnapshotBatch) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{slot_key(batch.slot).replace(':', '')}.json"
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".partial")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(batch.to_json())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        log.warning("spooled snapshot %s to %s", slot_key(batch.slot), target)
        return target

    def check_writable(self) -> None:
        """OSError unless a snapshot could be spooled here now (checked at start: an
        outage is the worst moment to learn that the spool cannot be written)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=self.directory, suffix=".partial")
        os.close(handle)
        os.unlink(probe)

    def pending(self) -> list[Path]:
        """Spooled snapshots, oldest slot first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    def clean_partials(self) -> int:
        """Delete `.partial` files a crashed writer left. Only safe while holding the
        collector lock (no other writer can be midway through `put`)."""
        removed = 0
        if self.directory.is_dir():
            for partial in self.directory.glob("*.partial"):
                partial.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.warning("removed %d unfinished spool file(s) left by a crash", removed)
        return removed

    def load(self, path: Path) -> SnapshotBatch | None:
        """The spooled batch, or None when the file cannot be used (it is then rejected):
        unopenable (a directory, a broken link), not JSON, or not a batch of the current
        model (`store._spool_check`)."""
        try:
            return SnapshotBatch.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError, BSONError, SpoolFileInvalid) as error:
            # json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
            self.reject(path, f"{type(error).__name__}: {error}")
            return None

    def reject(self, path: Path, reason: str) -> Path:
        """Move a bad spool file into `rejected/`, with `<name>.reason` saying why."""
        rejected = self.directory / REJECTED
        rejected.mkdir(parents=True, exist_ok=True)
        target = rejected / path.name
        number = 1
        while target.exists() or target.is_symlink():  # keep an earlier rejected file too
            target, number = rejected / f"{path.stem}.{number}{path.suffix}", number + 1
        os.replace(path, target)
        target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
        log.error(
            "spool file %s is unreadable or not a valid batch (%s); moved it to %s",
            path.name,
            reason,
            target,
        )
        return target

    def rejected(self) -> list[Path]:
        return sorted((self.directory / REJECTED).glob("*.json"))

    @staticmethod
    def remove(path: Path) -> None:
        path.unlink(missing_ok=True)
