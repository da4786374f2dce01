"""Labelled frames, their splits, and decoding them into arrays.

Frames of one game (or one channel) are highly correlated, so splits are made over whole
groups — games, episodes or channels — never over single frames: a test frame must come
from a game (or episode, or channel) the model never saw.
"""

from __future__ import annotations

import io
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from classifier.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_EPISODE = re.compile(r"^(ep\d+)_")

Target = Literal["genre", "game"]
SplitBy = Literal["game", "group"]


@dataclass(frozen=True)
class Example:
    """One labelled frame. `group` is what frames of one game are split by: the episode for
    rendered frames, the channel for stream frames."""

    ref: str  # a file path, or a stored frame's id
    genre: str
    game: str
    group: str
    package: str  # where it came from: atari, procgen, vizdoom … or twitch

    def label(self, target: Target) -> str:
        return self.genre if target == "genre" else self.game


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    validation: list[Example]
    test: list[Example]


def examples_from_dir(root: Path) -> list[Example]:
    """Examples from `<root>/<genre>/<game>/*.jpg|png`; a game folder named
    `<package>-<game>` records its source package; `ep<N>_` file prefixes give episodes."""
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder of <genre>/<game>/<frame> images")
    examples = []
    for path in sorted(root.glob("*/*/*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        game = path.parent.name
        package = game.split("-", 1)[0] if "-" in game else "local"
        episode = _EPISODE.match(path.name)
        group = f"{game}/{episode.group(1) if episode else path.stem}"
        examples.append(Example(str(path), path.parent.parent.name, game, group, package))
    if not examples:
        raise DatasetError(f"no .jpg/.png frames under {root}/<genre>/<game>/")
    return examples


def split(
    examples: Sequence[Example],
    by: SplitBy,
    *,
    seed: int,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.15,
    stratify: Callable[[Example], str] = lambda e: e.genre,
) -> Splits:
    """Split whole games (or groups) into train/validation/test, within each stratum.

    A stratum with three or more keys puts at least one in test and one in validation; with
    two, one in test; with one, it stays in training only (it cannot be tested unseen).
    """
    key_of: Callable[[Example], str] = (lambda e: e.game) if by == "game" else (lambda e: e.group)
    keys_by_stratum: dict[str, set[str]] = defaultdict(set)
    for example in examples:
        keys_by_stratum[stratify(example)].add(key_of(example))
    rng = random.Random(seed)
    test_keys: set[str] = set()
    validation_keys: set[str] = set()
    for stratum in sorted(keys_by_stratum):
        keys = sorted(keys_by_stratum[stratum])
        rng.shuffle(keys)
        n = len(keys)
        n_test = max(1, round(n * test_fraction)) if n >= 2 else 0
        n_validation = max(1, round(n * validation_fraction)) if n >= 3 else 0
        test_keys.update(keys[:n_test])
        validation_keys.update(keys[n_test : n_test + n_validation])
    splits = Splits([], [], [])
    for example in examples:
        key = key_of(example)
        part = (
            splits.test
            if key in test_keys
            else splits.validation
            if key in validation_keys
            else splits.train
        )
        part.append(example)
    if not splits.train:
        raise DatasetError("nothing left to train on after the split")
    return splits


@dataclass
class Decoded:
    """Frames decoded to `size`×`size` RGB uint8, with those that could not be read."""

    images: np.ndarray
    examples: list[Example]
    failures: list[tuple[str, str]]  # (ref, reason)


def letterbox(image: Image.Image, size: int) -> Image.Image:
    """`image` fitted whole into `size`×`size`, its aspect ratio kept, black bars around:
    squashing a 16:9 stream frame would teach the model shapes no game has."""
    return ImageOps.pad(image.convert("RGB"), (size, size), Image.Resampling.BILINEAR, (0, 0, 0))


def fitted_size(image_size: tuple[int, int], size: int) -> tuple[int, int]:
    """The size an image of `image_size` has once letterboxed into `size`×`size`."""
    width, height = image_size
    scale = size / max(width, height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode(data: bytes, size: int) -> np.ndarray:
    """One image (any format Pillow reads) as a `size`×`size`×3 uint8 array, letterboxed."""
    if not data:
        raise ValueError("empty image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            # A JPEG (a stored thumbnail) can decode straight at 1/2, 1/4 or 1/8 scale,
            # an averaging downscale, when that still covers the letterboxed size: about
            # twice as fast for a 320×180 thumbnail at 96 px. Other formats ignore it.
            image.draft(image.mode, fitted_size(image.size, size))
            image.load()  # truncated files fail here rather than later
            rgb = letterbox(image, size)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"not a readable image ({error})") from error
    return np.asarray(rgb, dtype=np.uint8)


def decode_examples(
    examples: Iterable[Example], size: int, read: Callable[[str], bytes] | None = None
) -> Decoded:
    """Decode every example; unreadable ones are reported in `failures`, never raised."""
    read_bytes = read or (lambda ref: Path(ref).read_bytes())
    images, kept, failures = [], [], []
    for example in examples:
        try:
            images.append(decode(read_bytes(example.ref), size))
        except (ValueError, OSError) as error:
            failures.append((example.ref, str(error)))
            continue
        kept.append(example)
    array = np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)
    return Decoded(array, kept, failures)
