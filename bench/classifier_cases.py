"""Helpers of the classifier benchmark: folders that leave a source out, and the
emulator's planted miscategorisations scored against a trained genre model.

Folders are made of symbolic links to the rendered game folders, so nothing is copied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from classifier.dataset import decode_examples, examples_from_dir
from classifier.label import aggregate, disagrees_with_category
from classifier.predict import TFLitePredictor
from emulator.catalogue import IGDB_GENRES, named_categories
from emulator.cdn import FrameLibrary
from store import schema


def game_folders(frames: Path) -> list[Path]:
    return sorted(p for p in frames.glob("*/*") if p.is_dir())


def source_of(game_folder: Path) -> str:
    return game_folder.name.split("-", 1)[0]


def linked_folder(frames: Path, out: Path, keep: Any) -> Path:
    """`out/<genre>/<game>` links to each of `frames`' game folders for which `keep(game
    folder)` holds."""
    out.mkdir(parents=True, exist_ok=True)
    for game in game_folders(frames):
        if keep(game):
            (out / game.parent.name).mkdir(exist_ok=True)
            (out / game.parent.name / game.name).symlink_to(game.resolve())
    return out


def source_table(frames: Path) -> dict[str, dict[str, int]]:
    """Games per source and genre in the rendered set."""
    table: dict[str, dict[str, int]] = {}
    for game in game_folders(frames):
        genres = table.setdefault(source_of(game), {})
        genres[game.parent.name] = genres.get(game.parent.name, 0) + 1
    return table


def planted_cases(
    model: Path, frames: Path, test_games: list[str], folder: Path, channels: int = 3000
) -> dict[str, Any]:
    """Precision and recall of `disagrees` on the emulator's planted channels.

    The emulator's library is built from the model's test games only (games it never saw);
    its named categories get channels in proportion to their weight, and each channel shows
    what `FrameLibrary.shown` says. A stream's frames are K frames of what it shows (K = 1:
    the thumbnail; K = 5: frames spread over a clip); `label`'s aggregation and
    disagreement rule decide. Non-game categories are counted apart: a genre model without
    a Non-game class cannot contradict them.
    """
    library_dir = linked_folder(frames, folder, lambda g: g.name in set(test_games))
    categories = named_categories()
    genre_of = {
        c.twitch_id: (IGDB_GENRES[c.genre_ids[0]] if c.genre_ids else None) for c in categories
    }
    library = FrameLibrary(library_dir, genre_of)
    run = TFLitePredictor(model)
    classes = run.card.classes
    weights = np.array([c.weight for c in categories])
    rng = np.random.default_rng(2026)
    picks = rng.choice(len(categories), size=channels, p=weights / weights.sum())
    rows = []
    for i, pick in enumerate(picks):
        category = categories[pick]
        login = f"bench_channel_{i}"
        shown = library.shown(category.twitch_id, login)
        category_genre = genre_of[category.twitch_id]
        if shown.path is None or (
            category_genre is not None and category_genre not in library.games
        ):
            continue  # a camera shot, or a stand-in game for a genre with no test game
        rows.append((category_genre or schema.NON_GAME_GENRE, shown))
    result: dict[str, Any] = {"channels": len(rows)}
    for k in (1, 5):
        paths = []
        for _, shown in rows:
            assert shown.path is not None
            siblings = sorted(shown.path.parent.iterdir())
            start = siblings.index(shown.path)
            paths += [siblings[(start + 11 * j) % len(siblings)] for j in range(k)]
        examples = [e for e in examples_from_dir(library_dir) if Path(e.ref) in set(paths)]
        by_path = {Path(e.ref): e for e in examples}
        decoded = decode_examples([by_path[p] for p in paths], run.card.image_size)
        probabilities = np.concatenate(
            [run(decoded.images[i : i + 256]) for i in range(0, len(decoded.images), 256)]
        )
        counts = {"game": [0, 0, 0], "non-game": [0, 0, 0]}  # true pos, false pos, false neg
        for n, (category_genre, shown) in enumerate(rows):
            frames_of_stream = [
                dict(zip(classes, map(float, row), strict=True))
                for row in probabilities[n * k : (n + 1) * k]
            ]
            genre, confidence = aggregate(frames_of_stream)
            flagged = disagrees_with_category(category_genre, genre, round(confidence, 4), classes)
            kind = "non-game" if category_genre == schema.NON_GAME_GENRE else "game"
            if flagged and shown.planted:
                counts[kind][0] += 1
            elif flagged:
                counts[kind][1] += 1
            elif shown.planted:
                counts[kind][2] += 1
        result[f"k{k}"] = {
            kind: {
                "planted": tp + fn,
                "flagged": tp + fp,
                "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            }
            for kind, (tp, fp, fn) in counts.items()
        }
    result["planted_share"] = {
        "game": f"1 in {FrameLibrary.OFF_CATEGORY}",
        "non-game": f"1 in {FrameLibrary.NON_GAME_PLAYS}",
    }
    return result
