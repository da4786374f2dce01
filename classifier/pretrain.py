"""`pretrain`: self-supervised features from unlabelled frames (SimCLR), for `train --weights`.

Two random views of each frame (crop, mirror, colour and brightness changes, grey) pass
through the backbone `model.build` uses and a small projection head; the NT-Xent loss pulls
each frame's two views together and pushes them away from the batch's other frames. No label
is read, so every frame counts, games without a genre included. The backbone's weights are
written as `backbone.weights.h5`, which `train --weights` starts from.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from classifier.callbacks import EpochTimer
from classifier.dataset import Example, decode_examples
from classifier.errors import DatasetError
from classifier.model import backbone as make_backbone
from classifier.train import cap_per_key

log = logging.getLogger(__name__)

WEIGHTS_FILE = "backbone.weights.h5"
REPORT_FILE = "pretrain.json"


@dataclass(frozen=True)
class PretrainConfig:
    image_size: int = 96
    epochs: int = 8
    batch_size: int = 128  # negatives per frame: 2 × batch − 2; more is better for SimCLR
    learning_rate: float = 2e-3
    temperature: float = 0.2  # NT-Xent's: lower weighs the hardest negatives more
    projection: int = 64
    max_per_key: int = 40
    seed: int = 2026
    verbose: int = 2


def views(image_size: int, seed: int) -> keras.Sequential:
    """One random view: a crop of 40–100 % of the frame, mirrored, its colours changed."""
    return keras.Sequential(
        [
            keras.layers.RandomZoom((-0.6, 0.0), fill_mode="reflect", seed=seed),
            keras.layers.RandomTranslation(0.15, 0.15, fill_mode="reflect", seed=seed + 1),
            keras.layers.RandomFlip("horizontal", seed=seed + 2),
            keras.layers.RandomHue(0.4, value_range=(0, 255), seed=seed + 3),
            keras.layers.RandomSaturation((0.2, 0.8), value_range=(0, 255), seed=seed + 4),
            keras.layers.RandomContrast(0.4, seed=seed + 5),
            keras.layers.RandomBrightness(0.3, value_range=(0, 255), seed=seed + 6),
            keras.layers.RandomGrayscale(0.2, seed=seed + 7),
        ],
        name=f"view_{seed}",
    )


def contrastive_model(config: PretrainConfig) -> tuple[keras.Model, keras.Model]:
    """(the model `fit` trains, the backbone inside it). The model's output is both views'
    projections side by side, so the loss sees the pairs without labels."""
    size = config.image_size
    inputs = keras.Input((size, size, 3), name="frame")
    backbone = make_backbone(size)
    projector = keras.Sequential(
        [keras.layers.Dense(256, activation="relu"), keras.layers.Dense(config.projection)],
        name="projector",
    )
    first = projector(backbone(views(size, config.seed)(inputs)))
    second = projector(backbone(views(size, config.seed + 100)(inputs)))
    outputs = keras.layers.Concatenate(name="pairs")([first, second])
    return keras.Model(inputs, outputs, name="simclr"), backbone


def nt_xent(temperature: float) -> Any:
    """SimCLR's loss over a batch of pairs `[z1 | z2]`: for each view, cross-entropy of
    its partner among the other 2B − 1 views by cosine similarity / temperature."""

    def loss(_: Any, pairs: Any) -> Any:
        width = ops.shape(pairs)[1] // 2
        z = ops.concatenate([pairs[:, :width], pairs[:, width:]], axis=0)
        z = z / (ops.norm(z, axis=1, keepdims=True) + 1e-8)
        n = ops.shape(z)[0]
        half = n // 2
        logits = ops.matmul(z, ops.transpose(z)) / temperature - 1e9 * ops.eye(n)
        partners = ops.concatenate([ops.arange(half) + half, ops.arange(half)])
        each = keras.losses.sparse_categorical_crossentropy(partners, logits, from_logits=True)
        return (each[:half] + each[half:]) / 2

    return loss


def pretrain(
    examples: Sequence[Example],
    out: Path,
    config: PretrainConfig,
    *,
    read: Callable[[str], bytes] | None = None,
) -> dict[str, Any]:
    """Fit the contrastive model on `examples`' frames (their labels unread); write the
    backbone's weights and a report."""
    keras.utils.set_random_seed(config.seed)
    examples = cap_per_key(examples, config.max_per_key, lambda e: e.game)
    decoded = decode_examples(examples, config.image_size, read)
    for ref, reason in decoded.failures:
        log.warning("skipping frame %s: %s", ref, reason)
    if len(decoded.images) < 2 * config.batch_size:
        raise DatasetError(
            f"{len(decoded.images)} readable frames: need at least {2 * config.batch_size} "
            "(two batches) to pretrain"
        )
    model, backbone = contrastive_model(config)
    model.compile(
        optimizer=keras.optimizers.AdamW(config.learning_rate, weight_decay=1e-4),
        loss=nt_xent(config.temperature),
    )
    # Whole batches only: the loss compares each frame with the rest of its batch.
    usable = len(decoded.images) // config.batch_size * config.batch_size
    order = np.random.default_rng(config.seed).permutation(len(decoded.images))[:usable]
    timer = EpochTimer()
    history = model.fit(
        decoded.images[order],
        np.zeros(usable, np.float32),
        epochs=config.epochs,
        batch_size=config.batch_size,
        callbacks=[timer],
        verbose=config.verbose,
    )
    out.mkdir(parents=True, exist_ok=True)
    backbone.save_weights(out / WEIGHTS_FILE)
    report = {
        "config": asdict(config),
        "frames": usable,
        "games": len({e.game for e in decoded.examples}),
        "unreadable": len(decoded.failures),
        "loss": [round(float(v), 4) for v in history.history["loss"]],
        "epoch_seconds": timer.seconds,
        "weights": str(out / WEIGHTS_FILE),
    }
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report
