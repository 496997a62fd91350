"""load_checkpoint / save_checkpoint: any supported checkpoint in, canonical folder out.

    config, state = load_checkpoint("albert/albert-base-v2")        # hub id (through the HF cache)
    config, state = load_checkpoint("path/to/folder_or_file", config=None)
    result = match_state(state, config, head)                        # see state.py
    save_checkpoint("out", config, result.state)                      # config.json + model.safetensors

Loading: find the format, read the config (an argument wins; else the one beside the weights),
read the tensors, bring names to canonical form, drop tied duplicates, warn about NaN/Inf.
Saving: check every tensor against the schema, then write the folder as a whole (a sibling temp
folder swapped in), so an interrupted save leaves the previous one intact. Files of the old folder
that are not weights (a tokenizer) are kept; old weight files are not, so no stale format survives.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..atomic import atomic_folder
from ..config import CONFIG_NAME, AlbertConfig
from ..errors import CheckpointError
from ..hub import looks_like_hub_id, resolve_file
from ..schema import Head, tensor_specs
from .formats import HF_FILES, READERS, WEIGHT_FILE_PATTERN, Format, detect_format
from .safetensors_io import SAFETENSORS_NAME, write_safetensors, write_sharded_safetensors
from .state import CanonicalState, drop_tied, infer_head, normalise_keys, warn_non_finite

# HF formats save_checkpoint writes besides the canonical model.safetensors, by the name a caller uses.
WRITABLE = ("pytorch", "tf", "flax")


def _config_for(fmt: Format, path: Path) -> AlbertConfig:
    """The config that lives beside a checkpoint."""
    if fmt is Format.KERAS_HUB:
        from .keras_hub import keras_hub_config

        return keras_hub_config(path)
    if fmt is Format.TF1:
        from .tf1 import checkpoint_prefix, config_beside

        config = config_beside(checkpoint_prefix(path))
        if config is None:
            raise CheckpointError(f"no {CONFIG_NAME} or albert_config.json beside {path}; pass config=")
        return config
    folder = path if path.is_dir() else path.parent
    if not (folder / CONFIG_NAME).is_file():
        raise CheckpointError(f"no {CONFIG_NAME} beside {path}; pass config= to say which ALBERT it holds")
    return AlbertConfig.from_json_file(folder / CONFIG_NAME)


def _resolve_hub(hub_id: str, revision: str | None) -> tuple[Format, Path, Path]:
    """(format, local weights path, local config.json) of a hub repo, via huggingface_hub's cache."""
    config_path = resolve_file(hub_id, CONFIG_NAME, revision)
    failures = []
    for fmt, name in HF_FILES:
        try:
            path = resolve_file(hub_id, name, revision)
        except FileNotFoundError as exc:
            failures.append(f"{name}: {exc}")
            continue
        if fmt in (Format.SAFETENSORS_SHARDED, Format.TORCH_BIN_SHARDED):
            from .safetensors_io import read_index

            for shard in sorted(set(read_index(path).values())):
                resolve_file(hub_id, shard, revision)  # lands beside the index in the snapshot folder
        return fmt, path, config_path
    raise CheckpointError(f"hub repo {hub_id!r} provides no weights file this reader knows: " + "; ".join(failures))


def load_checkpoint(
    path_or_hub_id: str | os.PathLike,
    config: AlbertConfig | None = None,
    revision: str | None = None,
) -> tuple[AlbertConfig, CanonicalState]:
    """(config, canonical state) of a checkpoint folder, file or hub id, in any supported format."""
    path = Path(path_or_hub_id)
    if not path.exists() and looks_like_hub_id(str(path_or_hub_id)):
        fmt, path, config_path = _resolve_hub(str(path_or_hub_id), revision)
        if config is None:
            config = AlbertConfig.from_json_file(config_path)
    else:
        if not path.exists() and not (path.parent.is_dir() and Path(f"{path}.index").is_file()):
            raise FileNotFoundError(f"{path_or_hub_id} is neither an existing path nor a hub id")
        fmt, path = detect_format(path)
        if config is None:
            config = _config_for(fmt, path)
    raw = READERS[fmt](path, config)
    state = drop_tied(normalise_keys(raw, source=raw.source or str(path)), config)
    warn_non_finite(state, state.source)
    return config, state


def _check_writable(state: Mapping[str, np.ndarray], config: AlbertConfig) -> CanonicalState:
    """The state without tied copies, after checking every tensor is a schema tensor of the right
    shape (for some head of this config): nothing unknown is written."""
    state = drop_tied(normalise_keys(state), config)
    # `classifier` is [num_labels, H] in two heads and [1, H] in multiple choice: any head's shape is fine.
    shapes: dict[str, set] = {}
    for head in Head:
        for spec in tensor_specs(config, head):
            shapes.setdefault(spec.name, set()).add(spec.shape)
    problems = []
    for name, array in state.items():
        if name not in shapes:
            problems.append(f"{name} is not an ALBERT tensor")
        elif tuple(np.shape(array)) not in shapes[name]:
            want = " or ".join(str(list(s)) for s in sorted(shapes[name]))
            problems.append(f"{name} has shape {list(np.shape(array))}, the config says {want}")
    if problems:
        raise CheckpointError(f"refusing to save ({len(problems)} problem(s)): " + "; ".join(problems))
    return state


def _carry_over(old: Path, new: Path) -> None:
    """Copy the files of an existing folder that are not weights (tokenizer, README) into the new one."""
    if not old.is_dir():
        return
    for entry in old.iterdir():
        if entry.name.startswith(".") or WEIGHT_FILE_PATTERN.match(entry.name) or entry.name == CONFIG_NAME:
            continue
        if entry.is_dir():
            shutil.copytree(entry, new / entry.name)
        else:
            shutil.copy2(entry, new / entry.name)


def save_checkpoint(
    folder: str | os.PathLike,
    config: AlbertConfig,
    state: Mapping[str, np.ndarray],
    extra_formats: Iterable[str] = (),
    max_shard_size: int | None = None,
    head: Head | str | None = None,
) -> Path:
    """Write `folder`: config.json + model.safetensors (canonical names, what every backend and HF
    PyTorch read), plus on request HF's other formats (`extra_formats`: "pytorch" for
    pytorch_model.bin, "tf" for tf_model.h5, "flax" for flax_model.msgpack), so HF's TF and Flax
    classes load the folder without from_pt. `max_shard_size` (bytes) shards the safetensors file
    as HF does. `head` decides the TF/Flax layout when the tensors alone cannot tell."""
    formats = list(dict.fromkeys(extra_formats))
    unknown = [f for f in formats if f not in WRITABLE]
    if unknown:
        raise ValueError(f"cannot write format(s) {unknown}; writable: {', '.join(WRITABLE)}")
    state = _check_writable(state, config)
    head = Head(head) if head is not None else infer_head(state, config)
    metadata = {"format": "pt"}  # what HF's PyTorch loader expects of a safetensors file
    folder = Path(folder)
    with atomic_folder(folder, keep_existing=False) as tmp:
        _carry_over(folder, tmp)
        config.save_pretrained(tmp)
        total = sum(np.asarray(a).nbytes for a in state.values())
        if max_shard_size is not None and total > max_shard_size:
            write_sharded_safetensors(tmp, state, max_shard_size, metadata)
        else:
            write_safetensors(tmp / SAFETENSORS_NAME, state, metadata)
        if "pytorch" in formats:
            from .torch_bin import TORCH_BIN_NAME, write_torch_bin

            write_torch_bin(tmp / TORCH_BIN_NAME, state)
        if "tf" in formats:
            from .hf_tf_h5 import TF_H5_NAME, write_hf_tf_h5

            write_hf_tf_h5(tmp / TF_H5_NAME, state, config, head)
        if "flax" in formats:
            from .hf_flax_msgpack import FLAX_MSGPACK_NAME, write_hf_flax_msgpack

            write_hf_flax_msgpack(tmp / FLAX_MSGPACK_NAME, state, config, head)
    return folder

