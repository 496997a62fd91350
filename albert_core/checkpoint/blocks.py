"""An array's C-order bytes in blocks, without a whole-tensor copy.

A kernel read from a Flax or TF1 checkpoint is a transposed view of the mapped file; writing or
hashing its C-order bytes with `np.ascontiguousarray(array)` would copy the whole tensor (256 MiB
for an albert-xxlarge FFN kernel). Row blocks of a few MB cost only the block.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

BLOCK_BYTES = 4 << 20


def c_order_blocks(array: np.ndarray, block_bytes: int | None = None) -> Iterator[memoryview]:
    """The bytes of `array` in C order, as consecutive byte views (one view if it is C-contiguous)."""
    block_bytes = block_bytes or BLOCK_BYTES
    if array.ndim == 0 or array.flags.c_contiguous:
        yield memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
        return
    row_bytes = max(array.nbytes // max(array.shape[0], 1), 1)
    rows = max(block_bytes // row_bytes, 1)
    for start in range(0, array.shape[0], rows):
        block = np.ascontiguousarray(array[start : start + rows])
        yield memoryview(block.reshape(-1).view(np.uint8))
