"""A row's memory figure, and process memory on Linux (the RSS now, the peak since the last reset).

The rule, the same for every backend's rows (albert_core.bench.rows.measure runs it):
1. Build the model, inputs and optimizer; run the row's call once, untimed. This first call does
   the one-off work: tracing and XLA compilation, jit, torch.compile, kernel selection, the
   optimizer's lazily built state. compile_s = this call's time - the median timed call (for rows
   whose first call compiles; None for the others).
2. gc + malloc_trim (free heap back to the OS), then baseline = start_peak_window() (CPU) or the
   allocator's bytes in use (GPU), with the peak mark reset.
3. The warm-up calls, then the timed calls.
4. peak_mib = the peak over 3 - the baseline: what a warm call needs on top of what stays loaded.
One subprocess per row, so no row sees another's peak. On GPU the figure is the framework's
allocator (torch.cuda.max_memory_allocated, TensorFlow's get_memory_info, JAX's memory_stats; JAX
cannot reset its peak, so there it is the process's peak).
"""

from __future__ import annotations

import os
from typing import Protocol


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> None:
    """Set the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux ≥ 4.0)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (not Linux?)")


def start_peak_window() -> float:
    """Reset the peak mark and return the baseline RSS (MiB) the window's peak is measured from."""
    reset_peak_rss()
    return rss_mib()


class MemoryWindow(Protocol):
    """Where a row's memory figure comes from: the CPU's RSS or a GPU framework's allocator."""

    peak_name: str  # the peak figure, for the row's notes ("peak RSS", "torch.cuda.max_memory_allocated")
    level_name: str  # the level the baseline reads ("the RSS", "memory_allocated")

    def start(self) -> float:
        """Reset the peak mark (where the source allows it); the baseline in MiB."""

    def peak(self) -> float:
        """The peak in MiB since start()."""


class RssWindow:
    """A CPU row's window: VmHWM after start_peak_window()."""

    peak_name = "peak RSS"
    level_name = "the RSS"

    def start(self) -> float:
        return start_peak_window()

    def peak(self) -> float:
        return peak_rss_mib()
