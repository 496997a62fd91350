"""Paths and comparisons the checkpoint tests share (numpy only, importable from every test env)."""

from __future__ import annotations

import hashlib
import mmap
from pathlib import Path

import numpy as np

from albert_core.schema import Head

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF_TINY = FIXTURES / "hf_tiny"
CONFIG_NAMES = ["tiny", "tiny-g2k2"]
HEADS = [h.value for h in Head]


def assert_same_state(got, want) -> None:
    """Same names, dtypes and bits."""
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def state_digest(state) -> str:
    """sha256 over names, dtypes, shapes and bytes in name order: equal digests, equal states."""
    digest = hashlib.sha256()
    for name in sorted(state):
        array = np.ascontiguousarray(state[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def mapped_file(array: np.ndarray):
    """The mmap an array is a view of (None if it owns or borrows other memory)."""
    base = array
    while isinstance(base, (np.ndarray, memoryview)):
        base = base.base if isinstance(base, np.ndarray) else base.obj
    return base if isinstance(base, mmap.mmap) else None
