"""Peak memory of `albert convert` at albert-xxlarge size, against the checkpoint's size.

    python benchmarks/bench_convert.py [--folder /tmp/albert-convert-bench] [--out docs/bench_convert.md]

The source is an albert-xxlarge-v2-shape masked-LM checkpoint with random fp32 values (~0.9 GB,
albert_core.bench.checkpoint_bench.build_checkpoint), plus a TF1 google-research copy of it
(written with tf.raw_ops.SaveV2 under google-research's variable names). Each conversion runs in
a fresh process through the CLI entry point (`albert_core.cli.main`) and reports its VmHWM, the
peak resident set of that process image (file-backed pages of memory-mapped checkpoints count,
as they should), and the VmRSS it had after its imports, before the conversion began. The
acceptance line is peak RSS <= 1.5 × the checkpoint's size. Outputs are deleted as soon as
measured, so the disk holds at most the sources and one output. The measuring code is
albert_core.bench.convert_bench.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from albert_core.atomic import atomic_write_text  # noqa: E402
from albert_core.bench.checkpoint_bench import build_checkpoint_in_child  # noqa: E402
from albert_core.bench.convert_bench import build_tf1, measure_conversions, render_markdown  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", default="/tmp/albert-convert-bench")
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench_convert.md"))
    args = parser.parse_args()
    base = Path(args.folder)
    source = base / "safetensors"
    if not (source / "model.safetensors").exists():
        print(f"building {source} ...", flush=True)
        build_checkpoint_in_child(source)
    tf1 = base / "tf1"
    if not (tf1 / "checkpoint").exists():
        print(f"building {tf1} ...", flush=True)
        build_tf1(source, tf1)
    rows = measure_conversions(base, source, tf1, report=lambda row: print(row, flush=True))
    text = render_markdown(rows)
    atomic_write_text(args.out, text)
    print(text, end="")


if __name__ == "__main__":
    main()
