"""`python -m emulator.labelled_clips`: write labelled clips of planted moments.

One `.npz` file per clip, the format `highlights.dataset` reads (docs/highlights.md):
`audio` (int16 mono) at `audio_rate`, `frames` (uint8 grey, N×H×W) at `fps`, `chat`
(int32 seconds × [messages, hype emote uses, capital messages]), `labels` (int8 per
window of `window_seconds`), `audio_labels` (int8 per second: a cheer sounds), `start`.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from emulator.moments import AUDIO_RATE, CONFIGS, MomentSchedule, chat_seconds, window_labels

FPS = 4.0
WINDOW_SECONDS = 10.0


def still_image(key: str, width: int = 80, height: int = 45) -> np.ndarray:
    """A grey game-like scene: a few shapes on a background, different per key."""
    seed = zlib.crc32(key.encode())
    rng = np.random.default_rng(seed)
    image = Image.new("L", (width, height), int(rng.integers(20, 200)))
    draw = ImageDraw.Draw(image)
    for _ in range(10):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(3, width // 3))
        draw.rectangle((x, y, x + size, y + size // 2), fill=int(rng.integers(0, 256)))
    return np.asarray(image)


def write_clip(schedule: MomentSchedule, index: int, seconds: int, folder: Path) -> Path:
    rng = np.random.default_rng([schedule.seed, index])
    login = f"clip{index:05d}"
    start = int(rng.integers(1_700_000_000, 1_800_000_000)) // 10 * 10
    per_second = float(np.exp(rng.uniform(np.log(0.2), np.log(5.0))))
    frames = schedule.frames(login, still_image(login), start, int(seconds * FPS), FPS)
    windows = int(seconds // WINDOW_SECONDS)
    moments = schedule.between(login, start, start + seconds)
    cheer = [m for m in moments if m.highlight and m.audio]
    audio_labels = np.array(
        [
            any(min(s + 1, m.end) - max(s, m.start) >= 0.5 for m in cheer)
            for s in range(start, start + seconds)
        ],
        np.int8,
    )
    path = folder / f"{login}.npz"
    np.savez_compressed(
        path,
        audio=(schedule.audio(login, start, seconds) * 32767).astype(np.int16),
        audio_rate=AUDIO_RATE,
        frames=frames,
        fps=FPS,
        chat=np.array(list(chat_seconds(schedule, login, start, seconds, per_second)), np.int32),
        labels=window_labels(moments, start, windows, WINDOW_SECONDS),
        audio_labels=audio_labels,
        window_seconds=WINDOW_SECONDS,
        start=start,
    )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator.labelled_clips", description=__doc__)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="train")
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=120, help="length of each clip")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    schedule = MomentSchedule(CONFIGS[args.config], args.seed)
    for index in range(args.clips):
        write_clip(schedule, index, args.seconds, args.out)
    print(f"{args.clips} clips of {args.seconds} s ({args.config}) in {args.out}")


if __name__ == "__main__":
    main()
