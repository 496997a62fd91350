"""safetensors files (the canonical format, HF's `model.safetensors`) and their sharded index.

Reading maps the file and returns numpy views into the map: no read into a buffer, no copy, and
only the pages a caller touches come into memory (the arrays are read-only; a backend copies them
into its own tensors anyway). The format is 8 bytes of header length, a JSON header
{name: {dtype, shape, data_offsets}}, then the tensor bytes; every entry is checked against the
file size, so a truncated file fails here with its name, not later with a bus error.

Writing streams one tensor at a time into a temporary file that replaces the target only when
complete (albert_core.atomic), in safetensors' own layout (header padded to 8 bytes, tensors
ordered by alignment then name), so the safetensors library and HF transformers read it.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import struct
from pathlib import Path
from typing import Mapping

import numpy as np

from ..atomic import atomic_file, atomic_write_text
from ..errors import CheckpointError
from .state import CanonicalState

SAFETENSORS_NAME = "model.safetensors"
SAFETENSORS_INDEX_NAME = "model.safetensors.index.json"

_MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit

_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("bool"),
}
_ML_DTYPES = {"BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}


def _numpy_dtype(code: str, path: Path, name: str) -> tuple[np.dtype, bool]:
    """(dtype to view the bytes as, whether bf16 must be widened to float32 because numpy lacks it)."""
    if code in _DTYPES:
        return _DTYPES[code], False
    if code in _ML_DTYPES:
        try:
            import ml_dtypes  # ships with jax; gives numpy a bfloat16

            return np.dtype(getattr(ml_dtypes, _ML_DTYPES[code])), False
        except ImportError:
            if code == "BF16":
                return np.dtype("<u2"), True
            raise CheckpointError(f"{path}: tensor {name} is {code}, which needs the package 'ml_dtypes'") from None
    raise CheckpointError(f"{path}: tensor {name} has unsupported dtype {code!r}")


def _safetensors_code(array: np.ndarray, name: str) -> str:
    if array.dtype.name in _ML_DTYPES.values():
        return next(code for code, n in _ML_DTYPES.items() if n == array.dtype.name)
    for code, dtype in _DTYPES.items():
        if array.dtype.kind == dtype.kind and array.dtype.itemsize == dtype.itemsize:
            return code
    raise CheckpointError(f"tensor {name} has dtype {array.dtype}, which safetensors cannot store")


def read_header(path: Path, handle) -> tuple[int, dict]:
    """(offset of the data section, header dict) of an open safetensors file."""
    raw = handle.read(8)
    if len(raw) < 8:
        raise CheckpointError(f"{path} is not a safetensors file: {len(raw)} bytes, shorter than its header length")
    (length,) = struct.unpack("<Q", raw)
    size = os.fstat(handle.fileno()).st_size
    if length > _MAX_HEADER or 8 + length > size:
        raise CheckpointError(
            f"{path} is not a valid safetensors file (truncated or corrupt): header length {length}, file size {size}"
        )
    try:
        header = json.loads(handle.read(length).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not a valid safetensors file: its header is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a valid safetensors file: its header is not a JSON object")
    return 8 + length, header


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _header_entry(path: Path, name: str, entry) -> tuple[str, list[int], int, int]:
    """(dtype code, shape, begin, end) of one header entry, after checking every field's type:
    dims and offsets non-negative ints (a forged header must not reach numpy's reshape)."""
    try:
        code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: malformed header entry for tensor {name}: {entry!r}") from exc
    if not isinstance(code, str):
        raise CheckpointError(f"{path}: tensor {name} has dtype {code!r}, not a dtype name")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise CheckpointError(f"{path}: tensor {name} has shape {shape!r}, not a list of non-negative ints")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
        raise CheckpointError(f"{path}: tensor {name} has data_offsets {offsets!r}, not two ints")
    return code, shape, offsets[0], offsets[1]


def read_safetensors(path: str | os.PathLike) -> CanonicalState:
    """{name: read-only numpy view into the mapped file}, keys as stored."""
    path = Path(path)
    with open(path, "rb") as handle:
        data_start, header = read_header(path, handle)
        size = os.fstat(handle.fileno()).st_size
        # One read-only map of the whole file, shared by every array (each keeps it alive).
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    state = CanonicalState(source=str(path))
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        code, shape, begin, end = _header_entry(path, name, entry)
        ranges.append((begin, end, name))
        dtype, widen = _numpy_dtype(code, path, name)
        count = math.prod(shape)  # Python ints: a forged shape cannot overflow to a small count
        if not (0 <= begin <= end) or end - begin != count * dtype.itemsize:
            raise CheckpointError(f"{path}: tensor {name} has byte range [{begin}, {end}) that does not fit shape {shape} {code}")
        if data_start + end > size:
            raise CheckpointError(
                f"{path} is truncated: tensor {name} needs bytes up to {data_start + end}, the file has {size}"
            )
        array = np.frombuffer(mapped, dtype=dtype, count=count, offset=data_start + begin).reshape(shape)
        if widen:  # bf16 without ml_dtypes: its bits are the high half of a float32 (exact)
            array = (array.astype(np.uint32) << 16).view(np.float32)
        state[name] = array
    _check_tiling(path, ranges, size - data_start)
    return state


def _check_tiling(path: Path, ranges: list[tuple[int, int, str]], data_size: int) -> None:
    """The safetensors rule: tensors cover the data section exactly, no overlap, no hole (so no
    two tensors share bytes, and no other content hides in the file)."""
    position = 0
    for begin, end, name in sorted(ranges):
        if begin != position:
            what = "overlaps the tensor before it" if begin < position else f"leaves bytes [{position}, {begin}) unused"
            raise CheckpointError(f"{path} is corrupt: tensor {name} {what}")
        position = end
    if position != data_size:
        raise CheckpointError(f"{path} is corrupt: its data section has {data_size} bytes, its tensors cover {position}")


def write_safetensors(path: str | os.PathLike, state: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> Path:
    """Write `state` to `path` atomically, one tensor at a time (no whole-file buffer)."""
    path = Path(path)
    arrays = {name: np.asarray(value) for name, value in state.items()}
    codes = {name: _safetensors_code(array, name) for name, array in arrays.items()}
    # safetensors' order: larger items first (keeps every tensor aligned), then by name.
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))
    header: dict = {"__metadata__": dict(metadata)} if metadata else {}
    offset = 0
    for name in order:
        nbytes = arrays[name].nbytes
        header[name] = {"dtype": codes[name], "shape": list(arrays[name].shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with atomic_file(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for name in order:
            _write_array(handle, arrays[name])
    return path


def _write_array(handle, array: np.ndarray) -> None:
    """The array's bytes, little-endian, C order, without an extra copy when it already is."""
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and not np.little_endian):
        array = array.astype(array.dtype.newbyteorder("<"))
    handle.write(memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8)))


# ----- sharded checkpoints: model.safetensors.index.json + model-0000k-of-0000n.safetensors ------


def read_index(path: str | os.PathLike) -> dict[str, str]:
    """weight_map {tensor name: shard file name} of a `*.index.json` file."""
    path = Path(path)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        weight_map = index["weight_map"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} is not a valid sharded-checkpoint index ({type(exc).__name__}: {exc})") from exc
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise CheckpointError(f"{path}: 'weight_map' must map tensor names to shard file names")
    # A shard is a file beside the index: a path ("../x", "/etc/x", "sub/x") could make a hub repo
    # or a downloaded folder read (and report on) files elsewhere on this machine.
    for shard in set(weight_map.values()):
        if shard in ("", ".", "..") or "/" in shard or "\\" in shard or "\0" in shard:
            raise CheckpointError(f"{path} names shard {shard!r}, which is not a file name in the index's folder")
    return weight_map


def read_sharded(index_path: str | os.PathLike, read_shard) -> CanonicalState:
    """Every tensor of a sharded checkpoint; `read_shard(path)` reads one shard file."""
    index_path = Path(index_path)
    weight_map = read_index(index_path)
    state = CanonicalState(source=str(index_path))
    for shard in sorted(set(weight_map.values())):
        shard_path = index_path.parent / shard
        if not shard_path.is_file():
            raise CheckpointError(f"{index_path} names shard {shard}, which is not in {index_path.parent}")
        part = read_shard(shard_path)
        state.update(part)
        state.skipped.update(getattr(part, "skipped", {}))
    absent = sorted(name for name in weight_map if name not in state)
    if absent:
        raise CheckpointError(f"{index_path}: tensors listed in the index are absent from their shards: {', '.join(absent)}")
    return state


def write_sharded_safetensors(folder: Path, state: Mapping[str, np.ndarray], max_shard_bytes: int, metadata=None) -> list[Path]:
    """Split `state` into shards of at most `max_shard_bytes` (a larger tensor gets its own shard),
    named as HF names them, plus model.safetensors.index.json."""
    shards: list[dict[str, np.ndarray]] = [{}]
    size = 0
    for name in sorted(state):
        nbytes = np.asarray(state[name]).nbytes
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = state[name]
        size += nbytes
    written = []
    weight_map = {}
    for k, shard in enumerate(shards, start=1):
        file_name = f"model-{k:05d}-of-{len(shards):05d}.safetensors"
        written.append(write_safetensors(folder / file_name, shard, metadata))
        weight_map.update({name: file_name for name in shard})
    total = sum(np.asarray(a).nbytes for a in state.values())
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    atomic_write_text(folder / SAFETENSORS_INDEX_NAME, json.dumps(index, indent=2) + "\n")
    return written + [folder / SAFETENSORS_INDEX_NAME]
