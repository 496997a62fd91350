"""HF transformers' Flax checkpoint, `flax_model.msgpack`, read and written without JAX.

The file is `flax.serialization.to_bytes(params)`: a msgpack map of nested string-keyed maps whose
leaves are msgpack extension objects (code 1: an ndarray as the msgpack triple
(shape, dtype name, C-order bytes); code 3: a numpy scalar the same way). Arrays above 1 GiB are
stored by flax as `{"__msgpack_chunked_array__": True, "shape": {...}, "chunks": {...}}`.

The parameter tree is HF PyTorch's module tree with the schema's Flax leaf names (kernel [in, out],
embedding, scale, bias). HF's FlaxAlbertModel has no `albert` level (its module is the encoder);
every model with a head nests the encoder under `albert`.

Memory (an albert-xxlarge checkpoint is ~0.8 GB): reading memory-maps the file and walks the few
msgpack types flax writes (`_MappedTree`), so every array is a read-only view of the mapped bytes
and a kernel is the transposed view of one, never a copy. Writing streams each array's bytes into
the file in blocks of a few MB. A file outside that subset (another writer's msgpack, a forged or
damaged file) is decoded whole by the msgpack package instead, which is also what judges it.
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..atomic import atomic_file
from ..config import AlbertConfig
from ..errors import CheckpointError, require
from ..schema import BASE_PREFIX, Head, Kind, Style, canonical_leaf, leaf_name, module_path
from .blocks import c_order_blocks
from .state import CanonicalState, infer_head, specs_for_writing

FLAX_MSGPACK_NAME = "flax_model.msgpack"

_EXT_NDARRAY = 1
_EXT_NPSCALAR = 3
_CHUNKED = "__msgpack_chunked_array__"
_MAX_DEPTH = 64  # a flax parameter tree is ~8 maps deep; deeper files go to the msgpack package


def _msgpack(needed_for: str):
    return require("msgpack", needed_for, extra="formats")


def _dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        # present wherever a bf16 Flax checkpoint was written (jax depends on it)
        return np.dtype(require("ml_dtypes", "reading a bfloat16 Flax checkpoint").bfloat16)
    return np.dtype(name)


def _array(buffer, shape, dtype_name: str, code: int):
    """A flax ext payload's array (code 1) or numpy scalar (code 3), a view of `buffer`."""
    array = np.frombuffer(buffer, dtype=_dtype(dtype_name)).reshape(shape)
    return array[()] if code == _EXT_NPSCALAR else array


# ----- reading: the msgpack subset flax writes, walked over the memory-mapped file ----------------


class _NotSubset(Exception):
    """The file uses msgpack beyond what flax writes (or is damaged): decode it the general way."""


class _MappedTree:
    """Parses maps with string keys, bools, ints and flax's array extensions straight from `data`
    (a memoryview of the mapped file). Every length is checked against the bytes left before it is
    used, so a forged length cannot make it read or allocate past the file."""

    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def parse(self) -> Any:
        value = self._value(0)
        if self.pos != len(self.data):
            raise _NotSubset("bytes after the tree")
        return value

    def _take(self, n: int) -> int:
        """Advance past n bytes; return where they start."""
        start = self.pos
        if n > len(self.data) - start:
            raise _NotSubset("truncated")
        self.pos += n
        return start

    def _uint(self, n: int) -> int:
        start = self._take(n)
        return int.from_bytes(self.data[start : start + n], "big")

    def _int(self, n: int) -> int:
        start = self._take(n)
        return int.from_bytes(self.data[start : start + n], "big", signed=True)

    def _str(self, length: int) -> str:
        start = self._take(length)
        try:
            return str(self.data[start : start + length], "utf-8")
        except UnicodeDecodeError:
            raise _NotSubset("invalid utf-8") from None

    def _value(self, depth: int) -> Any:
        b = self.data[self._take(1)]
        if b <= 0x7F:  # positive fixint
            return b
        if b >= 0xE0:  # negative fixint
            return b - 0x100
        if 0x80 <= b <= 0x8F:
            return self._map(b & 0x0F, depth)
        if 0xA0 <= b <= 0xBF:
            return self._str(b & 0x1F)
        if b in (0xC2, 0xC3):
            return b == 0xC3
        if 0xCC <= b <= 0xCF:
            return self._uint(1 << (b - 0xCC))
        if 0xD0 <= b <= 0xD3:
            return self._int(1 << (b - 0xD0))
        if 0xD9 <= b <= 0xDB:
            return self._str(self._uint(1 << (b - 0xD9)))
        if b in (0xDE, 0xDF):
            return self._map(self._uint(2 if b == 0xDE else 4), depth)
        if 0xD4 <= b <= 0xD8:  # fixext 1, 2, 4, 8, 16
            return self._ext(1 << (b - 0xD4))
        if 0xC7 <= b <= 0xC9:  # ext 8, 16, 32
            return self._ext(self._uint(1 << (b - 0xC7)))
        raise _NotSubset(f"type byte {b:#x}")  # nil, floats, arrays, bin, str outside keys...

    def _map(self, length: int, depth: int) -> dict:
        if depth >= _MAX_DEPTH:
            raise _NotSubset("deeper than a flax tree")
        node = {}
        for _ in range(length):
            key = self._value(depth + 1)
            if not isinstance(key, str):
                raise _NotSubset("a key that is not a string")
            node[key] = self._value(depth + 1)
        return node

    def _ext(self, length: int):
        code = self._int(1)
        if code not in (_EXT_NDARRAY, _EXT_NPSCALAR):
            raise _NotSubset(f"extension type {code}")
        if length > len(self.data) - self.pos:
            raise _NotSubset("truncated")
        end = self.pos + length
        # The payload: [shape (an array of ints), dtype name, bin].
        if self.data[self._take(1)] != 0x93:
            raise _NotSubset("ext payload is not a 3-element array")
        head = self.data[self._take(1)]
        if not 0x90 <= head <= 0x9F:
            raise _NotSubset("shape is not a short array")
        shape = [self._value(_MAX_DEPTH) for _ in range(head & 0x0F)]
        dtype_name = self._value(_MAX_DEPTH)
        if not isinstance(dtype_name, str) or not all(type(d) is int for d in shape):
            raise _NotSubset("shape or dtype of another type")
        kind = self.data[self._take(1)]
        if not 0xC4 <= kind <= 0xC6:
            raise _NotSubset("array bytes are not a bin")
        nbytes = self._uint(1 << (kind - 0xC4))
        start = self._take(nbytes)
        if self.pos != end:
            raise _NotSubset("ext payload length disagrees with its contents")
        try:
            return _array(self.data[start : start + nbytes], shape, dtype_name, code)
        except (ValueError, TypeError) as exc:  # a size that is not shape x dtype, an unknown dtype
            raise _NotSubset(str(exc)) from None


def _decode_mapped(path: Path):
    """The tree of `path`, its arrays views of the memory-mapped file; None if the file is empty
    or outside the subset."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return None
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    # The arrays keep `mapped` alive (their base is a memoryview of it); it is unmapped with them.
    try:
        return _MappedTree(memoryview(mapped)).parse()
    except _NotSubset:
        return None


def _decode_whole(path: Path, msgpack):
    """The general decoder: the msgpack package over the file's bytes (arrays are views of them).
    Sizes inside the file are bounded by it: msgpack caps every string, array and map length at the
    buffer's size before allocating."""

    def ext_hook(code: int, data: bytes):
        if code not in (_EXT_NDARRAY, _EXT_NPSCALAR):
            return msgpack.ExtType(code, data)
        shape, dtype_name, buffer = msgpack.unpackb(data, raw=False)
        return _array(buffer, shape, dtype_name, code)

    try:
        return msgpack.unpackb(path.read_bytes(), ext_hook=ext_hook, raw=False, strict_map_key=False)
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        raise CheckpointError(f"{path} is truncated or not a Flax msgpack checkpoint: {str(exc) or type(exc).__name__}") from exc


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
    """The canonical state of a flax_model.msgpack: arrays are read-only views of the mapped file
    (kernels their transposed views) wherever the file is in flax's own msgpack subset."""
    path = Path(path)
    msgpack = _msgpack(f"reading {path.name}")  # the general decoder's, and the writer's, package
    tree = _decode_mapped(path)
    if tree is None:
        tree = _decode_whole(path, msgpack)
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
        state[(BASE_PREFIX + name) if bare_encoder else name] = value.T if is_kernel else value
    return state


# ----- writing: msgpack.packb's bytes, with each array streamed ---------------------------------


def params_tree(state: Mapping[str, np.ndarray], config: AlbertConfig, head: Head) -> dict:
    """The HF Flax parameter tree of `head` holding `state` (tied copies left out, as HF Flax does);
    kernels are transposed views of the canonical arrays."""
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


def _ext_header(length: int, code: int) -> bytes:
    """msgpack's extension header for a payload of `length` bytes (msgpack-python's choice of form)."""
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    if length in fixed:
        return struct.pack(">Bb", fixed[length], code)
    if length <= 0xFF:
        return struct.pack(">BBb", 0xC7, length, code)
    if length <= 0xFFFF:
        return struct.pack(">BHb", 0xC8, length, code)
    return struct.pack(">BIb", 0xC9, length, code)


def _bin_header(length: int) -> bytes:
    if length <= 0xFF:
        return struct.pack(">BB", 0xC4, length)
    if length <= 0xFFFF:
        return struct.pack(">BH", 0xC5, length)
    return struct.pack(">BI", 0xC6, length)


def _write_array(handle, packer, array: np.ndarray, where: str, path: Path) -> None:
    """One leaf, as `packer.pack(ExtType(1, packb((shape, dtype name, array.tobytes()))))` would
    write it, without building the payload: the headers, then the C-order bytes in row blocks."""
    if array.dtype.byteorder == ">":  # the dtype name says nothing of byte order: store little-endian
        array = array.astype(array.dtype.newbyteorder("<"))
    if array.nbytes > 0xFFFFFFFF:
        raise CheckpointError(f"{path}: {where} holds {array.nbytes} bytes, more than one msgpack bin can (4 GiB)")
    payload_head = packer.pack_array_header(3) + packer.pack(list(array.shape)) + packer.pack(array.dtype.name) + _bin_header(array.nbytes)
    handle.write(_ext_header(len(payload_head) + array.nbytes, _EXT_NDARRAY))
    handle.write(payload_head)
    for block in c_order_blocks(array):  # a transposed kernel in row blocks, never copied whole
        handle.write(block)


def write_hf_flax_msgpack(path: str | os.PathLike, state: Mapping[str, np.ndarray], config: AlbertConfig, head: Head | None = None) -> Path:
    """Write `state` as HF Flax's flax_model.msgpack: the bytes msgpack.packb (and so
    flax.serialization.to_bytes, below its 1 GiB chunking) gives for the tree, streamed array by array."""
    path = Path(path)
    msgpack = _msgpack(f"writing {path.name}")
    head = Head(head) if head is not None else infer_head(state, config)
    tree = params_tree(state, config, head)
    packer = msgpack.Packer(use_bin_type=True)

    def write(handle, node: dict, prefix: tuple) -> None:  # depth-first, as packb walks a dict
        handle.write(packer.pack_map_header(len(node)))
        for key, value in node.items():  # flax restores by key, order is free
            handle.write(packer.pack(key))
            if isinstance(value, dict):
                write(handle, value, prefix + (key,))
            else:
                _write_array(handle, packer, value, "/".join(prefix + (key,)), path)

    with atomic_file(path, "wb") as handle:
        write(handle, tree, ())
    return path
