"""Training: split by game or group, fit with class weights and early stopping on the
validation games' balanced accuracy, calibrate, export. The network is MobileNetV3-Small
(from scratch, from `pretrain`'s weights, or learning a teacher's probabilities: `distil`)
or EfficientNet-Lite0 on ImageNet features (`transfer`).

Writes into the output folder: `model.keras` (the best on the validation games),
`checkpoint.keras` (MobileNetV3-Small's best epoch, rewritten during training, so an
interrupted run keeps it), `model.tflite` (when the backend can export it), and the model
card `model.json` with the validation figures and the fitted temperature.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from classifier import model as model_lib
from classifier import transfer
from classifier.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
)
from classifier.callbacks import EpochTimer, ValidationScore, best_epoch
from classifier.dataset import Decoded, Example, SplitBy, Target, decode_examples, split
from classifier.distil import Teacher
from classifier.errors import DatasetError
from classifier.evaluate import scores
from classifier.export import Quantisation, export_tflite
from classifier.model import Backbone

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
    # "scratch": MobileNetV3-Small, from `weights` when given (a `pretrain` backbone);
    # "imagenet-lite0": EfficientNet-Lite0's ImageNet features (`transfer`), a linear probe,
    # then `fine_tune_epochs` of its top blocks.
    backbone: Backbone = "scratch"
    fine_tune_epochs: int = 0
    # A trained model folder: the scratch network learns its probabilities (`distil`).
    teacher: Path | None = None
    tflite: Quantisation = "float32"  # the number format of model.tflite (`export`)


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
    if config.backbone != "scratch" and (config.weights or config.teacher):
        raise DatasetError(
            f"a weights file or a teacher is for the scratch backbone, not {config.backbone}"
        )
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

    key: Callable[[Example], str] = (
        (lambda e: e.game) if config.split_by == "game" else (lambda e: e.group)
    )
    targets = train_labels
    teacher = Teacher(config.teacher) if config.teacher else None
    if teacher:
        teacher.check(classes, sorted({key(e) for e in splits.test}))
        targets = teacher.soft_labels(train_data.examples, read)

    out.mkdir(parents=True, exist_ok=True)
    timer = EpochTimer()
    weights = class_weights(train_labels, len(classes))
    if config.backbone == "imagenet-lite0":
        fitted = transfer.fit(
            (train_data.images, train_labels),
            (validation_data.images, validation_labels),
            len(classes),
            transfer.TransferConfig(
                image_size=config.image_size,
                learning_rate=config.learning_rate,
                batch_size=config.batch_size,
                fine_tune_epochs=config.fine_tune_epochs,
                patience=config.patience,
                seed=config.seed,
                augmentation=config.augmentation,
                verbose=config.verbose,
            ),
            [timer],
            weights,
        )
        network, history, backbone = fitted.network, fitted.history, fitted.backbone
    else:
        network, history = _fit_scratch(
            (train_data.images, targets),
            (validation_data.images, validation_labels),
            len(classes),
            config,
            out,
            timer,
            weights,
        )
        if teacher:
            backbone = teacher.describe()
        elif config.weights:
            backbone = f"MobileNetV3-Small from {config.weights}"
        else:
            backbone = "MobileNetV3-Small trained from scratch"
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
    # int8 ranges come from the training frames: the frames the network is fitted to.
    export_tflite(network, out / model_lib.TFLITE_FILE, config.tflite, train_data.images)
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
        backbone=backbone,
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
        history={k: [round(float(v), 4) for v in vs] for k, vs in history.items()},
        temperature=temperature if splits.validation else 1.0,
        tflite=config.tflite,
        validation=validation,
        class_genres={e.game: e.genre for e in splits.train} if config.target == "game" else {},
    )
    card.save(out)
    return card


def _fit_scratch(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    num_classes: int,
    config: TrainConfig,
    out: Path,
    timer: EpochTimer,
    class_weight: dict[int, float],
) -> tuple[keras.Model, dict[str, list[float]]]:
    """MobileNetV3-Small trained end to end, on class indices or (distilling) on a
    teacher's probabilities; the network of its best validation epoch."""
    network = model_lib.build(
        num_classes,
        config.image_size,
        weights=config.weights,
        seed=config.seed,
        augmentation=config.augmentation,
    )
    soft = train[1].ndim == 2  # a teacher's probabilities rather than class indices
    network.compile(
        optimizer=keras.optimizers.AdamW(config.learning_rate, weight_decay=1e-4),
        loss="categorical_crossentropy" if soft else "sparse_categorical_crossentropy",
        # With class weights: training balanced accuracy (of the soft labels' top class).
        weighted_metrics=["categorical_accuracy" if soft else "accuracy"],
    )
    # Early stopping and the checkpoint follow the validation games' balanced accuracy:
    # plain accuracy and loss favour the big genres, and the loss punishes confident
    # mistakes on unseen games more than it rewards getting more of them right.
    history = network.fit(
        train[0],
        train[1],
        epochs=config.epochs,
        batch_size=config.batch_size,
        class_weight=class_weight,
        callbacks=[
            ValidationScore(validation[0], validation[1], 4 * config.batch_size),
            timer,
            best_epoch(config.patience),
            keras.callbacks.ModelCheckpoint(
                out / "checkpoint.keras",
                monitor="val_balanced_accuracy",
                mode="max",
                save_best_only=True,
            ),
        ],
        verbose=config.verbose,
    )
    # The checkpoint is the best epoch as saved, so what is exported is what was scored.
    network = keras.saving.load_model(out / "checkpoint.keras")
    return network, history.history
