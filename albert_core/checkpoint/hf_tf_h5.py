"""HF transformers' TF checkpoint, `tf_model.h5`, read and written with h5py (no TensorFlow).

Layout (Keras 2 `save_weights` h5, as HF's TF models write it): the root attribute `layer_names`
lists the model's top layers (`albert`, `predictions`, `sop_classifier`, `classifier`,
`qa_outputs`); each layer's group has a `weight_names` attribute, and each weight is a dataset at
that name inside the group. A weight name is
`<model class in snake case>/<module path with list items as "_._N">/<leaf>:0`, e.g.
`tf_albert_for_pre_training/albert/encoder/albert_layer_groups_._0/albert_layers_._0/ffn/kernel:0`.
The leading class name holds no information (HF strips it too) and is ignored here.

Names map to canonical ones by the schema's Keras leaf rule (kernel [in, out] / embeddings /
gamma / beta) with one HF-specific exception: the word embeddings' leaf is `weight`.
HF's MLM head layer also lists the embedding weights (it reuses that layer), so those appear twice.

The MLM bias quirk: HF TF's MLM logits add `predictions/decoder/bias`, a variable of its own,
while `predictions/bias` is unused by its forward pass; loading a PyTorch checkpoint leaves the
former at zero. The writer writes both with the canonical `predictions.bias`; the reader takes the
one TF computes with (`decoder/bias`), except in files where the quirk left it all zero.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Mapping

import numpy as np

from ..atomic import atomic_file
from ..config import AlbertConfig
from ..errors import CheckpointError, require
from ..schema import ARCHITECTURES, BASE_PREFIX, Head, Style, canonical_leaf, leaf_name, module_path
from .state import CanonicalState, infer_head, specs_for_writing

TF_H5_NAME = "tf_model.h5"

_WORD_EMBEDDINGS = f"{BASE_PREFIX}embeddings.word_embeddings.weight"
_DECODER_BIAS = "predictions.decoder.bias"
_MLM_BIAS = "predictions.bias"
# Embedding-layer weights HF also lists under the `predictions` layer (the MLM head holds that layer).
_EMBEDDING_MODULE = f"{BASE_PREFIX}embeddings."


def _h5py(needed_for: str):
    return require("h5py", needed_for, extra="formats")


def _attr_list(group, name: str) -> list[str]:
    """A string-list attribute, joining the `name0`, `name1`... chunks Keras writes for long lists."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, k = [], 0
        while f"{name}{k}" in group.attrs:
            values.extend(group.attrs[f"{name}{k}"])
            k += 1
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


# deflate, HDF5's usual filter, cannot expand data more than ~1032-fold; no real checkpoint comes near.
_MAX_INFLATION = 1032


class H5Weights:
    """Reads the weight datasets of one h5 file, checking each against the file before numpy
    allocates it. HDF5 metadata has no checksums here, so a damaged (or forged) header is caught
    by consistency: the stored bytes must be exactly what dtype x shape needs and lie inside the
    file, no two datasets may share bytes, and floats must be the IEEE little-endian types every
    writer of these files uses (a flipped byte-order bit would otherwise load garbage silently)."""

    def __init__(self, h5py, path: Path):
        self.h5py = h5py
        self.path = path
        self.file_size = os.path.getsize(path)
        self.ranges: dict[tuple[int, int], str] = {}  # (offset, end) of contiguous data -> dataset
        self.float_types = [h5py.h5t.IEEE_F16LE, h5py.h5t.IEEE_F32LE, h5py.h5t.IEEE_F64LE]

    def _corrupt(self, where: str, why: str) -> CheckpointError:
        return CheckpointError(f"{self.path}: {where} {why}: the file is corrupt")

    def read(self, node, where: str) -> np.ndarray:
        if not isinstance(node, self.h5py.Dataset):
            raise CheckpointError(f"{self.path}: {where} is a {type(node).__name__}, not a weight dataset")
        dtype = node.dtype
        if dtype.kind in "OSUa" or dtype.hasobject:
            raise CheckpointError(f"{self.path}: {where} holds {dtype} values, not numbers")
        if dtype.kind == "f" and not any(node.id.get_type().equal(t) for t in self.float_types):
            raise self._corrupt(where, f"stores floats in a non-standard layout ({dtype.str})")
        nbytes = node.size * dtype.itemsize
        stored = node.id.get_storage_size()
        plist = node.id.get_create_plist()
        if plist.get_nfilters():  # compressed: bounded by what the filter could expand
            if nbytes > _MAX_INFLATION * max(stored, 1):
                raise self._corrupt(where, f"claims {nbytes} bytes from {stored} compressed ones")
        elif plist.get_layout() == self.h5py.h5d.CONTIGUOUS:
            offset = node.id.get_offset()
            if stored != nbytes or (nbytes and offset is None):
                raise self._corrupt(where, f"claims shape {list(node.shape)} {dtype} ({nbytes} bytes) but stores {stored}")
            if nbytes:
                span = (offset, offset + nbytes)
                if span[1] > self.file_size:
                    raise self._corrupt(where, f"has data at bytes [{span[0]}, {span[1]}) of a {self.file_size}-byte file")
                for (begin, end), other in self.ranges.items():
                    if span != (begin, end) and begin < span[1] and span[0] < end:
                        raise self._corrupt(where, f"shares stored bytes with {other}")
                self.ranges.setdefault(span, where)
        elif nbytes > max(stored, self.file_size):  # chunked without filters, or compact
            raise self._corrupt(where, f"claims {nbytes} bytes, more than the file holds")
        return np.asarray(node)


def tf_weight_name(name: str, kind_leaf: str) -> str:
    """Canonical module path + Keras leaf -> HF TF's weight name (without the class prefix)."""
    parts = name.split(".")[:-1]
    out: list[str] = []
    for part in parts:
        if part.isdigit():
            out[-1] = f"{out[-1]}_._{part}"  # HF TF names list items `albert_layer_groups_._0`
        else:
            out.append(part)
    return "/".join(out + [kind_leaf]) + ":0"


def canonical_name(tf_name: str) -> tuple[str, bool]:
    """HF TF weight name (class prefix already removed) -> (canonical name, is [in, out] kernel)."""
    if not tf_name.endswith(":0"):
        raise KeyError(tf_name)
    parts = tf_name[:-2].split("/")
    module = re.sub(r"_\._(\d+)", r".\1", ".".join(parts[:-1]))
    if parts[-1] == "weight":  # HF TF's word embeddings
        return f"{module}.weight", False
    leaf, is_kernel = canonical_leaf(parts[-1], Style.KERAS)
    return f"{module}.{leaf}", is_kernel


def read_hf_tf_h5(path: str | os.PathLike) -> CanonicalState:
    path = Path(path)
    h5py = _h5py(f"reading {path.name}")
    state = CanonicalState(source=str(path))
    try:
        with h5py.File(path, "r") as f:
            weights = H5Weights(h5py, path)
            if "layer_names" not in f.attrs and "layer_names0" not in f.attrs:
                raise CheckpointError(f"{path} is an h5 file but not a Keras/HF TF weights file (no 'layer_names')")
            for layer in _attr_list(f, "layer_names"):
                group = f[layer]
                for full_name in _attr_list(group, "weight_names"):
                    tf_name = full_name.split("/", 1)[1] if "/" in full_name else full_name
                    try:
                        name, is_kernel = canonical_name(tf_name)
                    except KeyError:
                        raise CheckpointError(f"{path}: weight {full_name} of layer {layer} is not an ALBERT weight name") from None
                    array = weights.read(group[full_name], full_name)
                    if is_kernel:
                        array = np.ascontiguousarray(array.T)
                    if name in state:  # the embeddings, listed again under `predictions`
                        if not np.array_equal(state[name], array):
                            raise CheckpointError(f"{path}: {full_name} appears twice with different values")
                        state.skipped[f"{layer}/{full_name}"] = f"a second copy of {name}"
                        continue
                    state[name] = array
    except OSError as exc:
        raise CheckpointError(f"{path} is truncated or not an HDF5 file: {exc}") from exc
    except KeyError as exc:
        raise CheckpointError(f"{path} is corrupt: a listed weight is missing ({exc})") from exc
    except CheckpointError:
        raise
    except (TypeError, ValueError, RuntimeError) as exc:  # a name list of the wrong kind, damaged metadata
        raise CheckpointError(f"{path} is not a valid HF TF weights file: {type(exc).__name__}: {exc}") from exc
    _resolve_mlm_bias(state, path)
    return state


def _resolve_mlm_bias(state: CanonicalState, path: Path) -> None:
    """Reduce HF TF's two MLM biases to the canonical `predictions.bias` (see the module doc)."""
    if _DECODER_BIAS not in state:
        return
    decoder_bias = state.pop(_DECODER_BIAS)
    bias = state.get(_MLM_BIAS)
    if bias is None or np.array_equal(bias, decoder_bias):
        state[_MLM_BIAS] = decoder_bias
        state.skipped["predictions/decoder/bias:0"] = "HF TF's copy of predictions.bias"
    elif not decoder_bias.any():
        state.skipped["predictions/decoder/bias:0"] = "all zero (HF TF's PyTorch-conversion quirk); predictions/bias used"
        warnings.warn(f"{path}: predictions/decoder/bias is all zero; using predictions/bias (HF TF quirk)", RuntimeWarning, stacklevel=3)
    else:
        state[_MLM_BIAS] = decoder_bias
        state.skipped["predictions/bias:0"] = "HF TF's logits use predictions/decoder/bias, which differs"
        warnings.warn(
            f"{path}: predictions/bias and predictions/decoder/bias differ; using decoder/bias, the one HF TF's logits add",
            RuntimeWarning,
            stacklevel=3,
        )


def _snake_case(class_name: str) -> str:
    """Keras's layer-name rule: TFAlbertForMaskedLM -> tf_albert_for_masked_lm."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def write_hf_tf_h5(path: str | os.PathLike, state: Mapping[str, np.ndarray], config: AlbertConfig, head: Head | None = None) -> Path:
    """Write `state` as HF TF's tf_model.h5 (HF's TFAlbert* classes load it, logits included)."""
    path = Path(path)
    h5py = _h5py(f"writing {path.name}")
    head = Head(head) if head is not None else infer_head(state, config)
    specs = specs_for_writing(state, config, head, path.name)
    prefix = _snake_case("TF" + ARCHITECTURES[head])
    has_mlm = any(name.startswith("predictions.") for name in specs)
    layers: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, value in state.items():
        spec = specs[name]
        if spec.tied_to is not None:
            continue  # HF TF reads a tied tensor from what it is tied to
        leaf = "weight" if name == _WORD_EMBEDDINGS else leaf_name(spec, Style.KERAS)
        array = np.asarray(value)
        array = array.T if leaf == "kernel" else array
        weight_name = f"{prefix}/{tf_weight_name(name, leaf)}"
        layers.setdefault(module_path(spec)[0], []).append((weight_name, array))
        if name == _MLM_BIAS:
            layers["predictions"].append((f"{prefix}/predictions/decoder/bias:0", array))
        if has_mlm and name.startswith(_EMBEDDING_MODULE):
            layers.setdefault("predictions", []).append((weight_name, array))
    with atomic_file(path, "w+b") as handle:
        with h5py.File(handle, "w") as f:
            f.attrs["layer_names"] = np.array(list(layers), dtype=h5py.string_dtype())
            f.attrs["backend"] = "tensorflow"
            f.attrs["keras_version"] = "2.15.0"  # the h5 layout is Keras 2's, whatever wrote it
            for layer, weights in layers.items():
                group = f.create_group(layer)
                group.attrs["weight_names"] = np.array([n for n, _ in weights], dtype=h5py.string_dtype())
                for weight_name, array in weights:
                    group.create_dataset(weight_name, data=np.ascontiguousarray(array))
    return path
