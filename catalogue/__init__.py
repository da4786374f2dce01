"""The genre catalogue: which IGDB genres each Twitch category has, and its primary genre.

Pure and small: no network, no database. The scheduler asks it to resolve each new game
from IGDB's answer plus the checked-in curated and override files.
"""

from catalogue.errors import CatalogueError
from catalogue.resolve import NON_GAME, Catalogue, Resolution

__all__ = ["NON_GAME", "Catalogue", "CatalogueError", "Resolution"]
