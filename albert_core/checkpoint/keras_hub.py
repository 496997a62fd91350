"""keras-hub ALBERT preset folders (`config.json` + `model.weights.h5`, and for a masked-LM task
`task.json` + `task.weights.h5`), read-only, with h5py.

keras-hub (Keras 3) saves weights by object tree: `layers/<layer>/vars/<i>`, where a layer's key
is its class name in snake case, numbered in the model's layer order (`dense`, `dense_1`, ...;
`transformer_encoder`, `transformer_encoder_1`, ... in group-major order), and `vars/<i>` follows
the order the layer creates its variables (Dense: kernel, bias; LayerNormalization: gamma, beta).
The table below spells out where each canonical tensor lives and how its layout differs:
Q/K/V kernels are [H, heads, head_dim], their biases [heads, head_dim], the attention output
kernel [heads, head_dim, H].

keras-hub's masked-LM head normalises with epsilon 1e-5 (HF and the original code: 1e-12), so a
preset with that head gives a config with `mlm_layer_norm_eps=1e-5`, which every backend honours.
keras-hub's activation is the tanh-approximated GELU (HF's "gelu_new").
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import AlbertConfig
from ..errors import CheckpointError, ConfigError, require
from ..schema import BASE_PREFIX, layer_prefix
from .hf_tf_h5 import H5Weights
from .state import CanonicalState

BACKBONE_WEIGHTS = "model.weights.h5"
TASK_WEIGHTS = "task.weights.h5"
TASK_CONFIG = "task.json"
KERAS_HUB_MLM_LAYER_NORM_EPS = 1e-5  # keras_hub MaskedLMHead's default, which AlbertMaskedLM keeps
_BACKBONE_CLASS = "AlbertBackbone"
_MLM_CLASS = "AlbertMaskedLM"


def is_keras_hub_preset(folder: Path) -> bool:
    config = folder / "config.json"
    if not (config.is_file() and (folder / BACKBONE_WEIGHTS).is_file()):
        return False
    try:
        return "registered_name" in json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _task_class(folder: Path) -> str | None:
    task = folder / TASK_CONFIG
    return _json(task).get("class_name") if task.is_file() else None


def keras_hub_config(folder: str | os.PathLike) -> AlbertConfig:
    """AlbertConfig of a keras-hub ALBERT preset (backbone config.json, task.json for the head)."""
    folder = Path(folder)
    data = _json(folder / "config.json")
    if data.get("class_name") != _BACKBONE_CLASS:
        raise ConfigError(f"{folder}/config.json is a keras-hub {data.get('class_name')!r}, not an {_BACKBONE_CLASS}")
    c = data.get("config", {})
    try:
        config = AlbertConfig(
            vocab_size=c["vocabulary_size"],
            embedding_size=c["embedding_dim"],
            hidden_size=c["hidden_dim"],
            num_hidden_layers=c["num_layers"],
            num_hidden_groups=c["num_groups"],
            num_attention_heads=c["num_heads"],
            intermediate_size=c["intermediate_dim"],
            inner_group_num=c["num_inner_repetitions"],
            hidden_act="gelu_new",
            hidden_dropout_prob=float(c["dropout"]),
            attention_probs_dropout_prob=float(c["dropout"]),
            max_position_embeddings=c["max_sequence_length"],
            type_vocab_size=c["num_segments"],
            mlm_layer_norm_eps=KERAS_HUB_MLM_LAYER_NORM_EPS if _task_class(folder) == _MLM_CLASS else None,
        )
    except KeyError as exc:
        raise ConfigError(f"{folder}/config.json lacks the AlbertBackbone field {exc}") from exc
    return config


def _dense(path: str, kernel: Callable | None = None) -> dict[str, tuple[str, Callable]]:
    """Canonical (weight, bias) of a Dense layer stored at `path`; kernel [in, out] -> [out, in]."""
    return {"weight": (f"{path}/vars/0", kernel or (lambda a: a.T)), "bias": (f"{path}/vars/1", lambda a: a)}


def _norm(path: str) -> dict[str, tuple[str, Callable]]:
    return {"weight": (f"{path}/vars/0", lambda a: a), "bias": (f"{path}/vars/1", lambda a: a)}


def backbone_table(config: AlbertConfig) -> dict[str, tuple[str, Callable]]:
    """canonical name -> (dataset path in model.weights.h5, array -> canonical layout)."""
    hidden = config.hidden_size
    # [H, heads, head_dim] (Q/K/V) and [heads, head_dim, H] (output) are [in, out] once flattened.
    per_head_kernel = lambda a: a.reshape(hidden, hidden).T
    flat = lambda a: a.reshape(hidden)  # [heads, head_dim] -> [H]
    e = f"{BASE_PREFIX}embeddings"
    modules: dict[str, dict[str, tuple[str, Callable]]] = {
        f"{e}.word_embeddings": {"weight": ("layers/reversible_embedding/vars/0", lambda a: a)},
        f"{e}.position_embeddings": {"weight": ("layers/position_embedding/vars/0", lambda a: a)},
        f"{e}.token_type_embeddings": {"weight": ("layers/embedding/vars/0", lambda a: a)},
        f"{e}.LayerNorm": _norm("layers/layer_normalization"),
        f"{BASE_PREFIX}encoder.embedding_hidden_mapping_in": _dense("layers/dense"),
        f"{BASE_PREFIX}pooler": _dense("layers/dense_1"),
    }
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            i = g * config.inner_group_num + k
            layer = "layers/transformer_encoder" + (f"_{i}" if i else "")
            attention = f"{layer}/_self_attention_layer"
            ours = layer_prefix(g, k)
            for proj in ("query", "key", "value"):
                modules[f"{ours}.attention.{proj}"] = {
                    "weight": (f"{attention}/{proj}_dense/vars/0", per_head_kernel),
                    "bias": (f"{attention}/{proj}_dense/vars/1", flat),
                }
            modules[f"{ours}.attention.dense"] = _dense(f"{attention}/output_dense", kernel=per_head_kernel)
            modules[f"{ours}.attention.LayerNorm"] = _norm(f"{layer}/_self_attention_layer_norm")
            modules[f"{ours}.ffn"] = _dense(f"{layer}/_feedforward_intermediate_dense")
            modules[f"{ours}.ffn_output"] = _dense(f"{layer}/_feedforward_output_dense")
            modules[f"{ours}.full_layer_layer_norm"] = _norm(f"{layer}/_feedforward_layer_norm")
    return {f"{module}.{leaf}": where for module, leaves in modules.items() for leaf, where in leaves.items()}


def mlm_table() -> dict[str, tuple[str, Callable]]:
    """canonical name -> (dataset path in task.weights.h5, layout) for AlbertMaskedLM's head."""
    head = "layers/masked_lm_head"
    return {
        "predictions.bias": (f"{head}/vars/0", lambda a: a),
        **{f"predictions.dense.{k}": v for k, v in _dense(f"{head}/_intermediate_dense").items()},
        **{f"predictions.LayerNorm.{k}": v for k, v in _norm(f"{head}/_intermediate_layer_norm").items()},
    }


def _read_table(h5py, path: Path, table: dict[str, tuple[str, Callable]], state: CanonicalState) -> None:
    try:
        with h5py.File(path, "r") as f:
            weights = H5Weights(h5py, path)
            absent = [where for where, _ in table.values() if where not in f]
            if absent:
                raise CheckpointError(
                    f"{path} does not have the layout of a keras-hub ALBERT with this config; absent: {', '.join(absent)}"
                )
            for name, (where, to_canonical) in table.items():
                array = weights.read(f[where], where)
                try:
                    state[name] = np.ascontiguousarray(to_canonical(array))
                except ValueError as exc:  # a reshape to the config's head layout
                    raise CheckpointError(f"{path}: {where} has shape {list(array.shape)}, which does not fit this config") from exc
    except (OSError, RuntimeError) as exc:  # RuntimeError: h5py on damaged metadata
        raise CheckpointError(f"{path} is truncated or not an HDF5 file: {exc}") from exc


def read_keras_hub(folder: str | os.PathLike, config: AlbertConfig) -> CanonicalState:
    """The canonical state of a keras-hub preset: backbone, plus the MLM head of an AlbertMaskedLM."""
    folder = Path(folder)
    h5py = require("h5py", f"reading the keras-hub preset {folder}", extra="formats")
    state = CanonicalState(source=str(folder))
    _read_table(h5py, folder / BACKBONE_WEIGHTS, backbone_table(config), state)
    task = _task_class(folder)
    if task == _MLM_CLASS and (folder / TASK_WEIGHTS).is_file():
        _read_table(h5py, folder / TASK_WEIGHTS, mlm_table(), state)
    elif task is not None and (folder / TASK_WEIGHTS).is_file():
        raise CheckpointError(
            f"{folder}: keras-hub task {task} is not supported (its head's weights would be lost); "
            f"supported: the backbone alone and {_MLM_CLASS}"
        )
    return state
