"""The network, its model card, and loading a trained model with its classes.

A MobileNetV3-Small backbone (trained from scratch, or from a weights file given by path:
no download is possible here) with a fresh softmax head. Augmentation layers sit inside the
model, so they act during `fit` only and the saved model needs no separate preprocessing:
it takes uint8-range RGB frames of `image_size`² as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import keras

from classifier.errors import ModelError

MODEL_FILE = "model.keras"
TFLITE_FILE = "model.tflite"
CARD_FILE = "model.json"


@dataclass
class ModelCard:
    """What a trained model is: its classes, its input, and how it was made."""

    version: str
    target: str  # "genre" or "game"
    classes: list[str]
    image_size: int
    split_by: str
    seed: int
    trained_at: str
    backend: str
    data: str
    weights_from: str | None
    # The network the classes sit on and where its weights came from, e.g.
    # "MobileNetV3-Small from scratch" or "EfficientNet-Lite0, ImageNet-1k (…), fine-tuned";
    # empty on cards written before it was recorded (MobileNetV3-Small, see weights_from).
    backbone: str = ""
    augmentation: str = "basic"
    counts: dict[str, int] = field(default_factory=dict)  # frames per split
    test_keys: list[str] = field(default_factory=list)  # the games/groups held out for test
    validation_keys: list[str] = field(default_factory=list)
    epochs: int = 0
    epoch_seconds: list[float] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    # `calibration.calibrate` with this temperature turns the network's output into the
    # probabilities every predictor returns (fitted on the validation games).
    temperature: float = 1.0
    # Figures on the validation games (the model was chosen on them; the test games stay
    # unseen): balanced_accuracy, macro_f1, accuracy, frames, games, ece_before, ece_after.
    # Empty when there were too few games to hold any out for validation.
    validation: dict[str, float] = field(default_factory=dict)
    # A game-target model's classes and their catalogue genres: non-game categories all
    # look alike (a camera), which `category.recognise` must know.
    class_genres: dict[str, str] = field(default_factory=dict)
    # The number format of model.tflite (`export.QUANTISATIONS`); model.keras is float32.
    tflite: str = "float32"

    def network(self) -> str:
        """The backbone and where its weights came from, for people to read."""
        if self.backbone:
            return self.backbone
        return "MobileNetV3-Small " + (
            f"from {self.weights_from}" if self.weights_from else "trained from scratch"
        )

    def validation_balanced_accuracy(self) -> float | None:
        value = self.validation.get("balanced_accuracy")
        return None if value is None else float(value)

    def save(self, folder: Path) -> None:
        (folder / CARD_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> ModelCard:
        path = folder / CARD_FILE
        if not path.is_file():
            raise ModelError(f"{path} is missing: is {folder} a folder written by `train`?")
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as error:
            raise ModelError(f"{path} is not a model card ({error})") from error


AUGMENTATIONS = ("basic", "strong")
# What the classes sit on: MobileNetV3-Small trained here (from scratch, or from a
# `pretrain` weights file), or EfficientNet-Lite0 with ImageNet weights (`transfer`).
Backbone = Literal["scratch", "imagenet-lite0"]
BACKBONES: tuple[Backbone, ...] = ("scratch", "imagenet-lite0")


def build(
    num_classes: int,
    image_size: int,
    *,
    weights: Path | None = None,
    seed: int = 0,
    augmentation: str = "basic",
) -> keras.Model:
    """MobileNetV3-Small with augmentation, for `num_classes` classes. `strong` adds
    colour changes and mirroring: a genre should not hinge on one game's palette."""
    if weights is not None and not weights.is_file():
        raise ModelError(f"weights file {weights} does not exist")
    inputs = keras.Input((image_size, image_size, 3), name="frame")
    x = augment(inputs, augmentation, seed)
    x = backbone(image_size, weights)(x)
    x = keras.layers.Dropout(0.3, seed=seed)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="frame_classifier")


def augment(frames: keras.KerasTensor, augmentation: str, seed: int) -> keras.KerasTensor:
    """Random changes of the 0..255 frames, active during `fit` only."""
    x = keras.layers.RandomTranslation(0.06, 0.06, fill_mode="nearest", seed=seed)(frames)
    x = keras.layers.RandomZoom((-0.15, 0.1), fill_mode="nearest", seed=seed)(x)
    x = keras.layers.RandomContrast(0.25, seed=seed)(x)
    x = keras.layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed)(x)
    if augmentation == "strong":
        x = keras.layers.RandomFlip("horizontal", seed=seed)(x)
        x = keras.layers.RandomHue(0.5, value_range=(0, 255), seed=seed)(x)
        x = keras.layers.RandomSaturation((0.2, 0.8), value_range=(0, 255), seed=seed)(x)
        x = keras.layers.RandomGrayscale(0.2, seed=seed)(x)
    return x


def backbone(image_size: int, weights: Path | None = None) -> keras.Model:
    """MobileNetV3-Small without its head, pooled to one feature vector a frame; from a
    weights file (`pretrain`'s, or another of this architecture) or from scratch."""
    network = keras.applications.MobileNetV3Small(
        input_shape=(image_size, image_size, 3),
        include_top=False,
        weights=str(weights) if weights else None,
        pooling="avg",
        include_preprocessing=True,  # rescales 0..255 inside the model
    )
    # Keras' MobileNetV3 keeps BatchNorm moving statistics with momentum 0.999: from
    # scratch, a few thousand steps leave them near their initial values and inference
    # collapses to one class. 0.9 tracks the training statistics within tens of steps.
    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    return network


def file_version(path: Path, prefix: str) -> str:
    """A model version that names its exact weights: `<prefix>-<sha1 of the file>`."""
    return f"{prefix}-{hashlib.sha1(path.read_bytes()).hexdigest()[:10]}"


def load(folder: Path) -> tuple[keras.Model, ModelCard]:
    """A trained model and its card; `ModelError` with the reason when it cannot be used."""
    card = ModelCard.load(folder)
    path = folder / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing")
    try:
        model = keras.saving.load_model(path)
    except Exception as error:  # Keras raises ValueError, OSError, zipfile errors …
        raise ModelError(f"{path} cannot be loaded ({type(error).__name__}: {error})") from error
    outputs = int(model.output_shape[-1])
    if outputs != len(card.classes):
        raise ModelError(
            f"{path} has {outputs} outputs but its card lists {len(card.classes)} classes"
        )
    return model, card
