"""Which checkpoint a command-line path names: a file, a TF1 prefix, a hub id, or a folder that
holds exactly one checkpoint.

A folder is ambiguous when it holds two candidate checkpoints: HF weights and a TF1 checkpoint,
two TF1 checkpoints with no `checkpoint` file saying which is current, or a stray weights file
beside HF's. The user then names one (the file, or `--from FORMAT`); guessing could convert or
verify the wrong weights. HF's own several-formats-of-one-model folders (model.safetensors +
tf_model.h5 + ...) are one candidate, read in HF's order of preference, as HF reads them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint.formats import HF_FILES, WEIGHT_FILE_PATTERN, Format, detect_format
from ..errors import CheckpointError
from ..hub import looks_like_hub_id

# The names `--from` and `--to` take, and the formats each covers.
FORMAT_NAMES: dict[str, tuple[Format, ...]] = {
    "safetensors": (Format.SAFETENSORS, Format.SAFETENSORS_SHARDED),
    "hf-torch": (Format.TORCH_BIN, Format.TORCH_BIN_SHARDED),
    "hf-tf": (Format.TF_H5,),
    "hf-flax": (Format.FLAX_MSGPACK,),
    "tf1": (Format.TF1,),
    "keras-hub": (Format.KERAS_HUB,),
}
NAME_OF_FORMAT = {fmt: name for name, formats in FORMAT_NAMES.items() for fmt in formats}

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack")
_KERAS_HUB_FILES = {"model.weights.h5", "task.weights.h5"}
_TF1_STATE_FILE = "checkpoint"


@dataclass
class Source:
    """A resolved checkpoint: its format and the path load_checkpoint takes for it."""

    format: Format | None  # None for a hub id (resolved by load_checkpoint through the HF cache)
    path: str | Path
    others: list[str] = field(default_factory=list)  # other HF formats of the same weights in the folder

    @property
    def format_name(self) -> str:
        return NAME_OF_FORMAT[self.format] if self.format is not None else "hub"


def _tf1_prefixes(folder: Path) -> list[Path]:
    """The TF1 checkpoints of a folder: the one its `checkpoint` file names, else every *.index."""
    if (folder / _TF1_STATE_FILE).is_file():
        from ..checkpoint.tf1 import checkpoint_prefix

        return [checkpoint_prefix(folder)]
    return sorted(p.with_suffix("") for p in folder.glob("*.index"))


def candidates(folder: Path) -> list[tuple[str, Source]]:
    """Every checkpoint a folder could mean, as (description, Source)."""
    from ..checkpoint.keras_hub import is_keras_hub_preset

    found: list[tuple[str, Source]] = []
    hf = [(fmt, folder / name) for fmt, name in HF_FILES if (folder / name).is_file()]
    if hf:
        names = [path.name for _, path in hf]
        found.append((f"HF weights ({', '.join(names)})", Source(hf[0][0], hf[0][1], names[1:])))
    if is_keras_hub_preset(folder):
        found.append(("a keras-hub preset (model.weights.h5)", Source(Format.KERAS_HUB, folder)))
    for prefix in _tf1_prefixes(folder):
        found.append((f"a TF1 checkpoint ({prefix.name})", Source(Format.TF1, prefix)))
    for path in sorted(folder.iterdir()):
        if (
            path.is_file()
            and path.name.endswith(_WEIGHT_SUFFIXES)
            and not WEIGHT_FILE_PATTERN.match(path.name)
            and path.name not in _KERAS_HUB_FILES
            and not re.match(r"^(model|pytorch_model)-\d{5}-of-\d{5}\.", path.name)
        ):
            found.append((f"the file {path.name}", Source(*detect_format(path))))
    return found


def resolve_source(path: str | os.PathLike, format_name: str | None = None) -> Source:
    """The one checkpoint `path` names (`format_name`, a FORMAT_NAMES key, picks one in a folder)."""
    if format_name is not None and format_name not in FORMAT_NAMES:
        raise CheckpointError(f"unknown format {format_name!r}; known: {', '.join(FORMAT_NAMES)}")
    path = Path(path)
    if not path.exists() and not Path(f"{path}.index").is_file():
        if looks_like_hub_id(str(path)):
            return Source(None, str(path))
        raise FileNotFoundError(f"{path} does not exist (neither a file, a folder, a TF1 checkpoint prefix nor a hub id)")
    if not path.is_dir():
        fmt, resolved = detect_format(path)
        if format_name is not None and fmt not in FORMAT_NAMES[format_name]:
            raise CheckpointError(f"{path} is a {NAME_OF_FORMAT[fmt]} checkpoint, not {format_name}")
        return Source(fmt, resolved)
    found = candidates(path)
    if format_name is not None:
        found = [(what, src) for what, src in found if src.format in FORMAT_NAMES[format_name]]
        # Within HF's several-formats folder, --from picks that format's file, not the preferred one.
        for fmt, name in HF_FILES:
            if fmt in FORMAT_NAMES[format_name] and (path / name).is_file():
                return Source(fmt, path / name)
    if not found:
        raise CheckpointError(
            f"no {format_name + ' ' if format_name else ''}checkpoint in folder {path}: looked for "
            f"{', '.join(n for _, n in HF_FILES)}, a keras-hub preset and TF1 checkpoints (*.index)"
        )
    if len(found) > 1:
        listed = "; ".join(what for what, _ in found)
        raise CheckpointError(
            f"folder {path} holds {len(found)} candidate checkpoints ({listed}): name the file to use, "
            "or pass --from FORMAT"
        )
    return found[0][1]
