"""A minimal writer of TensorFlow's tensor bundle (TF checkpoint) format, for tests only.

It writes what the reader (albert_core.checkpoint.tf_bundle) must accept and lets a test forge
what it must refuse: several data blocks with prefix-compressed keys and restart points, several
shards, any BundleEntryProto field. It is written from the format's description (LevelDB's table
layout, tensor_bundle.proto), independently of the reader; tests/tf/test_checkpoint_tf1.py
shows TensorFlow's own reader loads its files to the same tensors, so its files are real
checkpoints. Checksums are computed with the pure-Python crc32c below (slow, fine for test sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = 0xDB4775248B80FB57

# numpy dtype -> TensorFlow DataType enum value
TF_DTYPES = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "int64": 9, "bool": 10,
             "bfloat16": 14, "uint16": 17, "float16": 19, "uint32": 22, "uint64": 23}


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32c(data, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    for byte in bytes(data):
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s as protobuf writes them: ten bytes of two's complement
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def proto_field(number: int, value) -> bytes:
    """One protobuf field: int -> varint, bytes -> length-delimited, ("fixed32", int) -> fixed32."""
    if isinstance(value, tuple):
        return varint(number << 3 | 5) + value[1].to_bytes(4, "little")
    if isinstance(value, bytes):
        return varint(number << 3 | 2) + varint(len(value)) + value
    return varint(number << 3) + varint(value)


def shape_proto(shape) -> bytes:
    return b"".join(proto_field(2, proto_field(1, d) if d else b"") for d in shape)


@dataclass
class Entry:
    """A BundleEntryProto; fields left None are not written."""

    dtype: int
    shape: tuple
    shard: int = 0
    offset: int = 0
    size: int = 0
    crc: int | None = None  # masked
    slices: list[bytes] = field(default_factory=list)

    def encode(self) -> bytes:
        out = proto_field(1, self.dtype) + proto_field(2, shape_proto(self.shape))
        for number, value in ((3, self.shard), (4, self.offset), (5, self.size)):
            if value:
                out += proto_field(number, value)
        if self.crc is not None:
            out += proto_field(6, ("fixed32", self.crc))
        return out + b"".join(proto_field(7, s) for s in self.slices)


def header_proto(num_shards: int, endianness: int = 0) -> bytes:
    version = proto_field(1, 1)  # VersionDef.producer = 1, as TF writes
    return proto_field(1, num_shards) + (proto_field(2, endianness) if endianness else b"") + proto_field(3, version)


def block(entries: list[tuple[bytes, bytes]], restart_interval: int = 4) -> bytes:
    out, restarts, previous = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_interval == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        previous = key
    restarts = restarts or [0]
    return bytes(out) + b"".join(r.to_bytes(4, "little") for r in restarts) + len(restarts).to_bytes(4, "little")


def table(entries: list[tuple[bytes, bytes]], entries_per_block: int = 5, compression: int = 0) -> bytes:
    """A table of `entries` (in the order given: sorted, unless a test forges otherwise)."""
    out = bytearray()

    def put(contents: bytes) -> bytes:
        handle = varint(len(out)) + varint(len(contents))
        trailer = bytes([compression])
        out.extend(contents + trailer + mask(crc32c(contents + trailer)).to_bytes(4, "little"))
        return handle

    index = []
    for start in range(0, len(entries), entries_per_block):
        chunk = entries[start : start + entries_per_block]
        index.append((chunk[-1][0], put(block(chunk))))
    metaindex_handle = put(block([]))
    index_handle = put(block(index))
    footer = (metaindex_handle + index_handle).ljust(40, b"\0") + MAGIC.to_bytes(8, "little")
    return bytes(out) + footer


def data_file(prefix: Path, shard: int, num_shards: int) -> Path:
    return prefix.with_name(f"{prefix.name}.data-{shard:05d}-of-{num_shards:05d}")


def write_bundle(prefix: Path, tensors: dict[str, np.ndarray], num_shards: int = 1, entries_per_block: int = 5,
                 forge=None) -> dict[str, Entry]:
    """Write `tensors` (C order, little-endian; tensor i in shard i % num_shards) as a checkpoint.
    `forge(entries)` may change the entries in place (add, replace) or return the index's whole
    list of (key, value) pairs, header included, to forge its structure."""
    shards = [bytearray() for _ in range(num_shards)]
    entries = {}
    for i, (name, array) in enumerate(sorted(tensors.items())):
        data = array.tobytes()  # C order
        shard = i % num_shards
        entries[name] = Entry(TF_DTYPES[array.dtype.name], array.shape, shard, len(shards[shard]), len(data), mask(crc32c(data)))
        shards[shard] += data
    for shard, data in enumerate(shards):
        data_file(prefix, shard, num_shards).write_bytes(bytes(data))
    keyed = forge(entries) if forge is not None else None
    if keyed is None:
        keyed = [(b"", header_proto(num_shards))] + [(name.encode(), entry.encode()) for name, entry in sorted(entries.items())]
    Path(f"{prefix}.index").write_bytes(table(keyed, entries_per_block))
    return entries
