"""Training: split by game or group, fit with class weights and early stopping, export.

Writes into the output folder: `model.keras` (best validation loss), `checkpoint.keras`
(rewritten during training, so an interrupted run keeps its best epoch), `model.tflite`
(when the backend can export it), and the model card `model.json`.
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

from classifier import model as model_lib
from classifier.dataset import (
    DatasetError,
    Decoded,
    Example,
    SplitBy,
    Target,
    decode_examples,
    split,
)

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
    # Too few games for a validation split: early stopping watches the training loss instead
    # (never the test split, which must stay unseen).
    validation_data, validation_labels = arrays(splits.validation or splits.train, "validation")
    if len(train_labels) == 0:
        raise DatasetError("no readable training frames")

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
        weighted_metrics=["accuracy"],  # with sample weights: balanced accuracy
    )
    timer = EpochTimer()
    # Validation frames weighted like the training classes: the weighted `val_accuracy` is
    # then the balanced accuracy, which early stopping follows (plain accuracy and loss
    # favour the big genres, and the loss punishes confident mistakes on unseen games more
    # than it rewards getting more of them right).
    weights = class_weights(train_labels, len(classes))
    validation_weights = np.array([weights[int(y)] for y in validation_labels], np.float32)
    history = network.fit(
        train_data.images,
        train_labels,
        validation_data=(validation_data.images, validation_labels, validation_weights),
        epochs=config.epochs,
        batch_size=config.batch_size,
        class_weight=weights,
        callbacks=[
            timer,
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=config.patience,
                restore_best_weights=True,
            ),
            keras.callbacks.ModelCheckpoint(
                out / "checkpoint.keras", monitor="val_accuracy", mode="max", save_best_only=True
            ),
        ],
        verbose=config.verbose,
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
