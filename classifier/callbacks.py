"""Keras callbacks of training: the wall time of each epoch, and the validation score
(balanced accuracy) that early stopping, checkpoints and the probe's choice follow."""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
from sklearn.metrics import recall_score

from classifier.calibration import negative_log_likelihood


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
        logs["val_balanced_accuracy"] = balanced_accuracy(self.labels, probabilities.argmax(axis=1))
        logs["val_loss"] = negative_log_likelihood(probabilities, self.labels)


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the classes present in `labels`: each genre of the validation
    games weighs the same, whatever its share of frames (the card's figure,
    `evaluate.scores`)."""
    present = sorted(set(labels.tolist()))
    return float(recall_score(labels, predicted, labels=present, average="macro", zero_division=0))


def best_epoch(patience: int) -> keras.callbacks.EarlyStopping:
    """Stops after `patience` epochs without a better validation balanced accuracy and
    restores the best epoch's weights (Keras 3 does so whether or not it stopped early)."""
    return keras.callbacks.EarlyStopping(
        monitor="val_balanced_accuracy", mode="max", patience=patience, restore_best_weights=True
    )
