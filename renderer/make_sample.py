"""Pick the small checked-in sample (`data/sample-frames`) from a rendered frame set.

    python renderer/make_sample.py data/frames data/sample-frames

A few games per genre (preferring different source packages), a few frames per game from
different episodes, shrunk to small JPEGs: enough for tests to train and label end to end
in seconds, small enough to keep in git (well under a few MB).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from PIL import Image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frames", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--games-per-genre", type=int, default=3)
    parser.add_argument("--frames-per-game", type=int, default=8)
    parser.add_argument("--width", type=int, default=96)
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    total = 0
    for genre_dir in sorted(p for p in args.frames.iterdir() if p.is_dir()):
        games = sorted(p for p in genre_dir.iterdir() if p.is_dir())
        # Round-robin over packages so a genre's sample is not all one look.
        by_package: dict[str, list[Path]] = {}
        for game in games:
            by_package.setdefault(game.name.split("-", 1)[0], []).append(game)
        chosen: list[Path] = []
        while len(chosen) < args.games_per_genre and any(by_package.values()):
            for package in sorted(by_package):
                if by_package[package] and len(chosen) < args.games_per_genre:
                    chosen.append(by_package[package].pop(0))
        for game in chosen:
            frames = sorted(game.glob("*.png"))
            step = max(1, len(frames) // args.frames_per_game)
            target = args.out / genre_dir.name / game.name
            target.mkdir(parents=True)
            for frame in frames[::step][: args.frames_per_game]:
                with Image.open(frame) as image:
                    small = image.convert("RGB")
                    small.thumbnail((args.width, args.width))
                    small.save(target / f"{frame.stem}.jpg", quality=85)
                total += 1
    print(f"{total} frames -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
