"""Which checkpoint format a path holds, and the reader for each.

A folder is searched in HF's order of preference (safetensors, then sharded safetensors, the
PyTorch pickle, TF h5, Flax msgpack), then for a keras-hub preset and a TF1 checkpoint; a file is
recognised by its name. Each reader imports only what its format needs, when it runs.
"""

from __future__ import annotations

import os
import re
from enum import Enum
from pathlib import Path
from typing import Callable

from ..config import AlbertConfig
from ..errors import CheckpointError
from .state import CanonicalState


class Format(str, Enum):
    SAFETENSORS = "safetensors"
    SAFETENSORS_SHARDED = "safetensors-sharded"
    TORCH_BIN = "pytorch"
    TORCH_BIN_SHARDED = "pytorch-sharded"
    TF_H5 = "tf"
    FLAX_MSGPACK = "flax"
    TF1 = "tf1"
    KERAS_HUB = "keras-hub"


# HF's file names, in the order a folder (or a hub repo) is searched.
HF_FILES: list[tuple[Format, str]] = [
    (Format.SAFETENSORS, "model.safetensors"),
    (Format.SAFETENSORS_SHARDED, "model.safetensors.index.json"),
    (Format.TORCH_BIN, "pytorch_model.bin"),
    (Format.TORCH_BIN_SHARDED, "pytorch_model.bin.index.json"),
    (Format.TF_H5, "tf_model.h5"),
    (Format.FLAX_MSGPACK, "flax_model.msgpack"),
]
# Every file name a save may write (for not carrying stale weights into a new save).
WEIGHT_FILE_PATTERN = re.compile(
    r"^(model(-\d{5}-of-\d{5})?\.safetensors|model\.safetensors\.index\.json|"
    r"pytorch_model(-\d{5}-of-\d{5})?\.bin|pytorch_model\.bin\.index\.json|tf_model\.h5|flax_model\.msgpack)$"
)


def _is_tf1(path: Path) -> bool:
    if path.is_dir():
        return (path / "checkpoint").is_file() or any(path.glob("*.index"))
    return path.suffix == ".index" or bool(re.search(r"\.data-\d+-of-\d+$", path.name)) or Path(f"{path}.index").is_file()


def detect_format(path: str | os.PathLike) -> tuple[Format, Path]:
    """(format, the path its reader takes) for a checkpoint folder or file."""
    from .keras_hub import is_keras_hub_preset

    path = Path(path)
    if path.is_dir():
        for fmt, name in HF_FILES:
            if (path / name).is_file():
                return fmt, path / name
        if is_keras_hub_preset(path):
            return Format.KERAS_HUB, path
        if _is_tf1(path):
            return Format.TF1, path
        raise CheckpointError(
            f"no checkpoint in folder {path}: looked for {', '.join(n for _, n in HF_FILES)}, "
            "a keras-hub preset (config.json + model.weights.h5) and a TF1 checkpoint (*.index)"
        )
    name = path.name
    if name.endswith(".safetensors.index.json"):
        return Format.SAFETENSORS_SHARDED, path
    if name.endswith(".bin.index.json"):
        return Format.TORCH_BIN_SHARDED, path
    if name.endswith(".safetensors"):
        return Format.SAFETENSORS, path
    if name.endswith((".bin", ".pt", ".pth")):
        return Format.TORCH_BIN, path
    if name == "model.weights.h5":
        return Format.KERAS_HUB, path.parent
    if name.endswith(".h5"):
        return Format.TF_H5, path
    if name.endswith(".msgpack"):
        return Format.FLAX_MSGPACK, path
    if _is_tf1(path):
        return Format.TF1, path
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    raise CheckpointError(f"cannot tell the checkpoint format of {path} from its name")


def _read_sharded_safetensors(path: Path, config: AlbertConfig) -> CanonicalState:
    from .safetensors_io import read_safetensors, read_sharded

    return read_sharded(path, read_safetensors)


def _read_sharded_bin(path: Path, config: AlbertConfig) -> CanonicalState:
    from .safetensors_io import read_sharded
    from .torch_bin import read_torch_bin

    return read_sharded(path, read_torch_bin)


def _reader(module: str, function: str, needs_config: bool) -> Callable[[Path, AlbertConfig], CanonicalState]:
    def read(path: Path, config: AlbertConfig) -> CanonicalState:
        import importlib

        fn = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        return fn(path, config) if needs_config else fn(path)

    return read


READERS: dict[Format, Callable[[Path, AlbertConfig], CanonicalState]] = {
    Format.SAFETENSORS: _reader("safetensors_io", "read_safetensors", False),
    Format.SAFETENSORS_SHARDED: _read_sharded_safetensors,
    Format.TORCH_BIN: _reader("torch_bin", "read_torch_bin", False),
    Format.TORCH_BIN_SHARDED: _read_sharded_bin,
    Format.TF_H5: _reader("hf_tf_h5", "read_hf_tf_h5", False),
    Format.FLAX_MSGPACK: _reader("hf_flax_msgpack", "read_hf_flax_msgpack", False),
    Format.TF1: _reader("tf1", "read_tf1", True),
    Format.KERAS_HUB: _reader("keras_hub", "read_keras_hub", True),
}
