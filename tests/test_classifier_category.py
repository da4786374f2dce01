"""Category recognition: the rule that flags a stream whose frames show another game, and
`recognise_stored_categories` over FerretDB (frames in GridFS, labels and stream documents
written and read back over the wire). The model here is a colour rule, so the expected
labels are known exactly; how well a trained category model recognises categories is
measured in bench/classifier.py."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from classifier.category import OWN_CATEGORY_MAX, recognise, recognise_stored_categories
from classifier.errors import ModelError
from classifier.label import label_stored_frames
from classifier.model import ModelCard
from store import FrameStore, schema
from store import frame_id as frame_id_of

SLOT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
CLASSES = ["Blue Game", "Green Game", "Just Chatting", "Red Game"]
COLOURS = {"red": (220, 30, 30), "green": (30, 220, 30), "blue": (30, 30, 220), "grey": (128,) * 3}


def test_a_stream_unlike_its_category_is_flagged() -> None:
    frames = [{"A": 0.05, "B": 0.9, "C": 0.05}, {"A": 0.07, "B": 0.8, "C": 0.13}]
    seen = recognise("A", frames)
    assert seen.category == "B" and seen.confidence == pytest.approx(0.85)
    assert seen.own_probability == pytest.approx(0.06) and seen.shows_other
    assert type(seen.shows_other) is bool  # stored as it is: BSON has no numpy bool


def test_look_alike_categories_and_unknown_ones_are_not_flagged() -> None:
    # Two game categories that look alike share the probability: neither is contradicted.
    shared = recognise("Rust", [{"Rust": 0.47, "DayZ": 0.48, "Chess": 0.05}])
    assert shared.category == "DayZ" and not shared.shows_other
    # Non-game categories all show a camera: spread over eleven of them, each gets under
    # 0.1, yet together they are the stream's own look.
    cameras = [f"Camera {i:02d}" for i in range(11)]
    frame = {c: 0.085 for c in cameras} | {"Chess": 0.065}
    assert recognise("Camera 05", [frame]).shows_other  # taken alone: wrongly flagged
    on_camera = recognise("Camera 05", [frame], cameras)
    assert on_camera.own_probability == pytest.approx(0.935) and not on_camera.shows_other
    assert on_camera.names_own and not recognise("Camera 05", [frame]).names_own
    # A game played under one of them is flagged.
    game = {c: 0.005 for c in cameras} | {"Chess": 0.945}
    seen = recognise("Camera 05", [game], cameras)
    assert seen.category == "Chess" and seen.shows_other
    # A category the model has no class for cannot be contradicted.
    unknown = recognise("Tetris", [{"A": 0.9, "B": 0.1}])
    assert unknown.own_probability is None and not unknown.shows_other
    # Its own category on top is never "another game", however unsure.
    many = {f"c{i:02d}": 0.95 / 19 for i in range(19)} | {"own": 0.05 + 1e-9}
    assert recognise("own", [many]).own_probability < OWN_CATEGORY_MAX
    assert not recognise("own", [many]).shows_other
    # Ties go to the first class in name order.
    assert recognise("A", [{"B": 0.5, "C": 0.5, "A": 0.0}]).category == "B"


class ColourModel:
    """A category "model" that names the game by the frame's dominant colour (grey is a
    camera: Just Chatting), 0.91 for that class and 0.03 for each other."""

    on_gpu = False

    def __init__(self) -> None:
        self.card = ModelCard(
            version="game-colour",
            target="game",
            classes=CLASSES,
            image_size=16,
            split_by="group",
            seed=0,
            trained_at="2026-12-02T00:00:00+00:00",
            backend="none",
            data="colour rule",
            weights_from=None,
            validation={"balanced_accuracy": 1.0, "macro_f1": 1.0, "games": 4, "frames": 8},
            class_genres={c: "Arcade" for c in CLASSES} | {"Just Chatting": schema.NON_GAME_GENRE},
        )

    def __call__(self, images: np.ndarray) -> np.ndarray:
        rows = []
        for image in images.astype(float):
            means = image.reshape(-1, 3).mean(axis=0)
            if means.max() - means.min() < 20:
                name = "Just Chatting"
            else:
                name = ("Red Game", "Green Game", "Blue Game")[int(means.argmax())]
            rows.append([0.91 if c == name else 0.03 for c in CLASSES])
        return np.array(rows, dtype=np.float32)


def jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), COLOURS[colour]).save(buffer, format="JPEG")
    return buffer.getvalue()


# channel → (category, what its two frames show); red_4 and chat_2 are planted.
CHANNELS = {
    "red_1": ("Red Game", "red"),
    "red_2": ("Red Game", "red"),
    "red_4": ("Red Game", "blue"),
    "blue_1": ("Blue Game", "blue"),
    "chat_1": ("Just Chatting", "grey"),
    "chat_2": ("Just Chatting", "green"),
    "new_1": ("Brand New Game", "green"),
}


@pytest.mark.integration
def test_stored_streams_showing_another_game_are_flagged(frames: FrameStore) -> None:
    def meta(login: str) -> dict[str, object]:
        category = CHANNELS[login][0]
        return {
            "slot": SLOT,
            "stream_id": f"s-{login}",
            "user_login": login,
            "user_name": login.upper(),
            "game_id": f"id-{category}",
            "game_name": category,
        }

    for login, (_, shows) in CHANNELS.items():
        for source, index in (("thumbnail", 0), ("clip", 1)):
            frame_id = frame_id_of(SLOT, f"s-{login}", source, index)
            frames.put_frame(frame_id, jpeg(shows), meta(login))
    # A corrupt clip frame: counted, kept, and its stream is decided by its other frames.
    corrupt = frame_id_of(SLOT, "s-red_1", "clip", 2)
    frames.put_frame(corrupt, b"\xff\xd8 broken", meta("red_1"))

    model = ColourModel()
    summary = recognise_stored_categories(frames, model, batch_size=4, clock=lambda: SLOT)
    assert (summary.frames, summary.unreadable, summary.streams) == (15, 1, 7)
    assert (summary.shows_other, summary.unknown_category) == (2, 1)
    assert frames.read_frame(corrupt).startswith(b"\xff\xd8")

    labels = list(frames.db[schema.FRAME_LABELS].find({"model_version": "game-colour"}))
    assert len(labels) == 15 and {lb["target"] for lb in labels} == {"game"}
    ok = [lb for lb in labels if lb["status"] == "ok"]
    assert all("game" in lb and "genre" not in lb for lb in ok)
    stored = {d["user_login"]: d for d in frames.db[schema.STREAM_CATEGORIES].find({})}
    assert set(stored) == set(CHANNELS)
    for login, document in stored.items():
        category, shows = CHANNELS[login]
        own = [lb["probabilities"].get(category) for lb in ok if lb["stream_id"] == f"s-{login}"]
        assert document["frames"] == len(own) == 2
        if category in CLASSES:
            assert document["own_probability"] == pytest.approx(float(np.mean(own)), abs=1e-4)
        else:
            assert document["own_probability"] is None
        assert document["shows_other"] == (login in {"red_4", "chat_2"})
        expected = {"red": "Red Game", "green": "Green Game", "blue": "Blue Game"}
        assert document["looks_like"] == expected.get(shows, "Just Chatting")
        assert document["confidence"] == pytest.approx(0.91, abs=1e-4)
    assert stored["red_4"]["looks_like"] == "Blue Game"
    recorded = frames.db[schema.CLASSIFIER_MODELS].find_one({"_id": "game-colour"})
    assert recorded is not None and recorded["target"] == "game" and recorded["trusted"]

    again = recognise_stored_categories(frames, model)
    assert again.frames == 0 and again.streams == 0  # each frame labelled once per version
    # The same rule from a model whose validation is near chance flags nothing.
    weak = ColourModel()
    weak.card = replace(
        weak.card,
        version="game-colour-weak",
        validation={**weak.card.validation, "balanced_accuracy": 0.09},
    )
    doubtful = recognise_stored_categories(frames, weak, min_balanced_accuracy=0.5)
    assert doubtful.streams == 7 and not doubtful.trusted and doubtful.shows_other == 0
    kept = list(frames.db[schema.STREAM_CATEGORIES].find({"model_version": "game-colour-weak"}))
    assert len(kept) == 7 and not any(d["shows_other"] for d in kept)
    assert {d["looks_like"] for d in kept} == {d["looks_like"] for d in stored.values()}
    weak_record = frames.db[schema.CLASSIFIER_MODELS].find_one({"_id": "game-colour-weak"})
    assert weak_record is not None and weak_record["trusted"] is False
    # Neither job takes the other's model.
    with pytest.raises(ModelError, match="recognises games, not genres"):
        label_stored_frames(frames, model)
