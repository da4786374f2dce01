"""Reading many documents by `_id` at once.

A channel page needs a few dozen documents, each one `find_one` by `_id` (the only read
FerretDB v1 answers without a scan). Asked one after another, the page waits for each
in turn while the server uses one core; a few at a time overlap the server's work, the
network and the decoding (zlib and numpy release the GIL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pymongo.database import Database

READERS = 4  # concurrent reads: past this a 2-core server gains nothing
Decoded = TypeVar("Decoded")


def read_each(
    db: Database[dict[str, Any]],
    wanted: Sequence[tuple[str, str]],
    decode: Callable[[dict[str, Any] | None], Decoded],
) -> list[Decoded]:
    """`decode` of each (collection, _id) document (None when missing), in `wanted`'s
    order, read `READERS` at a time."""

    def read(key: tuple[str, str]) -> Decoded:
        collection, document_id = key
        return decode(db[collection].find_one({"_id": document_id}))

    if len(wanted) < 2:
        return [read(key) for key in wanted]
    with ThreadPoolExecutor(min(READERS, len(wanted))) as pool:
        return list(pool.map(read, wanted))
