"""HF's `pytorch_model.bin` (a torch.save'd state dict), read and written with torch.

Reading uses `weights_only=True`: a pickle that would run code is refused, and the error says so.
The zip is memory-mapped (`mmap=True`), so tensors are views of the file until converted.
"""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np

from ..atomic import atomic_file
from ..errors import CheckpointError, require
from .state import CanonicalState

TORCH_BIN_NAME = "pytorch_model.bin"
TORCH_BIN_INDEX_NAME = "pytorch_model.bin.index.json"


def _torch(needed_for: str):
    return require("torch", needed_for, extra="torch")


def _to_numpy(torch, tensor) -> np.ndarray:
    tensor = tensor.detach()  # a saved nn.Parameter (state_dict(keep_vars=True)) requires grad
    if tensor.dtype == torch.bfloat16:
        try:
            import ml_dtypes

            return tensor.view(torch.uint16).numpy().view(ml_dtypes.bfloat16)
        except ImportError:
            return tensor.float().numpy()
    return tensor.numpy()


def read_torch_bin(path: str | os.PathLike) -> CanonicalState:
    path = Path(path)
    torch = _torch(f"reading {path.name}")
    _check_crcs(path)
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path} is not a weights-only checkpoint: loading it would run code from the pickle, which "
            f"albert refuses ({str(exc).splitlines()[0]})"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - torch's unpickler meets damaged bytes with IndexError, KeyError, ...
        raise CheckpointError(f"{path} is truncated or not a PyTorch checkpoint: {type(exc).__name__}: {exc}") from exc
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]  # a training checkpoint that wraps the weights
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a state dict")
    state = CanonicalState(source=str(path))
    for name, value in obj.items():
        if not isinstance(value, torch.Tensor):
            state.skipped[name] = f"a {type(value).__name__}, not a tensor"
            continue
        if not _dense(value.shape, value.stride()):
            # The pickle holds each tensor's strides, unchecked: a damaged one (stride 0, a
            # shifted row length) would read the wrong elements of its storage, silently.
            raise CheckpointError(
                f"{path}: tensor {name} has strides {list(value.stride())} for shape {list(value.shape)}, "
                "which no saved weight has (its elements overlap or skip): the file is corrupt"
            )
        state[name] = _to_numpy(torch, value)
    return state


def _check_crcs(path: Path) -> None:
    """A zip-format .bin stores a CRC-32 per record, which torch.load (mmap) does not verify: check
    them all, so damaged tensor bytes or a damaged record header are refused, not loaded."""
    try:
        if not zipfile.is_zipfile(path):
            return  # the legacy format: no checksums to verify
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except Exception as exc:  # noqa: BLE001 - zipfile meets damaged headers with many error types
        raise CheckpointError(f"{path} is a damaged zip archive: {type(exc).__name__}: {exc}") from exc
    if bad is not None:
        raise CheckpointError(f"{path} is corrupt: its record {bad} fails its CRC-32 check")


def _dense(shape, strides) -> bool:
    """Whether a layout covers its elements once, without gaps: a contiguous tensor or a
    permutation of one (a saved transpose), as every real checkpoint's tensors are."""
    expected = 1
    for stride, size in sorted((s, n) for s, n in zip(strides, shape) if n > 1):
        if stride != expected:
            return False
        expected *= size
    return True


def write_torch_bin(path: str | os.PathLike, state: Mapping[str, np.ndarray]) -> Path:
    """torch.save of {name: tensor} (HF's pytorch_model.bin), written atomically."""
    path = Path(path)
    torch = _torch(f"writing {path.name}")
    tensors = {}
    for name, array in state.items():
        array = np.asarray(array)
        if array.dtype.name == "bfloat16":
            tensor = torch.from_numpy(np.ascontiguousarray(array).view(np.uint16)).view(torch.bfloat16)
        else:
            # No copy: torch.save only reads the bytes, so a read-only (memory-mapped) array can
            # back the tensor as it is; a copy would double the peak memory of a conversion.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                tensor = torch.from_numpy(np.ascontiguousarray(array))
        tensors[name] = tensor
    with atomic_file(path, "wb") as handle:
        torch.save(tensors, handle)
    return path
