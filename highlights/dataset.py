"""Labelled clips (`<folder>/*.npz`, the format of docs/highlights.md) as feature rows.

A clip file holds `audio` (mono, at `audio_rate`; float or int16), `frames` (grey,
N×H×W, at `fps`), `chat` (seconds × [messages, hype emote uses, capital messages]),
`labels` (one 0/1 per window of `window_seconds`) and `audio_labels` (one 0/1 per second:
a cheer is heard), which only the audio classifier's training needs.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from highlights.errors import HighlightDataError
from highlights.features import WINDOW_SECONDS, CheerScorer, band_energies, clip_features

REQUIRED = ("audio", "audio_rate", "frames", "fps", "chat", "labels")


@dataclass(frozen=True)
class Clip:
    name: str
    audio: np.ndarray
    rate: int
    frames: np.ndarray
    fps: float
    chat: np.ndarray
    labels: np.ndarray
    audio_labels: np.ndarray | None


@dataclass
class Dataset:
    clips: list[Clip]
    skipped: dict[str, str]  # file → why it was not used

    @property
    def windows(self) -> int:
        return sum(len(c.labels) for c in self.clips)


def _load(path: Path) -> Clip:
    try:
        opened = np.load(path)
    except ValueError:  # numpy's words for "not an archive" speak of pickles
        raise HighlightDataError("not an .npz archive") from None
    if not isinstance(opened, np.lib.npyio.NpzFile):
        raise HighlightDataError("not an .npz archive of named arrays")
    with opened as data:
        lacking = [k for k in REQUIRED if k not in data]
        if lacking:
            raise HighlightDataError(f"lacks {', '.join(lacking)}")
        if float(data.get("window_seconds", WINDOW_SECONDS)) != WINDOW_SECONDS:
            raise HighlightDataError(f"windows are not {WINDOW_SECONDS:g} s")
        audio = data["audio"]
        if audio.dtype == np.int16:
            audio = audio.astype(np.float32) / 32768
        return Clip(
            name=path.stem,
            audio=audio.astype(np.float32),
            rate=int(data["audio_rate"]),
            frames=data["frames"],
            fps=float(data["fps"]),
            chat=data["chat"].astype(np.int64),
            labels=data["labels"].astype(np.int8),
            audio_labels=data.get("audio_labels", None),
        )


def load_folder(folder: Path) -> Dataset:
    """Every readable clip of `folder`; unreadable ones are listed in `skipped`."""
    if not folder.is_dir():
        raise HighlightDataError(f"{folder} is not a folder")
    clips, skipped = [], {}
    for path in sorted(folder.glob("*.npz")):
        try:
            clips.append(_load(path))
        except (HighlightDataError, OSError, ValueError, zipfile.BadZipFile, KeyError) as error:
            skipped[path.name] = str(error) or type(error).__name__
    if not clips:
        name, why = next(iter(skipped.items()), ("", ""))
        detail = f" ({len(skipped)} unreadable, e.g. {name}: {why})" if skipped else ""
        raise HighlightDataError(f"no labelled clip (.npz) in {folder}{detail}")
    return Dataset(clips, skipped)


def feature_rows(
    clips: list[Clip], cheer: CheerScorer | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, clip index of each row) of every window of every clip."""
    rows, labels, groups = [], [], []
    for index, clip in enumerate(clips):
        windows = len(clip.labels)
        features = clip_features(
            clip.audio, clip.frames, clip.fps, clip.chat, windows, cheer, clip.rate
        )
        rows.append(features.values)
        labels.append(clip.labels)
        groups.append(np.full(windows, index))
    return np.concatenate(rows), np.concatenate(labels), np.concatenate(groups)


def second_rows(clips: list[Clip]) -> tuple[np.ndarray, np.ndarray]:
    """(band energies, cheer label) of every second of the clips that label seconds."""
    rows, labels = [], []
    for clip in clips:
        if clip.audio_labels is None:
            continue
        energies = band_energies(clip.audio, clip.rate)
        count = min(len(energies), len(clip.audio_labels))
        rows.append(energies[:count])
        labels.append(clip.audio_labels[:count])
    if not rows:
        raise HighlightDataError(
            "no clip labels its seconds (audio_labels): the cheer model needs them"
        )
    return np.concatenate(rows), np.concatenate(labels)
