"""Category recognition in the classifier benchmark: the emulator's categories and planted
channels stored in FerretDB, a category model trained on the stored frames of some channels
(`train --store --target game`), and `recognise_stored_categories` (what `label
--category-model` runs) over channels it never saw.

Each channel shows what the emulator's `FrameLibrary` says (its category's rendered game, a
camera for a non-game category, or, for the planted ones, another game), as the emulator's
thumbnails show it (`frame_from_dir`, 320×180 JPEG). A stream stores K = 4 frames (a
thumbnail and three clip frames). Training channels draw their frames from the first 80 %
of the game's frames (by name: episode, then step), held-out channels from the last 20 %
(the last episode), so no held-out frame was ever trained on.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifier.category import alike_categories, recognise, recognise_stored_categories
from classifier.model import ModelCard
from classifier.predict import TFLitePredictor
from emulator.catalogue import IGDB_GENRES, Category, named_categories
from emulator.cdn import FrameLibrary, Shown, camera_frame, frame_from_dir
from store import FrameStore, LocalFerretDB, frame_id, schema

SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
FRAMES_A_STREAM = 4
CHANNELS_PER_WEIGHT = 16  # a category's channels: 16 per unit of its weight, at least 10
HELD_OUT = 4  # one channel in 4 (by a hash of its login) is held out
TRAIN_SHARE = 0.8  # of each game's frames, for the channels not held out


@dataclass(frozen=True)
class Channel:
    login: str
    category: Category
    shown: Shown
    held_out: bool


def channels(library: FrameLibrary) -> list[Channel]:
    made = []
    for n, category in enumerate(named_categories()):
        for i in range(max(10, round(CHANNELS_PER_WEIGHT * category.weight))):
            login = f"bench_{n:02d}_{i:03d}"
            # Not crc32: it is affine, so any crc32 of a text ending in the login is tied to
            # the emulator's planted rule (a residue of crc32(login)).
            held_out = int(hashlib.sha1(login.encode()).hexdigest(), 16) % HELD_OUT == 0
            made.append(
                Channel(login, category, library.shown(category.twitch_id, login), held_out)
            )
    return made


def stream_frames(channel: Channel) -> list[bytes]:
    """The channel's K frames: its camera, or K frames of its game's frames on its side of
    the split, from a start that depends on the login."""
    if channel.shown.path is None:
        return [camera_frame(channel.login, 320, 180)] * FRAMES_A_STREAM
    every = sorted(channel.shown.path.parent.iterdir())
    cut = round(TRAIN_SHARE * len(every))
    pool = every[cut:] if channel.held_out else every[:cut]
    start = zlib.crc32(channel.login.encode()) % len(pool)
    step = max(1, len(pool) // FRAMES_A_STREAM)
    return [
        frame_from_dir(pool[(start + step * j) % len(pool)], 320, 180)
        for j in range(FRAMES_A_STREAM)
    ]


def store_channels(store: FrameStore, chosen: list[Channel], genre_of: dict[str, str]) -> None:
    for channel in chosen:
        category = channel.category
        meta = {
            "slot": SLOT,
            "stream_id": f"s-{channel.login}",
            "user_login": channel.login,
            "user_name": channel.login,
            "game_id": category.twitch_id,
            "game_name": category.name,
        }
        for j, data in enumerate(stream_frames(channel)):
            source, index = ("thumbnail", 0) if j == 0 else ("clip", j)
            store.put_frame(frame_id(SLOT, meta["stream_id"], source, index), data, meta)
    for category in {c.category.twitch_id: c.category for c in chosen}.values():
        store.db[schema.GAMES].replace_one(
            {"_id": category.twitch_id},
            {
                "_id": category.twitch_id,
                "name": category.name,
                "primary_genre": genre_of[category.twitch_id],
            },
            upsert=True,
        )


def score(rows: list[tuple[bool, bool]]) -> dict[str, Any]:
    """(flagged, planted) pairs → precision and recall of the flag."""
    tp = sum(1 for flagged, planted in rows if flagged and planted)
    fp = sum(1 for flagged, planted in rows if flagged and not planted)
    fn = sum(1 for flagged, planted in rows if planted and not flagged)
    return {
        "streams": len(rows),
        "planted": tp + fn,
        "flagged": tp + fp,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
    }


def category_benchmark(frames_dir: Path, model: Path, train_args: list[str]) -> dict[str, Any]:
    """Train the category model into `model` (unless `train_args` is empty: reuse it), then
    recognise the held-out channels and score the flag on the planted ones."""
    genre_of = {
        c.twitch_id: (IGDB_GENRES[c.genre_ids[0]] if c.genre_ids else schema.NON_GAME_GENRE)
        for c in named_categories()
    }
    library = FrameLibrary(
        frames_dir,
        {k: (None if v == schema.NON_GAME_GENRE else v) for k, v in genre_of.items()},
    )
    made = channels(library)
    with tempfile.TemporaryDirectory() as folder:
        db = LocalFerretDB(Path(folder))
        db.start()
        try:
            train_store = FrameStore(db.uri, "bench_categories_train", timeout_ms=10_000)
            test_store = FrameStore(db.uri, "bench_categories_test", timeout_ms=10_000)
            store_channels(train_store, [c for c in made if not c.held_out], genre_of)
            store_channels(test_store, [c for c in made if c.held_out], genre_of)
            if train_args:
                environment = {
                    **os.environ,
                    "MONGODB_URI": db.uri,
                    "MONGODB_DB": "bench_categories_train",
                }
                command = [sys.executable, "-m", "classifier", "train", "--store", "--out"]
                subprocess.run(
                    [*command, str(model), "--target", "game", "--split-by", "group", *train_args],
                    check=True,
                    env=environment,
                )
            run = TFLitePredictor(model)
            summary = recognise_stored_categories(test_store, run, clock=lambda: SLOT)
            stored = {d["user_login"]: d for d in test_store.db[schema.STREAM_CATEGORIES].find({})}
            thumbnails = {
                label["stream_id"]: label["probabilities"]
                for label in test_store.db[schema.FRAME_LABELS].find({"status": "ok"})
                if label["frame_id"].endswith("/thumbnail0")
            }
            train_store.close()
            test_store.close()
        finally:
            db.stop()
    return summarise(made, stored, thumbnails, run.card, summary.frames_per_second)


def summarise(
    made: list[Channel],
    stored: dict[str, dict[str, Any]],
    thumbnails: dict[str, dict[str, float]],
    card: ModelCard,
    frames_per_second: float,
) -> dict[str, Any]:
    classes, alike = card.classes, alike_categories(card)
    held_out = [c for c in made if c.held_out]
    non_game = {c.category.name for c in made if c.shown.path is None}
    known = [c for c in held_out if c.category.name in classes]
    result: dict[str, Any] = {
        "channels": len(made),
        "held_out": len(held_out),
        "categories": len(classes),
        "frames_per_second": frames_per_second,
    }
    honest = [c for c in known if not c.shown.planted]
    games = [c for c in honest if c.category.name not in non_game]
    cameras = [c for c in honest if c.category.name in non_game]
    result["accuracy_game_categories"] = round(
        sum(stored[c.login]["looks_like"] == c.category.name for c in games) / len(games), 3
    )
    result["game_streams"] = len(games)
    # Non-game categories all show a camera: which one a camera stream is cannot be seen, so
    # what counts is that it is called some non-game category.
    result["camera_called_non_game"] = round(
        sum(stored[c.login]["looks_like"] in non_game for c in cameras) / len(cameras), 3
    )
    result["camera_streams"] = len(cameras)
    for k in (1, FRAMES_A_STREAM):
        rows: dict[str, list[tuple[bool, bool]]] = {"game": [], "non-game": [], "all": []}
        for channel in known:
            if k == 1:
                name = channel.category.name
                thumbnail = [thumbnails[f"s-{channel.login}"]]
                flagged = recognise(name, thumbnail, alike if name in alike else ()).shows_other
            else:
                flagged = bool(stored[channel.login]["shows_other"])
            kind = "non-game" if channel.category.name in non_game else "game"
            rows[kind].append((flagged, channel.shown.planted))
            rows["all"].append((flagged, channel.shown.planted))
        result[f"k{k}"] = {kind: score(pairs) for kind, pairs in rows.items()}
    return result
