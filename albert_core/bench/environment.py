"""What a benchmark table must say about where it was measured: machine, load, versions, date.

The load average at the start and end of a run tells a reader whether other work shared the
machine (ratios inside one interleaved run still hold then; absolute times do not). Framework
versions come from the rows themselves: each child reports what it imported.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from typing import Any, Iterable


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    """NVIDIA GPUs as nvidia-smi names them (empty where there is none or no nvidia-smi)."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def start_environment(plan: Any, rounds: int) -> dict[str, Any]:
    return {
        "date": _now(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "device": plan.device,
        "gpus": gpu_names() if plan.device == "gpu" else [],
        "rounds": rounds,
        "load_start": _load(),
        "skipped": list(plan.skipped),
    }


def finish_environment(environment: dict[str, Any]) -> dict[str, Any]:
    return {**environment, "date_end": _now(), "load_end": _load()}


def collect_versions(results: Iterable[Any]) -> dict[str, str]:
    """package -> version over every row's `versions` (rows that disagree: both, "a / b")."""
    seen: dict[str, dict[str, None]] = {}
    for result in results:
        for package, version in (result.versions or {}).items():
            seen.setdefault(package, {})[str(version)] = None
    return {package: " / ".join(versions) for package, versions in sorted(seen.items())}
