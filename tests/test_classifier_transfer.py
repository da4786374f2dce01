"""Transfer and distillation: `train` on EfficientNet-Lite0's ImageNet features writes a
usable model whose card names its backbone; fine-tuning moves only the top blocks
(BatchNorm statistics and the lower blocks keep ImageNet's values); a student learns only
from a teacher that held out the same test games."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from classifier import lite0, transfer
from classifier.dataset import examples_from_dir
from classifier.errors import DatasetError
from classifier.predict import KerasPredictor
from classifier.train import TrainConfig, train
from conftest import SAMPLE_FRAMES

SIZE = 64  # small frames keep the test quick; the port itself is checked at 224 px


def backbone_of(network: keras.Model) -> keras.Model:
    return next(layer for layer in network.layers if layer.name == "efficientnet_lite0")


def assert_as_imagenet(network: keras.Model, names: tuple[str, ...]) -> None:
    """These layers of `network` hold exactly the ImageNet checkpoint's weights."""
    imagenet = lite0.pretrained(SIZE)
    for name in names:
        got, want = network.get_layer(name).get_weights(), imagenet.get_layer(name).get_weights()
        for mine, theirs in zip(got, want, strict=True):
            np.testing.assert_array_equal(mine, theirs, err_msg=name)


def test_train_on_imagenet_features_writes_a_model_whose_card_names_its_backbone(
    tmp_path: Path,
) -> None:
    config = TrainConfig(
        image_size=SIZE,
        epochs=4,
        batch_size=32,
        patience=4,
        backbone="imagenet-lite0",
        fine_tune_epochs=1,
        learning_rate=5e-2,  # a large rate, so one epoch of fine-tuning moves the weights
        verbose=0,
    )
    card = train(examples_from_dir(SAMPLE_FRAMES), tmp_path, config, data_description="sample")

    assert card.backbone.startswith("EfficientNet-Lite0, ImageNet-1k")
    assert lite0.WEIGHTS_PACKAGE in card.backbone
    assert card.validation["frames"] > 0 and 0.0 <= card.validation["balanced_accuracy"] <= 1.0
    run = KerasPredictor(tmp_path)  # the saved model, as `label` loads it
    predictions = run(np.zeros((2, SIZE, SIZE, 3), np.uint8))
    assert predictions.shape == (2, len(card.classes))
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)

    trained = backbone_of(keras.saving.load_model(tmp_path / "model.keras"))
    assert_as_imagenet(trained, ("stem_conv", "block3_dw_conv", "block11_project_conv"))


def test_fine_tune_trains_the_top_blocks_and_leaves_the_rest_as_imagenet_made_them() -> None:
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 256, (48, SIZE, SIZE, 3), dtype=np.uint8)
    labels = (frames.mean(axis=(1, 2, 3)) > 127.5).astype(np.int32)
    config = transfer.TransferConfig(
        image_size=SIZE,
        learning_rate=5e-2,
        batch_size=16,
        fine_tune_epochs=0,
        patience=2,
        seed=1,
        augmentation="basic",
        verbose=0,
    )
    probe = transfer.fit((frames, labels), (frames, labels), 2, config, [], {0: 1.0, 1: 1.0})
    assert probe.backbone.endswith("linear probe")
    features = backbone_of(probe.network)

    one_epoch = dataclasses.replace(config, fine_tune_epochs=1)
    tuned = transfer.fine_tune(
        probe.network, features, (frames, labels), (frames, labels), one_epoch, [], {0: 1.0, 1: 1.0}
    )

    assert len(tuned["val_balanced_accuracy"]) == 1
    imagenet = lite0.pretrained(SIZE)
    moved = features.get_layer("block15_project_conv").get_weights()[0]
    assert not np.array_equal(moved, imagenet.get_layer("block15_project_conv").get_weights()[0])
    assert_as_imagenet(features, ("block3_dw_conv", "block11_project_conv", "block14_dw_bn"))
    assert_as_imagenet(features, ("head_bn",))  # fine-tuned block, frozen statistics


@pytest.mark.parametrize("classes", [2, 4])
def test_the_probe_layer_computes_the_logistic_regression_it_was_fitted_as(classes: int) -> None:
    rng = np.random.default_rng(classes)
    centres = rng.normal(size=(classes, 16))
    labels = rng.integers(0, classes, 300)
    features = (centres[labels] + rng.normal(scale=1.5, size=(300, 16))).astype(np.float32)
    weights = {c: 1.0 for c in range(classes)}

    kernel, bias, history = transfer.fit_probe(
        (features[:200], labels[:200]), (features[200:], labels[200:]), classes, weights
    )

    chosen = transfer.PROBE_C[int(np.argmax(history["val_balanced_accuracy"]))]
    reference = LogisticRegression(C=chosen, class_weight=weights, max_iter=3000)
    reference.fit(features[:200], labels[:200])
    dense = keras.layers.Dense(classes, activation="softmax")
    dense.build((None, 16))
    dense.set_weights([kernel, bias])
    got = keras.ops.convert_to_numpy(dense(features[200:]))
    np.testing.assert_allclose(got, reference.predict_proba(features[200:]), atol=1e-5)
    assert len(history["val_balanced_accuracy"]) == len(transfer.PROBE_C)


def test_a_weights_file_with_the_imagenet_backbone_is_refused(tmp_path: Path) -> None:
    config = TrainConfig(backbone="imagenet-lite0", weights=tmp_path / "backbone.weights.h5")
    with pytest.raises(DatasetError, match="for the scratch backbone"):
        train(examples_from_dir(SAMPLE_FRAMES), tmp_path, config, data_description="sample")


def test_a_student_learns_from_a_teacher_with_the_same_test_games_only(tmp_path: Path) -> None:
    examples = examples_from_dir(SAMPLE_FRAMES)
    quick = TrainConfig(image_size=32, epochs=1, batch_size=32, patience=1, seed=7, verbose=0)
    teacher = train(examples, tmp_path / "teacher", quick, data_description="sample")

    student = train(
        examples,
        tmp_path / "student",
        dataclasses.replace(quick, teacher=tmp_path / "teacher"),
        data_description="sample",
    )

    assert student.backbone == (
        f"MobileNetV3-Small distilled from {teacher.version} "
        "(MobileNetV3-Small trained from scratch)"
    )
    assert student.test_keys == teacher.test_keys and student.classes == teacher.classes
    other_split = dataclasses.replace(quick, seed=8, teacher=tmp_path / "teacher")
    with pytest.raises(DatasetError, match="held out other test games"):
        train(examples, tmp_path / "leaky", other_split, data_description="sample")
