"""Timing one row's calls: warm-up calls, then timed ones (the compiling first call is rows.measure's)."""

from __future__ import annotations

import time
from typing import Callable


def time_calls(call: Callable[[], object], warmup: int, iters: int) -> list[float]:
    """Times in ms of `iters` calls after `warmup` untimed ones.

    `call` must block until its result exists (torch: CPU ops are synchronous, CUDA needs a
    synchronize; TF: .numpy() or sync_devices; JAX: block_until_ready).
    """
    for _ in range(warmup):
        call()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return times
