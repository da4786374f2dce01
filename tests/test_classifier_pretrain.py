"""Self-supervised pretraining: the NT-Xent loss against a hand computation, and a short
`pretrain` whose backbone weights `train --weights` starts from."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from classifier import model as model_lib
from classifier.dataset import examples_from_dir
from classifier.errors import DatasetError
from classifier.pretrain import WEIGHTS_FILE, PretrainConfig, nt_xent, pretrain
from conftest import SAMPLE_FRAMES


def hand_nt_xent(pairs: np.ndarray, temperature: float) -> np.ndarray:
    """SimCLR's loss written out: for view i of 2B, -log softmax over the other views of
    its partner's cosine similarity / temperature; a pair's loss is its two views' mean."""
    half = pairs.shape[1] // 2
    z = np.concatenate([pairs[:, :half], pairs[:, half:]])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    n, b = len(z), len(pairs)
    losses = []
    for i in range(n):
        partner = (i + b) % n
        others = [j for j in range(n) if j != i]
        logits = np.array([z[i] @ z[j] / temperature for j in others])
        positive = z[i] @ z[partner] / temperature
        losses.append(-(positive - np.log(np.exp(logits).sum())))
    return (np.array(losses[:b]) + np.array(losses[b:])) / 2


def test_nt_xent_matches_a_hand_computation_and_rewards_agreeing_views() -> None:
    rng = np.random.default_rng(3)
    pairs = rng.normal(size=(5, 8)).astype(np.float32)
    got = keras.ops.convert_to_numpy(nt_xent(0.5)(None, pairs))
    assert got.shape == (5,)
    np.testing.assert_allclose(got, hand_nt_xent(pairs, 0.5), rtol=1e-4)
    # Two views of each frame that agree score far better than views of random frames.
    features = rng.normal(size=(16, 4)).astype(np.float32)
    agreeing = np.concatenate([features, features + 0.01], axis=1)
    loss = nt_xent(0.2)
    random_pairs = rng.normal(size=(16, 8)).astype(np.float32)
    agreeing_loss = float(np.mean(keras.ops.convert_to_numpy(loss(None, agreeing))))
    random_loss = float(np.mean(keras.ops.convert_to_numpy(loss(None, random_pairs))))
    assert agreeing_loss < random_loss - 1.0


def test_pretrained_backbone_is_what_train_starts_from(tmp_path: Path) -> None:
    examples = examples_from_dir(SAMPLE_FRAMES)
    config = PretrainConfig(image_size=32, epochs=1, batch_size=16, projection=16, verbose=0)
    report = pretrain(examples, tmp_path, config)
    assert report["frames"] == len(examples) // 16 * 16 and report["unreadable"] == 0
    assert len(report["loss"]) == 1 and np.isfinite(report["loss"][0])
    weights = tmp_path / WEIGHTS_FILE
    loaded = model_lib.backbone(32, weights).get_weights()
    fresh = model_lib.backbone(32).get_weights()
    assert len(loaded) == len(fresh)
    assert any(not np.allclose(a, b) for a, b in zip(loaded, fresh, strict=True))
    classifier = model_lib.build(3, 32, weights=weights)
    inside = next(
        layer for layer in classifier.layers if isinstance(layer, keras.Model)
    ).get_weights()
    assert all(np.allclose(a, b) for a, b in zip(inside, loaded, strict=True))
    with pytest.raises(DatasetError, match="need at least 32"):
        pretrain(examples[:20], tmp_path / "few", config)
