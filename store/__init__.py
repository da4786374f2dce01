"""The storage layer: Genre Radar's MongoDB schema, writes, rollups and the spool."""

from store.batch import SnapshotBatch
from store.errors import StoreError, StoreUnavailable
from store.mongo import Store
from store.spool import Spool

__all__ = ["SnapshotBatch", "Spool", "Store", "StoreError", "StoreUnavailable"]
