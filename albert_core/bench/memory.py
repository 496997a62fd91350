"""Process memory on Linux: the RSS now, and the peak (VmHWM) since the last reset.

A CPU row's memory figure is `peak_rss_mib() - baseline` where the baseline is `rss_mib()` taken
(and the peak mark reset) once the model, inputs and optimizer state exist: what the timed calls
themselves needed on top of what was loaded. One subprocess per row, so no row sees another's peak.
"""

from __future__ import annotations

import os


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
