"""Timing one row's calls: warm-up calls (the first one's extra time is its compile), then timed ones."""

from __future__ import annotations

import time
from typing import Callable


def time_calls(call: Callable[[], object], warmup: int, iters: int) -> tuple[list[float], float | None]:
    """(times in ms of `iters` calls, compile seconds or None when warmup < 2).

    `call` must block until its result exists (torch: CPU ops are synchronous, CUDA needs a
    synchronize; TF: .numpy(); JAX: block_until_ready). The compile estimate is the first call's
    time minus the median of the other warm-up calls: tracing, XLA compilation, kernel selection.
    """
    warm = []
    for _ in range(warmup):
        start = time.perf_counter()
        call()
        warm.append(time.perf_counter() - start)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    compile_s = None
    if len(warm) >= 2:
        rest = sorted(warm[1:])
        compile_s = max(0.0, warm[0] - rest[len(rest) // 2])
    return times, compile_s
