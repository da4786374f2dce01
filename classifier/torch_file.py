"""Reading a PyTorch state dict saved in the legacy (non-zip) format into numpy, without torch.

The legacy format is four pickles in a row — a magic number, the format version, the
writer's type sizes, the state dict — then the list of storage keys, then each storage's
raw bytes (an int64 element count, then the elements) in that list's order. The state dict
names its tensors by `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)`
and its storages by persistent ids. The unpickler below resolves only those names, so a
file can build nothing but arrays.
"""

from __future__ import annotations

import collections
import pickle
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class TorchFileError(ValueError):
    """The file is not a legacy PyTorch state dict this reader understands."""


class _TensorRef(NamedTuple):
    storage_key: str
    offset: int  # in elements
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in elements


def _rebuild_tensor(storage: str, offset: int, shape: Any, strides: Any, *_: Any) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(shape), tuple(strides))


class _StateDictUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], storage_types: dict[str, str]) -> None:
        super().__init__(file)
        self.storage_types = storage_types

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        raise TorchFileError(f"refuses to build {module}.{name}: not part of a state dict")

    def persistent_load(self, pid: Any) -> str:
        # ("storage", storage type, key, location, element count[, view metadata])
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise TorchFileError(f"unexpected persistent id {pid!r}")
        self.storage_types[str(pid[2])] = str(pid[1])
        return str(pid[2])


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a legacy `torch.save` state dict, as little-endian numpy arrays."""
    try:
        with path.open("rb") as file:
            return _read(file)
    except TorchFileError:
        raise
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as error:
        raise TorchFileError(f"{type(error).__name__}: {error}") from error


def _read(file: IO[bytes]) -> dict[str, np.ndarray]:
    storage_types: dict[str, str] = {}

    def load() -> Any:
        return _StateDictUnpickler(file, storage_types).load()

    if load() != MAGIC_NUMBER:
        raise TorchFileError("no PyTorch magic number (a zip-format file, or not PyTorch's)")
    if load() != PROTOCOL_VERSION:
        raise TorchFileError("unknown PyTorch legacy format version")
    system = load()
    if not (isinstance(system, dict) and system.get("little_endian")):
        raise TorchFileError("written on a big-endian machine")
    state = load()
    if not isinstance(state, dict):
        raise TorchFileError("the file holds no state dict")
    storages: dict[str, np.ndarray] = {}
    for key in load():
        dtype = STORAGE_DTYPES[storage_types[key]]
        count = int(np.frombuffer(_exactly(file, 8), "<i8")[0])
        storages[key] = np.frombuffer(_exactly(file, count * dtype.itemsize), dtype)
    tensors = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            raise TorchFileError(f"{name} is not a tensor")
        storage = storages[ref.storage_key]
        needed = (
            ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.strides, strict=True)) + 1
        )
        if needed > len(storage) and all(ref.shape):
            raise TorchFileError(f"{name} reaches past the end of its storage")
        view = np.lib.stride_tricks.as_strided(
            storage[ref.offset :],
            shape=ref.shape,
            strides=tuple(s * storage.itemsize for s in ref.strides),
        )
        tensors[name] = np.array(view)  # a copy: owns its memory, writable
    return tensors


def _exactly(file: IO[bytes], size: int) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise TorchFileError("the file ends early (truncated)")
    return data
