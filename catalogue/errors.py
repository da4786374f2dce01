"""The catalogue's errors."""

from __future__ import annotations


class CatalogueError(Exception):
    """A curated or override file that cannot be used (unknown genre, bad row)."""
