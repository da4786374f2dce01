"""Training: split by game or group, fit with class weights and early stopping on the
validation games' balanced accuracy, calibrate, export.

Writes into the output folder: `model.keras` (the epoch with the best validation balanced
accuracy), `checkpoint.keras` (rewritten during training, so an interrupted run keeps its
best epoch), `model.tflite` (when the backend can export it), and the model card
`model.json` with the validation figures and the fitted temperature.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.metrics import recall_score

from classifier import model as model_lib
from classifier.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
)
from classifier.dataset import Decoded, Example, SplitBy, Target, decode_examples, split
from classifier.errors import DatasetError
from classifier.evaluate import scores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    target: Target = "genre"
    split_by: SplitBy = "game"
    image_size: int = 128
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    patience: int = 5
    seed: int = 2026
    weights: Path | None = None
    augmentation: str = "basic"
    max_per_key: int = 0  # cap frames per game (0: all), so big games do not dominate
    verbose: int = 1  # Keras: 1 = progress bar, 2 = a line per epoch, 0 = silent


class EpochTimer(keras.callbacks.Callback):  # type: ignore[misc]  # Keras is untyped
    """Wall time of each epoch (the first includes graph tracing)."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seconds.append(round(time.perf_counter() - self._started, 2))


class ValidationScore(keras.callbacks.Callback):  # type: ignore[misc]  # Keras is untyped
    """Adds `val_balanced_accuracy` and `val_loss` to each epoch's logs, computed on the
    validation frames as they are (no class weights), for the callbacks after it."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int) -> None:
        super().__init__()
        self.images, self.labels, self.batch_size = images, labels, batch_size

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        probabilities = self.model.predict(self.images, batch_size=self.batch_size, verbose=0)
        # Mean recall over the classes present: each genre of the validation games weighs
        # the same, whatever its share of frames; the card's figure (`evaluate.scores`).
        present = sorted(set(self.labels.tolist()))
        logs["val_balanced_accuracy"] = float(
            recall_score(
                self.labels,
                probabilities.argmax(axis=1),
                labels=present,
                average="macro",
                zero_division=0,
            )
        )
        logs["val_loss"] = negative_log_likelihood(probabilities, self.labels)


def validation_figures(
    probabilities: np.ndarray, labels: np.ndarray, games: int, temperature: float
) -> dict[str, float]:
    """The model card's validation figures, with the calibration error before and after."""
    calibrated = calibrate(probabilities, temperature)
    predicted = probabilities.argmax(axis=1)
    return {
        **scores(labels.tolist(), predicted.tolist(), sorted(set(labels.tolist()))),
        "games": games,
        "ece_before": expected_calibration_error(probabilities, labels),
        "ece_after": expected_calibration_error(calibrated, labels),
        "nll_before": round(negative_log_likelihood(probabilities, labels), 4),
        "nll_after": round(negative_log_likelihood(calibrated, labels), 4),
    }


def class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """`n / (k · count)` per class, so each class weighs the same in the loss in total."""
    counts = np.bincount(labels, minlength=num_classes)
    present = counts > 0
    total, k = int(counts.sum()), int(present.sum())
    return {i: (total / (k * int(c)) if c else 0.0) for i, c in enumerate(counts)}


def cap_per_key(
    examples: Sequence[Example], cap: int, key: Callable[[Example], str]
) -> list[Example]:
    if cap <= 0:
        return list(examples)
    taken: Counter[str] = Counter()
    kept = []
    for example in examples:
        if taken[key(example)] < cap:
            taken[key(example)] += 1
            kept.append(example)
    return kept


def train(
    examples: Sequence[Example],
    out: Path,
    config: TrainConfig,
    *,
    data_description: str,
    read: Callable[[str], bytes] | None = None,
) -> model_lib.ModelCard:
    """Train a model on `examples` and write it with its card into `out`."""
    keras.utils.set_random_seed(config.seed)
    examples = cap_per_key(examples, config.max_per_key, lambda e: e.game)
    splits = split(
        examples,
        config.split_by,
        seed=config.seed,
        stratify=(lambda e: e.genre) if config.target == "genre" else (lambda e: e.game),
    )
    classes = sorted({e.label(config.target) for e in splits.train})
    if len(classes) < 2:
        raise DatasetError(f"need at least two {config.target}s to train, found {classes}")
    index = {c: i for i, c in enumerate(classes)}

    def arrays(part: list[Example], name: str) -> tuple[Decoded, np.ndarray]:
        decoded = decode_examples(part, config.image_size, read)
        for ref, reason in decoded.failures:
            log.warning("skipping %s frame %s: %s", name, ref, reason)
        kept = [e for e in decoded.examples if e.label(config.target) in index]
        labels = np.array([index[e.label(config.target)] for e in kept], dtype=np.int32)
        if len(kept) != len(decoded.examples):  # a class absent from training cannot be fit
            mask = np.array([e.label(config.target) in index for e in decoded.examples])
            decoded = Decoded(decoded.images[mask], kept, decoded.failures)
        return decoded, labels

    train_data, train_labels = arrays(splits.train, "training")
    if len(train_labels) == 0:
        raise DatasetError("no readable training frames")
    # Too few games for a validation split: early stopping watches the training frames
    # instead (never the test split, which must stay unseen), and the card has no
    # validation figures, so the model never counts as good enough for the rollups.
    validation_data, validation_labels = arrays(splits.validation or splits.train, "validation")
    if len(validation_labels) == 0:
        raise DatasetError("no readable validation frames")

    out.mkdir(parents=True, exist_ok=True)
    network = model_lib.build(
        len(classes),
        config.image_size,
        weights=config.weights,
        seed=config.seed,
        augmentation=config.augmentation,
    )
    network.compile(
        optimizer=keras.optimizers.AdamW(config.learning_rate, weight_decay=1e-4),
        loss="sparse_categorical_crossentropy",
        weighted_metrics=["accuracy"],  # with class weights: training balanced accuracy
    )
    timer = EpochTimer()
    # Early stopping and the checkpoint follow the validation games' balanced accuracy:
    # plain accuracy and loss favour the big genres, and the loss punishes confident
    # mistakes on unseen games more than it rewards getting more of them right.
    history = network.fit(
        train_data.images,
        train_labels,
        epochs=config.epochs,
        batch_size=config.batch_size,
        class_weight=class_weights(train_labels, len(classes)),
        callbacks=[
            ValidationScore(validation_data.images, validation_labels, 4 * config.batch_size),
            timer,
            keras.callbacks.EarlyStopping(
                monitor="val_balanced_accuracy",
                mode="max",
                patience=config.patience,
                restore_best_weights=True,
            ),
            keras.callbacks.ModelCheckpoint(
                out / "checkpoint.keras",
                monitor="val_balanced_accuracy",
                mode="max",
                save_best_only=True,
            ),
        ],
        verbose=config.verbose,
    )
    # EarlyStopping restores the best epoch only when it stops early; a run that used all
    # its epochs keeps the last, so the checkpoint (the best epoch) is loaded back.
    network = keras.saving.load_model(out / "checkpoint.keras")
    probabilities = network.predict(
        validation_data.images, batch_size=4 * config.batch_size, verbose=0
    )
    temperature = fit_temperature(probabilities, validation_labels)
    validation = (
        validation_figures(
            probabilities,
            validation_labels,
            len({e.game for e in validation_data.examples}),
            temperature,
        )
        if splits.validation
        else {}
    )
    model_path = out / model_lib.MODEL_FILE
    network.save(model_path)
    export_tflite(network, out / model_lib.TFLITE_FILE)
    key: Callable[[Example], str] = (
        (lambda e: e.game) if config.split_by == "game" else (lambda e: e.group)
    )
    card = model_lib.ModelCard(
        version=model_lib.file_version(model_path, config.target),
        target=config.target,
        classes=classes,
        image_size=config.image_size,
        split_by=config.split_by,
        seed=config.seed,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        backend=keras.backend.backend(),
        data=data_description,
        weights_from=str(config.weights) if config.weights else None,
        augmentation=config.augmentation,
        counts={
            "train": len(train_labels),
            "validation": len(validation_labels),
            "test": len(splits.test),
            "unreadable": len(train_data.failures) + len(validation_data.failures),
        },
        test_keys=sorted({key(e) for e in splits.test}),
        validation_keys=sorted({key(e) for e in splits.validation}),
        epochs=len(timer.seconds),
        epoch_seconds=timer.seconds,
        history={k: [round(float(v), 4) for v in vs] for k, vs in history.history.items()},
        temperature=temperature if splits.validation else 1.0,
        validation=validation,
        class_genres={e.game: e.genre for e in splits.train} if config.target == "game" else {},
    )
    card.save(out)
    return card


def export_tflite(network: keras.Model, path: Path) -> bool:
    """Export to TFLite (LiteRT); only some backends can, so failure is logged, not raised."""
    try:
        network.export(str(path), format="litert", verbose=False)
    except Exception as error:  # converter errors vary by backend and version
        log.warning("TFLite export skipped (%s: %s)", type(error).__name__, error)
        return False
    return True
