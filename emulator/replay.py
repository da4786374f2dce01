"""Replay mode: serve recorded snapshots, one after another, instead of the simulation.

The replay file is JSON lines, one Helix stream record per line with an extra
`observed_at` (RFC 3339 UTC) field; records sharing an `observed_at` form one snapshot.
An optional `"level": "category"` says a record is a category's total, not a channel
(recordings of top categories); `/_emulator/clock` reports the snapshot's level.
The collector asks `/_emulator/clock` for the current snapshot's time, collects it, then
`POST /_emulator/replay/next` moves on (see `python -m scheduler replay`).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from emulator.table import StreamTable
from slots import parse_utc


class ReplaySource:
    """Recorded snapshots in time order; one is current at a time."""

    def __init__(self, path: Path) -> None:
        groups: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
        category_level: set[datetime] = set()
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                try:
                    observed = parse_utc(record.pop("observed_at"))
                except (KeyError, ValueError) as error:
                    raise ValueError(f"{path}:{number}: bad or missing observed_at") from error
                if record.pop("level", "stream") == "category":
                    category_level.add(observed)
                groups[observed].append(record)
        if not groups:
            raise ValueError(f"{path} holds no records")
        self.snapshots = [(t, StreamTable(groups[t])) for t in sorted(groups)]
        self._category_level = category_level
        self.index = 0
        self._lock = threading.Lock()
        names: dict[str, str] = {}
        for _, table in self.snapshots:
            for record in table.records:
                names.setdefault(str(record.get("game_id", "")), str(record.get("game_name", "")))
        self._games = [{"id": i, "name": n, "igdb_id": ""} for i, n in sorted(names.items()) if i]

    def table(self) -> StreamTable:
        with self._lock:
            return self.snapshots[self.index][1]

    def observed_at(self) -> datetime:
        with self._lock:
            return self.snapshots[self.index][0]

    def level(self) -> str:
        """`category` when the current snapshot's records are category totals, else `stream`."""
        return "category" if self.observed_at() in self._category_level else "stream"

    def now(self) -> float:
        return self.observed_at().timestamp()

    def advance(self) -> bool:
        """Move to the next snapshot; False when the recording is over."""
        with self._lock:
            if self.index + 1 >= len(self.snapshots):
                return False
            self.index += 1
            return True

    def games(self) -> list[dict[str, str]]:
        return self._games
