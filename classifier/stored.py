"""Training examples from the frames the scheduler stored, labelled by catalogue genre.

Stream frames are grouped by channel (a channel's frames look alike: same overlay, same
camera), so `--split-by group` holds out whole channels and `--split-by game` whole games.
Frames of games the catalogue cannot place are left out of training (they are what `label`
is for); pretraining reads no label, so it takes them too (`unplaced=True`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from classifier.dataset import Example
from classifier.errors import DatasetError
from store import FrameStore, schema


def category_of(meta: Mapping[str, Any]) -> str:
    """The class a category model names a stream's frames by: its game's name (its id when
    the snapshot had no name)."""
    return str(meta.get("game_name") or meta["game_id"])


def examples_from_store(frames: FrameStore, *, unplaced: bool = False) -> list[Example]:
    """Every stored frame as an example of its game's catalogue genre; frames of games the
    catalogue cannot place only with `unplaced` (their genre is then the unknown one)."""
    documents = frames.frame_documents()
    games = frames.games({d["metadata"]["game_id"] for d in documents})
    examples = []
    for document in documents:
        meta = document["metadata"]
        genre = schema.genre_of(games.get(meta["game_id"]))
        if genre == schema.UNKNOWN_GENRE and not unplaced:
            continue
        examples.append(
            Example(document["_id"], genre, category_of(meta), meta["user_login"], "twitch")
        )
    if not examples:
        wanted = "" if unplaced else " of games with a catalogue genre"
        raise DatasetError(f"no stored frames{wanted} yet")
    return examples
