"""Reading a canonical safetensors checkpoint: our loader against a plain read of the same bytes.

Each measurement runs in a fresh process: it imports what it needs, notes its RSS, times the one
call, then reports its peak RSS (VmHWM: the high-water mark of that process image; getrusage's
ru_maxrss would not do, Linux carries it over from the forking parent across exec). The file is
read once beforehand so every run finds it in the page cache; candidates are interleaved
(A B C, A B C, ...) over the repeats.

Used by benchmarks/bench_checkpoint_load.py (albert-xxlarge shape, ours vs
`safetensors.numpy.load_file`) and by `albert bench`'s "checkpoint" tool row (the --model's
shape: a plain read of the file, the loaders, and `albert convert` into each format whose writer
needs no framework).
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .tools import Candidate, ToolResult, ToolSpec

REPO_ROOT = Path(__file__).resolve().parents[2]

# How every measured child starts: the project importable, the candidate's imports, a reader of
# /proc/self/status (VmRSS, VmHWM) in KiB. {root} and {imports} are filled in.
CHILD_PRELUDE = """
import json, time, sys
sys.path.insert(0, {root!r})
{imports}
def status_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
"""
# Each load child: imports, baseline RSS, timed call, peak RSS. {path} and {folder} are filled in too.
CHILD = CHILD_PRELUDE + """before = status_kib("VmRSS")
start = time.perf_counter()
result = {call}
elapsed = time.perf_counter() - start
peak = status_kib("VmHWM")
print(json.dumps({{"seconds": elapsed, "peak_mib": peak / 1024, "baseline_mib": before / 1024, "tensors": len(result)}}))
"""

# name -> (imports, call) of benchmarks/bench_checkpoint_load.py's table.
LOAD_CANDIDATES = {
    "safetensors.numpy.load_file": ("from safetensors.numpy import load_file", "load_file({path!r})"),
    "albert load_checkpoint": ("from albert_core.checkpoint import load_checkpoint", "load_checkpoint({folder!r})[1]"),
    "albert read_safetensors (lazy, untouched)": (
        "from albert_core.checkpoint.safetensors_io import read_safetensors",
        "read_safetensors({path!r})",
    ),
}
# The floor `albert bench` compares loading with: the file's bytes read into memory, nothing else.
PLAIN_READ = {"plain file read": ("", "open({path!r}, 'rb').read()")}
# `albert convert --to X` rows of `albert bench`: X -> the module its writer needs (None: numpy only).
CONVERT_TARGETS = {"safetensors": None, "hf-flax": "msgpack", "hf-tf": "h5py"}


def build_checkpoint(folder: Path, model: str = "albert-xxlarge-v2") -> Path:
    """config.json + model.safetensors of `model`'s shape (a preset or a config.json path) with the
    masked-LM head and random fp32 values; returns the safetensors file."""
    import numpy as np

    from ..checkpoint import save_checkpoint
    from ..config import AlbertConfig
    from ..schema import tensor_specs

    config = AlbertConfig.from_pretrained(model, architectures=["AlbertForMaskedLM"])
    rng = np.random.default_rng(0)
    state = {
        spec.name: rng.standard_normal(spec.shape, dtype=np.float32) * np.float32(0.02)
        for spec in tensor_specs(config, "masked_lm")
        if spec.tied_to is None
    }
    save_checkpoint(folder, config, state)
    return folder / "model.safetensors"


def build_checkpoint_in_child(folder: Path, model: str = "albert-xxlarge-v2") -> Path:
    """build_checkpoint in a child process, so the caller's RSS stays small."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); from pathlib import Path; "
        f"from albert_core.bench.checkpoint_bench import build_checkpoint; build_checkpoint(Path({str(folder)!r}), {model!r})"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    return folder / "model.safetensors"


def warm_page_cache(path: Path) -> None:
    """Read `path` once, so no candidate pays the first disk read."""
    with open(path, "rb") as handle:
        while handle.read(64 << 20):
            pass


def run_child(candidates: dict[str, tuple[str, str]], name: str, path: Path, folder: Path) -> dict:
    """One fresh-process run of candidate `name`: {seconds, peak_mib, baseline_mib, tensors}."""
    imports, call = candidates[name]
    code = CHILD.format(root=str(REPO_ROOT), imports=imports, call=call.format(path=str(path), folder=str(folder)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"checkpoint candidate {name!r} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved_runs(candidates: dict[str, tuple[str, str]], path: Path, folder: Path, repeats: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name in candidates:
            runs[name].append(run_child(candidates, name, path, folder))
    return runs


def _convert_run(source: Path, target: str, scratch: Path) -> dict:
    from .convert_bench import run_convert

    destination = scratch / f"convert-{target}"
    shutil.rmtree(destination, ignore_errors=True)
    try:
        return run_convert(["convert", str(source), str(destination), "--to", target, "--quiet"], [])
    finally:
        shutil.rmtree(destination, ignore_errors=True)


def _record(candidate: Candidate, run: dict) -> None:
    candidate.times_s.append(run["seconds"])
    candidate.peaks_mib.append(run["peak_mib"] - run["baseline_mib"])


def run_checkpoint_tool(spec: ToolSpec) -> ToolResult:
    import numpy
    import safetensors

    targets = [t for t, module in CONVERT_TARGETS.items() if module is None or importlib.util.find_spec(module)]
    skipped = [t for t in CONVERT_TARGETS if t not in targets]
    candidates = {**PLAIN_READ, **LOAD_CANDIDATES}
    results = {name: Candidate(name) for name in [*candidates, *(f"albert convert --to {t}" for t in targets)]}
    with tempfile.TemporaryDirectory(prefix="albert-bench-checkpoint-") as tmp:
        scratch = Path(tmp)
        folder = scratch / "source"
        path = build_checkpoint(folder, spec.model)
        warm_page_cache(path)
        try:
            for _ in range(spec.repeats):  # every candidate once per repeat: drift hits all alike
                for name in candidates:
                    _record(results[name], run_child(candidates, name, path, folder))
                for target in targets:
                    _record(results[f"albert convert --to {target}"], _convert_run(folder, target, scratch))
        except RuntimeError as exc:
            return ToolResult(spec, error=str(exc))
        file_mib = path.stat().st_size / 2**20
    notes = "convert includes the read-back check of what it wrote"
    if skipped:
        notes += f"; not measured (writer's package not installed): {', '.join('--to ' + t for t in skipped)}"
    return ToolResult(
        spec,
        candidates=list(results.values()),
        info={"file_mib": file_mib},
        versions={"python": platform.python_version(), "numpy": numpy.__version__, "safetensors": safetensors.__version__},
        notes=notes,
    )
