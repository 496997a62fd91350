"""`albert convert` measured in fresh processes: time and peak memory against the checkpoint's size.

Each conversion runs in a fresh process through the CLI entry point (`albert_core.cli.main`) and
reports its VmHWM, the peak resident set of that process image (file-backed pages of
memory-mapped checkpoints count, as they should), and the VmRSS it had after its imports, before
the conversion began.

Used by `albert bench`'s checkpoint row (`run_convert`) and by benchmarks/bench_convert.py, the
albert-xxlarge table of every format pair (`measure_conversions`, `render_markdown`), whose
source is an xxlarge-shape masked-LM checkpoint with random fp32 values plus a TF1
google-research copy of it (`build_tf1`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .checkpoint_bench import CHILD_PRELUDE, REPO_ROOT, warm_page_cache

LIMIT = 1.5  # peak RSS / checkpoint size, the convert issue's bound

# The child: import what the conversion will import (so the baseline counts the frameworks), note
# VmRSS, convert, report VmHWM.
CHILD = CHILD_PRELUDE + """from albert_core.cli import main
before = status_kib("VmRSS")
start = time.perf_counter()
code = main({argv!r})
print(json.dumps({{"rc": code, "seconds": time.perf_counter() - start, "peak_mib": status_kib("VmHWM") / 1024,
                  "baseline_mib": before / 1024}}))
"""

FRAMEWORK_IMPORTS = {"torch": "import torch", "tensorflow": "import tensorflow"}


def build_tf1(source: Path, folder: Path) -> Path:
    """A TF1 checkpoint of `source`'s weights under google-research's names (tiny-fixture recipe),
    written by tensorflow in a child process."""
    code = f"""
import sys, shutil
sys.path.insert(0, {str(REPO_ROOT)!r})
import numpy as np, tensorflow as tf
from albert_core.checkpoint import load_checkpoint
from albert_core.checkpoint.tf1 import tf1_names
config, state = load_checkpoint({str(source)!r})
names, tensors = [], []
for name, (google, transpose) in tf1_names(config).items():
    if name in state:
        names.append(google)
        tensors.append(np.ascontiguousarray(state[name].T) if transpose else state[name])
folder = {str(folder)!r}
tf.raw_ops.SaveV2(prefix=folder + "/model.ckpt-1", tensor_names=names, shape_and_slices=[""] * len(names), tensors=tensors)
open(folder + "/checkpoint", "w").write('model_checkpoint_path: "model.ckpt-1"\\n')
shutil.copy({str(source / "config.json")!r}, folder + "/config.json")
"""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return folder


def run_convert(argv: list[str], imports: list[str]) -> dict:
    """`albert <argv>` in a fresh process that first imports `imports` (keys of FRAMEWORK_IMPORTS):
    {rc, seconds, peak_mib, baseline_mib}; a failed conversion raises RuntimeError with its stderr."""
    code = CHILD.format(root=str(REPO_ROOT), imports="\n".join(FRAMEWORK_IMPORTS[i] for i in imports), argv=argv)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{argv} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"{argv} returned {result['rc']}:\n{out.stderr[-3000:]}")
    return result


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file() and p.name != "config.json")


def measure_conversions(base: Path, source: Path, tf1: Path, report=print) -> list[dict]:
    """Every format pair of the xxlarge table, one fresh process each; outputs are deleted as soon
    as measured (an hf-* output made from `source` is kept until converted back)."""
    # (label, source folder, --to, extra options, frameworks its reader/writer imports)
    plan = [
        ("safetensors -> safetensors (sharded, 200MB)", source, "safetensors", ["--max-shard-size", "200MB"], []),
        ("safetensors -> hf-torch", source, "hf-torch", [], ["torch"]),
        ("hf-torch -> safetensors", "hf-torch", "safetensors", [], ["torch"]),
        ("safetensors -> hf-tf", source, "hf-tf", [], []),
        ("hf-tf -> safetensors", "hf-tf", "safetensors", [], []),
        ("safetensors -> hf-flax", source, "hf-flax", [], []),
        ("hf-flax -> safetensors", "hf-flax", "safetensors", [], []),
        ("safetensors -> safetensors --dtype float16", source, "safetensors", ["--dtype", "float16"], []),
        ("TF1 -> safetensors", tf1, "safetensors", [], []),  # read with numpy: no tensorflow import
    ]
    rows = []
    made: dict[str, Path] = {}
    for label, src, to, options, imports in plan:
        src_path = made[src] if isinstance(src, str) else src
        dst = base / f"out-{len(rows)}"
        shutil.rmtree(dst, ignore_errors=True)
        size = folder_bytes(src_path) if src_path != tf1 else sum(p.stat().st_size for p in tf1.glob("model.ckpt-1.*"))
        for p in src_path.iterdir():  # into the page cache: no run pays the first disk read
            if p.is_file():
                warm_page_cache(p)
        result = run_convert(["convert", str(src_path), str(dst), "--to", to, "--quiet", *options], imports)
        rows.append({"conversion": label, "source_mib": size / 2**20, "output_mib": folder_bytes(dst) / 2**20, **result})
        report(rows[-1])
        if to in ("hf-torch", "hf-tf", "hf-flax") and src_path == source:
            made[to] = dst  # the next row converts it back
        else:
            shutil.rmtree(dst)
    for path in made.values():
        shutil.rmtree(path, ignore_errors=True)
    return rows


def render_markdown(rows: list[dict]) -> str:
    import numpy

    lines = [
        "# `albert convert` at albert-xxlarge size: peak memory",
        "",
        "Written by `python benchmarks/bench_convert.py` (cross env). Source: albert-xxlarge-v2 shape with the",
        "masked-LM head, random fp32 values (and a TF1 google-research copy of it). Each conversion runs in a",
        "fresh process through `albert_core.cli.main`; peak RSS is that process's VmHWM (memory-mapped file",
        "pages count); 'after imports' is its VmRSS before converting (python, numpy, and the framework the",
        "format needs). Bound: peak RSS <= 1.5 × the source checkpoint's size.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, numpy {numpy.__version__}; "
        f"{time.strftime('%Y-%m-%d')}. Every conversion also reads its output back and compares it bit for bit.",
        "",
        "| conversion | source MiB | output MiB | peak RSS MiB | peak / source | after imports MiB | (peak - imports) / source | s | ≤ 1.5× |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = r["peak_mib"] / r["source_mib"]
        net = (r["peak_mib"] - r["baseline_mib"]) / r["source_mib"]
        lines.append(
            f"| {r['conversion']} | {r['source_mib']:.0f} | {r['output_mib']:.0f} | {r['peak_mib']:.0f} | {ratio:.2f} "
            f"| {r['baseline_mib']:.0f} | {net:.2f} | {r['seconds']:.1f} | {'yes' if ratio <= LIMIT else 'no'} |"
        )
    lines += [
        "",
        "Where the memory goes, by format (the mechanisms; the numbers are the table's):",
        "",
        "- safetensors in and out: the source is memory-mapped and written tensor by tensor; the written",
        "  state is reduced to one digest per tensor and released before the read-back maps the output.",
        "- `--dtype`: tensors are cast one at a time and each source tensor's mapped pages are given",
        "  back (madvise) once cast, so the peak is the source plus the cast copy of one tensor at a time",
        "  on top of the cast copies so far.",
        "- hf-torch: `pytorch_model.bin` is read memory-mapped (torch.load mmap=True) and written by",
        "  torch.save from the arrays themselves (no copy); torch's import adds its own ~220 MiB.",
        "- hf-tf: h5py reads and writes one dataset at a time; kernels are transposed one at a time.",
        "- hf-flax: `flax_model.msgpack` is memory-mapped and its msgpack structure walked in place, so",
        "  every array is a view of the mapped file and a kernel ([in, out] in Flax) its transposed",
        "  view; the writer streams each array into the file, a transposed kernel in row blocks of 4 MB,",
        "  and the read-back hashes such views in row blocks too. Reading a `flax_model.msgpack` source",
        "  into safetensors still copies one kernel at a time (the safetensors writer makes each tensor",
        "  contiguous before writing it): the largest, an FFN kernel of 256 MiB, is the excess over 1×.",
        "- TF1: the `.index` table and its entries are parsed with numpy (albert_core.checkpoint.tf_bundle),",
        "  no tensorflow import; tensors are views of the mapped `.data-*` file and kernels transposed",
        "  views, so the peak is the mapped checkpoint plus, as above, the contiguous copy of one kernel",
        "  that the safetensors writer makes.",
    ]
    return "\n".join(lines) + "\n"
