"""Collection names of the per-channel data, cut so that every collection stays small.

FerretDB v1 on SQLite finds a document by `_id` by scanning its collection's rows until it
meets it (`explain` shows `SCAN`): a read costs in proportion to the bytes stored before
the document. In a collection of 400 documents of 30 KB a `find_one` by `_id` took 1.3 ms
for the first document and 22 ms for the last. So each per-channel collection holds one
day (or month) of one channel group — a few dozen documents — and a reader of one channel
scans only its group's. On MongoDB the `_id` index serves any size; the cut costs
nothing there.

A channel's group is `channel_group` (16 groups of the 256 `channel_bucket`s); the
collection names end in `_g<group>`.
"""

from __future__ import annotations

from datetime import datetime

from slots import day_of

GROUPS = 16
BUCKETS = 256  # a group holds buckets g·16 … g·16+15
# Matches a partitioned collection's date and group: channel_days_20261122_g3.
DAY_PATTERN = r"_(\d{8})(_g\d+)?$"
MONTH_PATTERN = r"_(\d{6})(_g\d+)?$"


def bucket_group(bucket: int) -> int:
    return bucket * GROUPS // BUCKETS


def day_collection(base: str, day: datetime, group: int | None) -> str:
    """The collection of one UTC day of `base` for one group (`channel_slots_20261122_g3`);
    group None: the whole day in one collection, as written before the cut."""
    name = f"{base}_{day_of(day):%Y%m%d}"
    return name if group is None else f"{name}_g{group}"


def month_collection(base: str, month: datetime, group: int | None) -> str:
    """The collection of one calendar month of `base` for one group
    (`channel_summaries_202611_g3`); group None: as written before the cut."""
    name = f"{base}_{month:%Y%m}"
    return name if group is None else f"{name}_g{group}"
