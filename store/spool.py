"""A local spool of snapshots that could not be written, replayed on the next run.

One file per slot, written atomically (temporary file + rename), so a crash mid-write
never leaves a half file that would be mistaken for a snapshot.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from store.batch import SnapshotBatch
from store.schema import slot_key

log = logging.getLogger(__name__)


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

    def pending(self) -> list[Path]:
        """Spooled snapshots, oldest slot first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    @staticmethod
    def load(path: Path) -> SnapshotBatch:
        return SnapshotBatch.from_json(path.read_text(encoding="utf-8"))

    @staticmethod
    def remove(path: Path) -> None:
        path.unlink(missing_ok=True)
