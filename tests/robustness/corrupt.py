"""Corrupting checkpoint files, and judging what a reader made of the result.

A reader given a damaged file may do one of three things, and the suite accepts only these:
reject it with a documented error (CheckpointError, or ConfigError for a damaged config.json),
load it with a tensor whose name was damaged re-initialised and listed in MatchResult.initialised
(what any checkpoint lacking a pooler or head gets), load it unchanged (the damage hit bytes no tensor depends on: padding, metadata), or load it
with a change confined to the tensor whose stored bytes were hit (formats without checksums
cannot notice a flipped mantissa bit; that is not a header). Any other exception, or a change in
a tensor the damage did not touch, is a failure: a crash from deep inside, or a silent wrong load.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from albert_core.checkpoint import load_checkpoint, match_state
from albert_core.config import AlbertConfig
from albert_core.errors import CheckpointError, ConfigError

DOCUMENTED = (CheckpointError, ConfigError)


def truncate(data: bytes, size: int) -> bytes:
    return data[:size]


def flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def payload_spans(data: bytes, state: Mapping[str, np.ndarray]) -> dict[str, list[tuple[int, int]]]:
    """Where each tensor's bytes lie in the file (as stored, or transposed as Dense kernels are),
    found by content: tensors of the fixtures are random, so their bytes occur only where stored."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for name, array in state.items():
        for layout in (array, array.T):
            raw = np.ascontiguousarray(layout).tobytes()
            if len(raw) < 16:
                continue  # too short to be unique: treated as header bytes (stricter)
            start = data.find(raw)
            while start != -1:
                spans.setdefault(name, []).append((start, start + len(raw)))
                start = data.find(raw, start + 1)
    return spans


def h5_address_spans(data: bytes, spans: dict[str, list[tuple[int, int]]]) -> dict[str, list[tuple[int, int]]]:
    """The 16 bytes (address, size) of each contiguous dataset's layout message (version 3, class 1)
    in an h5 file. HDF5 metadata has no checksums here: a flip in an address reads other bytes,
    and can only be caught when those are another dataset's (H5Weights checks that), so a flip
    there may change that one tensor, like a flip in its data."""
    found: dict[str, list[tuple[int, int]]] = {}
    for name, places in spans.items():
        for start, end in places:
            at = data.find(b"\x03\x01" + struct.pack("<QQ", start, end - start))
            if at != -1:
                found.setdefault(name, []).append((at + 2, at + 18))
    return found


def merge_spans(*maps: dict[str, list[tuple[int, int]]]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for spans in maps:
        for name, places in spans.items():
            out.setdefault(name, []).extend(places)
    return out


def touched_by(spans: dict[str, list[tuple[int, int]]], byte: int) -> set[str]:
    return {name for name, places in spans.items() if any(s <= byte < e for s, e in places)}


@dataclass
class Outcome:
    kind: str  # "rejected", "identical", "payload-changed", "reinitialised-and-reported"
    detail: str = ""


def judge(path: Path, config: AlbertConfig, head: str, original: Mapping[str, np.ndarray],
          touched: set[str] = frozenset()) -> Outcome:
    """Load `path` as (config, head); classify the result against `original`, failing on anything
    the suite does not accept. `touched`: tensors whose stored bytes the damage hit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN/Inf warnings from damaged data
            _, state = load_checkpoint(path, config=config)
            result = match_state(state, config, head)
            state = result.state
    except DOCUMENTED as exc:
        message = str(exc)
        assert message, f"{type(exc).__name__} without a message"
        return Outcome("rejected", type(exc).__name__)
    changed = sorted(name for name in original if not _same(state.get(name), original[name]))
    if not changed:
        return Outcome("identical")
    # A damaged name made a tensor missing; match_state initialised it and says so, as it does for
    # any checkpoint without a pooler or head: reported to the user, not silent.
    reported = set(result.initialised)
    if set(changed) <= reported:
        return Outcome("reinitialised-and-reported", ",".join(changed))
    changed = [name for name in changed if name not in reported]
    assert set(changed) <= set(touched), f"damage outside their bytes changed {changed} silently (touched: {touched})"
    return Outcome("payload-changed", ",".join(changed))


def _same(got, want) -> bool:
    if got is None or got.shape != want.shape or got.dtype != want.dtype:
        return False
    return np.array_equal(np.ascontiguousarray(got).view(np.uint8), np.ascontiguousarray(want).view(np.uint8))
