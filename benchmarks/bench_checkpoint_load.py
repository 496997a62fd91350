"""Reading an albert-xxlarge-shape canonical safetensors checkpoint: ours vs safetensors.numpy.load_file.

    python benchmarks/bench_checkpoint_load.py [--folder /tmp/albert-xxlarge-bench] [--repeats 5] [--json out.json]

The checkpoint (albert-xxlarge-v2 shape with the masked-LM head, random fp32 values, ~0.8 GB) is
written once by save_checkpoint (in a child process, so this one stays small) and reused. Each
measurement runs in a fresh process: it imports what it needs, notes its RSS, times the load call,
then reports its peak RSS (VmHWM: the high-water mark of that process image; getrusage's ru_maxrss
would not do, Linux carries it over from the forking parent across exec). The file is read once beforehand so every run finds it
in the page cache; the candidates are interleaved (A B C, A B C, ...) and medians are reported.
The measuring code is albert_core.bench.checkpoint_bench.

Candidates:
- `safetensors.numpy.load_file(path)`: the reference: every tensor copied into numpy memory.
- `albert load_checkpoint(folder)`: the whole public path: format detection, config.json, mmap read,
  name normalisation, tied-tensor check, and the NaN/Inf scan, which touches every byte (so the
  data really is read, as the reference does).
- `albert read_safetensors(path)` (lazy): the mmap reader alone, touching nothing: the zero-copy
  floor, for information.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from albert_core.bench.checkpoint_bench import (  # noqa: E402
    LOAD_CANDIDATES,
    build_checkpoint,
    build_checkpoint_in_child,
    interleaved_runs,
    warm_page_cache,
)

__all__ = ["build_checkpoint", "main"]  # build_checkpoint: kept importable from here for older callers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", default="/tmp/albert-xxlarge-bench")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    folder = Path(args.folder)
    path = folder / "model.safetensors"
    if not path.exists():
        print(f"building {path} ...", flush=True)
        build_checkpoint_in_child(folder)
    size_mib = path.stat().st_size / 2**20
    warm_page_cache(path)
    runs = interleaved_runs(LOAD_CANDIDATES, path, folder, args.repeats)

    import numpy
    import safetensors

    rows = []
    for name, results in runs.items():
        rows.append(
            {
                "candidate": name,
                "median_s": statistics.median(r["seconds"] for r in results),
                "median_peak_mib": statistics.median(r["peak_mib"] for r in results),
                "median_peak_over_baseline_mib": statistics.median(r["peak_mib"] - r["baseline_mib"] for r in results),
                "tensors": results[0]["tensors"],
            }
        )
    ref = rows[0]
    print(
        f"file {size_mib:.0f} MiB, {args.repeats} interleaved runs each; python {platform.python_version()}, "
        f"numpy {numpy.__version__}, safetensors {safetensors.__version__}; {time.strftime('%Y-%m-%d')}"
    )
    print("| candidate | median s | × load_file | peak RSS MiB | × | peak over pre-load RSS MiB | × |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['candidate']} | {row['median_s']:.3f} | {row['median_s'] / ref['median_s']:.2f} "
            f"| {row['median_peak_mib']:.0f} | {row['median_peak_mib'] / ref['median_peak_mib']:.2f} "
            f"| {row['median_peak_over_baseline_mib']:.0f} "
            f"| {row['median_peak_over_baseline_mib'] / ref['median_peak_over_baseline_mib']:.2f} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"file_mib": size_mib, "rows": rows, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
