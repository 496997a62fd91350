"""Reading an albert-xxlarge-shape canonical safetensors checkpoint: ours vs safetensors.numpy.load_file.

    python benchmarks/bench_checkpoint_load.py [--folder /tmp/albert-xxlarge-bench] [--repeats 5] [--json out.json]

The checkpoint (albert-xxlarge-v2 shape with the masked-LM head, random fp32 values, ~0.8 GB) is
written once by save_checkpoint (in a child process, so this one stays small) and reused. Each
measurement runs in a fresh process: it imports what it needs, notes its RSS, times the load call,
then reports its peak RSS (VmHWM: the high-water mark of that process image; getrusage's ru_maxrss
would not do, Linux carries it over from the forking parent across exec). The file is read once beforehand so every run finds it
in the page cache; the candidates are interleaved (A B C, A B C, ...) and medians are reported.

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
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Each child: imports, baseline RSS, timed call, peak RSS. {path} and {folder} are filled in.
CHILD = """
import json, time, sys
sys.path.insert(0, {root!r})
{imports}
def status_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
before = status_kib("VmRSS")
start = time.perf_counter()
result = {call}
elapsed = time.perf_counter() - start
peak = status_kib("VmHWM")
print(json.dumps({{"seconds": elapsed, "peak_mib": peak / 1024, "baseline_mib": before / 1024, "tensors": len(result)}}))
"""

CANDIDATES = {
    "safetensors.numpy.load_file": ("from safetensors.numpy import load_file", "load_file({path!r})"),
    "albert load_checkpoint": ("from albert_core.checkpoint import load_checkpoint", "load_checkpoint({folder!r})[1]"),
    "albert read_safetensors (lazy, untouched)": (
        "from albert_core.checkpoint.safetensors_io import read_safetensors",
        "read_safetensors({path!r})",
    ),
}


def build_checkpoint(folder: Path) -> Path:
    import numpy as np

    from albert_core.checkpoint import save_checkpoint
    from albert_core.presets import preset_config
    from albert_core.schema import tensor_specs

    config = preset_config("albert-xxlarge-v2", architectures=["AlbertForMaskedLM"])
    rng = np.random.default_rng(0)
    state = {
        spec.name: rng.standard_normal(spec.shape, dtype=np.float32) * np.float32(0.02)
        for spec in tensor_specs(config, "masked_lm")
        if spec.tied_to is None
    }
    save_checkpoint(folder, config, state)
    return folder / "model.safetensors"


def run_child(name: str, path: Path, folder: Path) -> dict:
    imports, call = CANDIDATES[name]
    code = CHILD.format(root=str(ROOT), imports=imports, call=call.format(path=str(path), folder=str(folder)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


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
        code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.bench_checkpoint_load import build_checkpoint; from pathlib import Path; build_checkpoint(Path({str(folder)!r}))"
        subprocess.run([sys.executable, "-c", code], check=True)
    size_mib = path.stat().st_size / 2**20
    with open(path, "rb") as f:  # into the page cache, so no candidate pays the first disk read
        while f.read(64 << 20):
            pass

    runs: dict[str, list[dict]] = {name: [] for name in CANDIDATES}
    for _ in range(args.repeats):
        for name in CANDIDATES:
            runs[name].append(run_child(name, path, folder))

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
