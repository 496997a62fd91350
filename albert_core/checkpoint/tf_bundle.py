"""TensorFlow's tensor bundle, the format of TF1 (and TF2) checkpoints, read with numpy only.

A checkpoint `<prefix>` is `<prefix>.index` plus data shards `<prefix>.data-0000K-of-0000N`:

- The index is a LevelDB-style table (TensorFlow's copy of it, tensorflow/core/lib/io): a 48-byte
  footer at the end (two block handles, metaindex then index, each two varints (offset, size),
  zero-padded to 40 bytes, then the magic number 0xdb4775248b80fb57 little-endian); the index
  block maps keys to the handles of data blocks; every block is followed by a 5-byte trailer (a
  compression byte, 0 in TF bundles, and the block's masked crc32c). A block is a run of entries
  (varints shared, non_shared, value_length; the key's last non_shared bytes; the value), keys
  prefix-compressed against the previous key, then a restart array (uint32s) and its count.
- The key "" holds a BundleHeaderProto (num_shards = 1, endianness = 2, version = 3); every
  other key is a tensor's name and holds its BundleEntryProto (dtype = 1, shape = 2 as a
  TensorShapeProto whose dims = 2 each have size = 1, shard_id = 3, offset = 4, size = 5,
  crc32c = 6 (fixed32, masked), slices = 7 for partitioned variables).
- A tensor's bytes are `size` bytes at `offset` of its shard, in C order, little-endian.

Tensors are returned as read-only views of the memory-mapped shards: nothing is copied, and
nothing is allocated from a size the file claims before that size is checked against the file.
Strings (and dtypes no weight has) are skipped and listed; partitioned variables, compressed
blocks and big-endian bundles are refused by name. Checksums (tensors and index blocks) are
verified when a crc32c implementation is importable (the `google-crc32c` or `crc32c` package);
without one they are not verified, and a damaged byte inside a tensor's data is read as it is.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import CheckpointError, require

_MAGIC = 0xDB4775248B80FB57
_FOOTER_BYTES = 48
_BLOCK_TRAILER_BYTES = 5  # compression type + masked crc32c
_CRC_MASK_DELTA = 0xA282EAD8

# TensorFlow's DataType enum (types.proto) -> numpy dtype, for the types weights come in.
_DTYPES = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    8: np.dtype("<c8"),  # DT_COMPLEX64
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    17: np.dtype("<u2"),  # DT_UINT16
    18: np.dtype("<c16"),  # DT_COMPLEX128
    19: np.dtype("<f2"),  # DT_HALF
    22: np.dtype("<u4"),  # DT_UINT32
    23: np.dtype("<u8"),  # DT_UINT64
}
_DT_STRING, _DT_BFLOAT16 = 7, 14


class _Corrupt(Exception):
    """A structural problem in the index file; the caller names the file."""


def _crc32c_extend_function() -> Callable[[int, bytes], int] | None:
    """(crc, bytes) -> crc32c (Castagnoli) extended by the bytes, from whichever optional package
    is installed; None without one."""
    try:
        import google_crc32c

        return google_crc32c.extend
    except ImportError:
        pass
    try:
        import crc32c

        return lambda crc, chunk: crc32c.crc32c(chunk, crc)
    except ImportError:
        return None


_crc32c_extend = _crc32c_extend_function()
_CRC_CHUNK_BYTES = 16 << 20  # the packages take bytes: a mapped tensor is copied this much at a time


def _crc32c(data) -> int:
    crc = 0
    for start in range(0, len(data), _CRC_CHUNK_BYTES):
        crc = _crc32c_extend(crc, bytes(data[start : start + _CRC_CHUNK_BYTES]))
    return crc


def unmask_crc(masked: int) -> int:
    """LevelDB/TF store crc32c values masked (rotated right by 15, plus a constant)."""
    rotated = (masked - _CRC_MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF


# ----- the table (.index) --------------------------------------------------------------------


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, position after it) of the base-128 varint at `pos`; at most 10 bytes, before `end`."""
    value = shift = 0
    for i in range(10):
        if pos + i >= end:
            raise _Corrupt(f"a varint at byte {pos} runs past its block")
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos + i + 1
        shift += 7
    raise _Corrupt(f"a varint at byte {pos} is longer than 10 bytes")


def _block(data: bytes, handle: tuple[int, int], limit: int) -> bytes:
    """The contents of the block at `handle` (offset, size), which must end before `limit`."""
    offset, size = handle
    if offset + size + _BLOCK_TRAILER_BYTES > limit:
        raise _Corrupt(f"a block ({size} bytes at {offset}) runs past the end of the table")
    compression = data[offset + size]
    if compression != 0:
        raise _Corrupt(
            f"a block is compressed (type {compression}); TensorFlow writes bundle indexes uncompressed "
            "and this reader reads only those"
        )
    if _crc32c_extend is not None:
        stored = int.from_bytes(data[offset + size + 1 : offset + size + 5], "little")
        if _crc32c(data[offset : offset + size + 1]) != unmask_crc(stored):
            raise _Corrupt(f"the block at byte {offset} fails its checksum")
    return data[offset : offset + size]


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of every entry of a block, keys restored from their shared prefixes."""
    if len(block) < 4:
        raise _Corrupt("a block is shorter than its restart count")
    restarts = int.from_bytes(block[-4:], "little")
    if restarts > (len(block) - 4) // 4:
        raise _Corrupt(f"a block claims {restarts} restart points, more than it can hold")
    end = len(block) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos, end)
        non_shared, pos = _varint(block, pos, end)
        value_length, pos = _varint(block, pos, end)
        if shared > len(key) or pos + non_shared + value_length > end:
            raise _Corrupt("a block entry's lengths run past the block")
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        yield key, block[pos : pos + value_length]
        pos += value_length


def _handle(value: bytes) -> tuple[int, int]:
    offset, pos = _varint(value, 0, len(value))
    size, _ = _varint(value, pos, len(value))
    return offset, size


def table_entries(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of every entry of a TF table, in key order (checked: strictly increasing)."""
    if len(data) < _FOOTER_BYTES:
        raise _Corrupt(f"{len(data)} bytes, shorter than a table's {_FOOTER_BYTES}-byte footer")
    footer_start = len(data) - _FOOTER_BYTES
    if int.from_bytes(data[-8:], "little") != _MAGIC:
        raise _Corrupt("no table magic number at its end: not a TensorFlow checkpoint index, or truncated")
    _, pos = _varint(data, footer_start, footer_start + 40)  # the metaindex handle: unused by bundles
    _, pos = _varint(data, pos, footer_start + 40)
    index_offset, pos = _varint(data, pos, footer_start + 40)
    index_size, _ = _varint(data, pos, footer_start + 40)
    previous = None
    for _, handle in _block_entries(_block(data, (index_offset, index_size), footer_start)):
        for key, value in _block_entries(_block(data, _handle(handle), footer_start)):
            if previous is not None and key <= previous:
                raise _Corrupt(f"keys out of order ({key!r} after {previous!r})")
            previous = key
            yield key, value


# ----- the protos ------------------------------------------------------------------------------


def _fields(message: bytes) -> dict[int, list]:
    """field number -> its values (ints for varint/fixed fields, bytes for length-delimited)."""
    fields: dict[int, list] = {}
    pos = 0
    while pos < len(message):
        tag, pos = _varint(message, pos, len(message))
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(message, pos, len(message))
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > len(message):
                raise _Corrupt("a fixed-width proto field runs past its message")
            value, pos = int.from_bytes(message[pos : pos + width], "little"), pos + width
        elif wire == 2:
            length, pos = _varint(message, pos, len(message))
            if pos + length > len(message):
                raise _Corrupt("a proto field's length runs past its message")
            value, pos = message[pos : pos + length], pos + length
        else:
            raise _Corrupt(f"proto wire type {wire} (groups are not used by checkpoints)")
        if number == 0:
            raise _Corrupt("proto field number 0")
        fields.setdefault(number, []).append(value)
    return fields


def _scalar(fields: dict[int, list], number: int, signed: bool = True) -> int:
    """A scalar int field (proto3: the last value wins, absent is 0); int32/int64 are two's complement."""
    value = fields.get(number, [0])[-1]
    if not isinstance(value, int):
        raise _Corrupt(f"proto field {number} is not a number")
    return value - (1 << 64) if signed and value >= 1 << 63 else value


def _messages(fields: dict[int, list], number: int) -> list[bytes]:
    values = fields.get(number, [])
    if not all(isinstance(v, bytes) for v in values):
        raise _Corrupt(f"proto field {number} is not a message")
    return values


@dataclass(frozen=True)
class BundleEntry:
    """Where a tensor's bytes are, as its BundleEntryProto says."""

    dtype: int  # TF DataType enum value
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc32c: int | None  # masked, as stored; None when absent
    partitioned: bool


def _entry(value: bytes) -> BundleEntry:
    fields = _fields(value)
    shapes = _messages(fields, 2)
    shape_fields = _fields(shapes[-1]) if shapes else {}
    if _scalar(shape_fields, 3):
        raise _Corrupt("a tensor of unknown rank")
    shape = tuple(_scalar(_fields(dim), 1) for dim in _messages(shape_fields, 2))
    crc = fields.get(6, [None])[-1]
    entry = BundleEntry(
        dtype=_scalar(fields, 1),
        shape=shape,
        shard=_scalar(fields, 3),
        offset=_scalar(fields, 4),
        size=_scalar(fields, 5),
        crc32c=crc if isinstance(crc, int) else None,
        partitioned=bool(_messages(fields, 7)),
    )
    if min(entry.shape, default=0) < 0 or entry.shard < 0 or entry.offset < 0 or entry.size < 0:
        raise _Corrupt("a negative dimension, shard, offset or size")
    return entry


# ----- the bundle ------------------------------------------------------------------------------


@dataclass
class Bundle:
    """A checkpoint's tensors (read-only views of its mapped data shards) and what was skipped."""

    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it was not read


def _read_index(index: Path) -> tuple[int, dict[str, BundleEntry]]:
    """(number of data shards, tensor name -> entry) from `<prefix>.index`."""
    try:
        data = index.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read the TF checkpoint index {index}: {exc}") from exc
    try:
        header, entries, slice_keys = None, {}, 0
        for key, value in table_entries(data):
            if key == b"":
                header = _fields(value)
                continue
            if key.startswith(b"\0"):  # TF's key for one slice of a partitioned variable
                slice_keys += 1
                continue
            try:
                name = key.decode("utf-8")
            except UnicodeDecodeError:
                raise _Corrupt(f"a tensor name that is not UTF-8 ({key[:40]!r})") from None
            entries[name] = _entry(value)
        if header is None:
            raise _Corrupt("no bundle header (the entry with the empty key)")
        num_shards = _scalar(header, 1)
        if _scalar(header, 2) != 0:
            raise _Corrupt("a big-endian bundle; this reader reads the little-endian ones every x86/ARM machine writes")
        if num_shards < 1:
            raise _Corrupt(f"the header says {num_shards} data shards")
    except _Corrupt as exc:
        raise CheckpointError(f"{index} is not a readable TensorFlow checkpoint index: {exc}") from None
    partitioned = sorted(name for name, entry in entries.items() if entry.partitioned)
    if slice_keys and not partitioned:
        raise CheckpointError(f"{index} holds {slice_keys} slice(s) of partitioned variables; only unpartitioned checkpoints are read")
    if partitioned:
        shown = ", ".join(repr(name) for name in partitioned[:3]) + (", ..." if len(partitioned) > 3 else "")
        raise CheckpointError(
            f"{index}: {shown} {'is a partitioned variable' if len(partitioned) == 1 else 'are partitioned variables'} "
            "(saved in slices); only unpartitioned checkpoints are read"
        )
    return num_shards, entries


class _Shards:
    """The data shards, each memory-mapped once, on first use."""

    def __init__(self, prefix: Path, count: int):
        self.prefix, self.count = prefix, count
        self.mapped: dict[int, memoryview] = {}

    def path(self, shard: int) -> Path:
        return self.prefix.with_name(f"{self.prefix.name}.data-{shard:05d}-of-{self.count:05d}")

    def get(self, shard: int) -> memoryview:
        if shard not in self.mapped:
            path = self.path(shard)
            try:
                with open(path, "rb") as handle:
                    if os.fstat(handle.fileno()).st_size == 0:
                        self.mapped[shard] = memoryview(b"")
                    else:  # the tensors keep the map alive (their base is a view of it)
                        self.mapped[shard] = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
            except OSError as exc:
                raise CheckpointError(f"cannot read the checkpoint data file {path}: {exc}") from exc
        return self.mapped[shard]


def read_bundle(prefix: str | os.PathLike) -> Bundle:
    """Every tensor of the checkpoint `prefix` (e.g. `model.ckpt-125000`), by name."""
    prefix = Path(prefix)
    index = prefix.with_name(prefix.name + ".index")
    num_shards, entries = _read_index(index)
    shards = _Shards(prefix, num_shards)
    bundle = Bundle()
    for name, entry in entries.items():
        if entry.dtype == _DT_STRING:
            bundle.skipped[name] = "a string tensor (no weights)"
            continue
        if entry.dtype == _DT_BFLOAT16:
            dtype = np.dtype(require("ml_dtypes", f"reading the bfloat16 tensor {name} of {prefix}").bfloat16)
        elif entry.dtype in _DTYPES:
            dtype = _DTYPES[entry.dtype]
        else:
            bundle.skipped[name] = f"TensorFlow dtype {entry.dtype} (no weights are stored in it)"
            continue
        if entry.shard >= num_shards:
            raise CheckpointError(f"{index}: tensor {name} is in shard {entry.shard}, but the header says {num_shards} shards")
        # The sizes the index claims are checked against each other and against the data file
        # before any array is made (the array is a view, so nothing is allocated from them).
        count = 1
        for dim in entry.shape:
            count *= dim
        if count * dtype.itemsize != entry.size:
            raise CheckpointError(
                f"{index}: tensor {name} has shape {list(entry.shape)} of {dtype.name} ({count * dtype.itemsize} bytes) "
                f"but {entry.size} bytes stored: the checkpoint is corrupt"
            )
        data = shards.get(entry.shard)
        if entry.offset + entry.size > len(data):
            raise CheckpointError(
                f"{shards.path(entry.shard)} is truncated: tensor {name} lies at bytes {entry.offset}..{entry.offset + entry.size} "
                f"of a {len(data)}-byte file"
            )
        raw = data[entry.offset : entry.offset + entry.size]
        if _crc32c_extend is not None and entry.crc32c is not None and _crc32c(raw) != unmask_crc(entry.crc32c):
            raise CheckpointError(f"{shards.path(entry.shard)}: tensor {name} fails its crc32c checksum: the data file is corrupt")
        bundle.tensors[name] = np.frombuffer(raw, dtype=dtype).reshape(entry.shape)
    return bundle
