"""Calibration, stream aggregation, letterboxing, the trust gate and the emulator's frame
truth: fast checks, no training."""

from __future__ import annotations

import dataclasses
import io
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from classifier.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
)
from classifier.dataset import decode, letterbox
from classifier.label import aggregate, card_document, is_trusted
from conftest import genre_card
from emulator.cdn import FrameLibrary, camera_frame


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def overconfident_classifier(temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from calibrated probabilities, and those probabilities sharpened by
    `temperature` (what an over-confident network outputs)."""
    rng = np.random.default_rng(7)
    logits = rng.normal(0, 1.5, size=(4000, 5))
    calibrated = softmax(logits)
    labels = np.array([rng.choice(5, p=row) for row in calibrated])
    return softmax(logits * temperature), labels


def test_temperature_scaling_recovers_the_sharpening_and_lowers_the_calibration_error() -> None:
    sharpened, labels = overconfident_classifier(3.0)
    temperature = fit_temperature(sharpened, labels)
    assert temperature == pytest.approx(3.0, rel=0.15)
    scaled = calibrate(sharpened, temperature)
    assert (scaled.argmax(axis=1) == sharpened.argmax(axis=1)).all()  # ranking untouched
    assert negative_log_likelihood(scaled, labels) < negative_log_likelihood(sharpened, labels)
    before = expected_calibration_error(sharpened, labels)
    after = expected_calibration_error(scaled, labels)
    assert before > 0.15 and after < 0.04
    np.testing.assert_array_equal(calibrate(sharpened, 1.0), sharpened)
    # Undoing a temperature returns the original probabilities.
    np.testing.assert_allclose(calibrate(scaled, 1 / temperature), sharpened, atol=1e-4)


def test_calibration_error_by_hand() -> None:
    # Two frames at confidence 0.9 (one right), two at 0.6 (both right): bins of 1/15.
    probabilities = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    labels = np.array([0, 1, 0, 1])
    want = 0.5 * abs(0.5 - 0.9) + 0.5 * abs(1.0 - 0.6)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(want, abs=1e-4)


def test_stream_genre_is_the_mean_probability_capped_by_the_number_of_frames() -> None:
    frames = [{"A": 0.6, "B": 0.4}, {"A": 0.3, "B": 0.7}, {"A": 0.45, "B": 0.55}]
    genre, confidence = aggregate(frames)
    assert genre == "B" and confidence == pytest.approx((0.4 + 0.7 + 0.55) / 3)
    # Twenty frames of one wrong game, each 99.9 % sure, are not certainty.
    many = [{"Shooter": 0.999, "Puzzle": 0.001}] * 20
    genre, confidence = aggregate(many)
    assert genre == "Shooter" and confidence == pytest.approx(1 - 1 / 42)
    assert aggregate([{"A": 0.99, "B": 0.01}]) == ("A", 0.75)  # one frame: at most 3 in 4
    assert aggregate([{"A": 0.5, "B": 0.5}] * 3)[0] == "A"  # ties: first in name order


def test_frames_are_letterboxed_not_squashed() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), (200, 30, 30)).save(buffer, format="PNG")
    array = decode(buffer.getvalue(), 64)
    assert array.shape == (64, 64, 3)
    bar = round((64 - 64 * 180 / 320) / 2)  # 14 rows above and below
    assert array[: bar - 1].max() == 0 and array[-(bar - 1) :].max() == 0
    assert (array[bar + 1 : -bar - 1, :, 0] > 150).all()  # the picture keeps its shape


def test_a_large_jpeg_decodes_at_reduced_scale_to_nearly_the_full_decodes_pixels() -> None:
    # A 1280x720 "thumbnail": smooth gradients with a sharp-edged block, as game frames have.
    y, x = np.mgrid[0:720, 0:1280]
    picture = np.stack([x * 255 // 1279, y * 255 // 719, (x + y) * 255 // 1998], axis=-1)
    picture[200:500, 300:700] = (250, 250, 20)
    buffer = io.BytesIO()
    Image.fromarray(picture.astype(np.uint8)).save(buffer, format="JPEG", quality=85)
    with Image.open(io.BytesIO(buffer.getvalue())) as image:
        image.load()  # the full-size decode, letterboxed
        full = np.asarray(letterbox(image, 96), dtype=np.int16)
    reduced = decode(buffer.getvalue(), 96).astype(np.int16)
    assert reduced.shape == full.shape == (96, 96, 3)
    assert np.abs(reduced - full).mean() < 1.5  # grey levels of 255
    assert (reduced[:20] == 0).all() and (reduced[-20:] == 0).all()  # still letterboxed


def test_only_a_model_whose_validation_reaches_the_threshold_is_trusted() -> None:
    assert is_trusted(genre_card({"balanced_accuracy": 0.62}), 0.5)
    assert not is_trusted(genre_card({"balanced_accuracy": 0.42}), 0.5)
    assert not is_trusted(genre_card({}), 0.0)  # no validation games: never trusted


def test_the_stored_model_document_names_the_backbone_older_cards_included() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    older = genre_card({"balanced_accuracy": 0.3})  # written before cards named a backbone
    assert card_document(older, now)["backbone"] == "MobileNetV3-Small trained from scratch"
    simclr = dataclasses.replace(older, weights_from="out/backbone.weights.h5")
    assert (
        card_document(simclr, now)["backbone"] == "MobileNetV3-Small from out/backbone.weights.h5"
    )
    lite0 = dataclasses.replace(older, backbone="EfficientNet-Lite0, ImageNet-1k, linear probe")
    assert card_document(lite0, now)["backbone"] == "EfficientNet-Lite0, ImageNet-1k, linear probe"


def test_emulator_categories_show_their_own_game_with_planted_exceptions(tmp_path: Path) -> None:
    for genre in ("Shooter", "Puzzle", "Sport"):
        for game in ("a", "b"):
            folder = tmp_path / genre / f"pkg-{genre.lower()}{game}"
            folder.mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (8, 8), (i, 0, 0)).save(folder / f"ep0_{i}.png")
    genre_of_game = {"1": "Shooter", "2": "Puzzle", "3": None}
    library = FrameLibrary(tmp_path, genre_of_game)
    logins = [f"user{i}" for i in range(400)]
    for game_id, genre in genre_of_game.items():
        shown = {login: library.shown(game_id, login) for login in logins}
        planted = {login for login, s in shown.items() if s.planted}
        if genre is None:
            want = {u for u in logins if zlib.crc32(u.encode()) % FrameLibrary.NON_GAME_PLAYS == 0}
            assert planted == want
            assert all(shown[u].path is None for u in logins if u not in planted)  # camera
            assert all(shown[u].genre is not None for u in planted)
        else:
            want = {u for u in logins if zlib.crc32(u.encode()) % FrameLibrary.OFF_CATEGORY == 3}
            assert planted == want
            games = {shown[u].path.parent.name for u in logins if u not in planted}  # type: ignore[union-attr]
            assert len(games) == 1 and next(iter(games)).startswith(f"pkg-{genre.lower()}")
            assert all(shown[u].genre != genre for u in planted)
    assert camera_frame("someone", 160, 90) == camera_frame("someone", 160, 90)
    assert Image.open(io.BytesIO(camera_frame("someone", 160, 90))).size == (160, 90)
