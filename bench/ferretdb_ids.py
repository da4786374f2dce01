"""How FerretDB v1 answers `_id` lookups: by string and by date, as a collection grows.

    .venv/bin/python bench/ferretdb_ids.py

Why `snapshots._id` is the slot key string (schema 2): prints the mean milliseconds of
`find_one({"_id": …})` and `replace_one({"_id": …})` on collections of 100, 1,000 and
5,000 documents of a snapshot document's size, keyed by date and by string.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymongo

from store import LocalFerretDB, free_port

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REPEATS = 30


def mean_ms(action: Callable[[], Any]) -> float:
    began = time.perf_counter()
    for _ in range(REPEATS):
        action()
    return (time.perf_counter() - began) / REPEATS * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        db = LocalFerretDB(Path(folder) / "ferretdb", free_port())
        db.start()
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(db.uri)
        try:
            database = client.bench_ids
            keys = {
                "date": lambda i: T0 + timedelta(minutes=30 * i),
                "string": lambda i: f"{T0 + timedelta(minutes=30 * i):%Y-%m-%dT%H:%M:%SZ}",
            }
            print("| documents | key | find_one (ms) | replace_one (ms) |")
            print("| ---: | --- | ---: | ---: |")
            stored = 0
            for size in (100, 1000, 5000):
                for kind, key in keys.items():
                    database[kind].insert_many(
                        [{"_id": key(i), "x": "y" * 400} for i in range(stored, size)]
                    )
                    wanted = key(size // 2)
                    find = mean_ms(lambda c=database[kind], k=wanted: c.find_one({"_id": k}))
                    replace = mean_ms(
                        lambda c=database[kind], k=wanted: c.replace_one({"_id": k}, {"x": "z"})
                    )
                    print(f"| {size:,} | {kind} | {find:.1f} | {replace:.1f} |")
                stored = size
        finally:
            client.close()
            db.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
