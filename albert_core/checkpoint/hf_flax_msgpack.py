"""HF transformers' Flax checkpoint, `flax_model.msgpack`, read and written with msgpack (no JAX).

The file is `flax.serialization.to_bytes(params)`: a msgpack map of nested string-keyed maps whose
leaves are msgpack extension objects (code 1: an ndarray as the msgpack triple
(shape, dtype name, C-order bytes); code 3: a numpy scalar the same way). Arrays above 1 GiB are
stored by flax as `{"__msgpack_chunked_array__": True, "shape": {...}, "chunks": {...}}`.

The parameter tree is HF PyTorch's module tree with the schema's Flax leaf names (kernel [in, out],
embedding, scale, bias). HF's FlaxAlbertModel has no `albert` level (its module is the encoder);
every model with a head nests the encoder under `albert`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..atomic import atomic_file
from ..config import AlbertConfig
from ..errors import CheckpointError, require
from ..schema import BASE_PREFIX, Head, Kind, Style, canonical_leaf, leaf_name, module_path
from .state import CanonicalState, infer_head, specs_for_writing

FLAX_MSGPACK_NAME = "flax_model.msgpack"

_EXT_NDARRAY = 1
_EXT_NPSCALAR = 3
_CHUNKED = "__msgpack_chunked_array__"


def _msgpack(needed_for: str):
    return require("msgpack", needed_for, extra="formats")


def _dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        # present wherever a bf16 Flax checkpoint was written (jax depends on it)
        return np.dtype(require("ml_dtypes", "reading a bfloat16 Flax checkpoint").bfloat16)
    return np.dtype(name)


def _decode_ext(msgpack, code: int, data: bytes):
    if code not in (_EXT_NDARRAY, _EXT_NPSCALAR):
        return msgpack.ExtType(code, data)
    shape, dtype_name, buffer = msgpack.unpackb(data, raw=False)
    array = np.frombuffer(buffer, dtype=_dtype(dtype_name)).reshape(shape)
    return array[()] if code == _EXT_NPSCALAR else array


def _unchunk(node: Mapping) -> np.ndarray:
    shape = tuple(node["shape"][str(i)] for i in range(len(node["shape"])))
    chunks = [node["chunks"][str(i)] for i in range(len(node["chunks"]))]
    return np.concatenate(chunks).reshape(shape)


def _flatten(tree: Mapping):
    """(key path, leaf) pairs, depth-first; iterative, so a forged deep tree cannot hit the
    recursion limit."""
    stack = [((), iter(tree.items()))]
    while stack:
        prefix, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            continue
        key, value = item
        if not isinstance(key, str):
            raise TypeError(f"key {key!r} under {'/'.join(prefix) or 'the root'} is not a string")
        if isinstance(value, Mapping) and _CHUNKED not in value:
            stack.append((prefix + (key,), iter(value.items())))
        else:
            yield prefix + (key,), (_unchunk(value) if isinstance(value, Mapping) else value)


def read_hf_flax_msgpack(path: str | os.PathLike) -> CanonicalState:
    path = Path(path)
    msgpack = _msgpack(f"reading {path.name}")
    # Sizes inside the file are bounded by it: msgpack caps every string, array and map length at
    # the buffer's size before allocating, and an array's bytes are a view of the buffer.
    try:
        tree = msgpack.unpackb(
            path.read_bytes(), ext_hook=lambda code, data: _decode_ext(msgpack, code, data), raw=False, strict_map_key=False
        )
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        raise CheckpointError(f"{path} is truncated or not a Flax msgpack checkpoint: {str(exc) or type(exc).__name__}") from exc
    if not isinstance(tree, Mapping):
        raise CheckpointError(f"{path} holds a {type(tree).__name__}, not a Flax parameter tree")
    if "params" in tree and isinstance(tree["params"], Mapping) and len(tree) == 1:
        tree = tree["params"]  # a {"params": ...} variables dict
    # HF's FlaxAlbertModel: the tree is the encoder itself.
    bare_encoder = "embeddings" in tree
    try:
        leaves = list(_flatten(tree))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a malformed chunked array, a non-string key
        raise CheckpointError(f"{path} is not a Flax parameter tree: {type(exc).__name__}: {exc}") from exc
    state = CanonicalState(source=str(path))
    for key_path, value in leaves:
        where = "/".join(key_path)
        if not isinstance(value, np.ndarray):
            raise CheckpointError(f"{path}: {where} is a {type(value).__name__}, not an array")
        try:
            leaf, is_kernel = canonical_leaf(key_path[-1], Style.FLAX)
        except KeyError:
            raise CheckpointError(f"{path}: {where} is not an ALBERT parameter name (leaf {key_path[-1]!r})") from None
        name = ".".join(key_path[:-1] + (leaf,))
        state[(BASE_PREFIX + name) if bare_encoder else name] = np.ascontiguousarray(value.T) if is_kernel else value
    return state


def params_tree(state: Mapping[str, np.ndarray], config: AlbertConfig, head: Head) -> dict:
    """The HF Flax parameter tree of `head` holding `state` (tied copies left out, as HF Flax does)."""
    specs = specs_for_writing(state, config, head, FLAX_MSGPACK_NAME)
    tree: dict[str, Any] = {}
    for name, value in state.items():
        spec = specs[name]
        if spec.tied_to is not None:
            continue
        parts = module_path(spec)
        if head is Head.BASE:
            parts = parts[1:]  # FlaxAlbertModel has no `albert` level
        node = tree
        for part in parts:
            node = node.setdefault(part, {})
        array = np.asarray(value)
        node[leaf_name(spec, Style.FLAX)] = array.T if spec.kind is Kind.LINEAR_WEIGHT else array
    return tree


def write_hf_flax_msgpack(path: str | os.PathLike, state: Mapping[str, np.ndarray], config: AlbertConfig, head: Head | None = None) -> Path:
    """Write `state` as HF Flax's flax_model.msgpack, streaming one array at a time."""
    path = Path(path)
    msgpack = _msgpack(f"writing {path.name}")
    head = Head(head) if head is not None else infer_head(state, config)
    tree = params_tree(state, config, head)
    packer = msgpack.Packer(use_bin_type=True)

    def write(handle, node) -> None:
        handle.write(packer.pack_map_header(len(node)))
        for key, value in node.items():  # flax restores by key, order is free
            handle.write(packer.pack(key))
            if isinstance(value, dict):
                write(handle, value)
            else:
                array = np.ascontiguousarray(value)
                payload = msgpack.packb((list(array.shape), array.dtype.name, array.tobytes()), use_bin_type=True)
                handle.write(packer.pack(msgpack.ExtType(_EXT_NDARRAY, payload)))

    with atomic_file(path, "wb") as handle:
        write(handle, tree)
    return path
