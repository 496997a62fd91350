"""`albert bench`: the seed's training and inference tables for every backend, beside HF and the GEMM floor.

    albert bench --quick                          # about a minute: default paths, fp32, 2 x 128, tokenizer
    albert bench                                  # everything installed: the seed's grid, fp32 + bf16
    albert bench --backends torch --suites inference --precisions fp32 --batches 8 --seqs 128,512
    albert bench --model my_config.json --batches 2 --seqs 16 --iters 2     # a tiny smoke run
    albert bench --report bench-results/20261125-120000                    # re-render a run's files

Each row runs in a fresh process (albert_core.bench.runner); the table is printed and written to
OUT_DIR with results.json, results.csv, tools.csv and chart.png. results.json and the CSVs are
rewritten after every row, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from ..errors import ConfigError


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(part) for part in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def write_outputs(results, out_dir: Path) -> str:
    """table.md, results.json, results.csv, tools.csv and chart.png; returns the table's text."""
    from ..atomic import atomic_write_text
    from ..bench.chart import draw_chart
    from ..bench.report import render_markdown, write_data

    write_data(results, out_dir)
    text = render_markdown(results)
    atomic_write_text(out_dir / "table.md", text)
    skipped = draw_chart(results.rows, out_dir / "chart.png")
    if skipped:
        print(f"albert bench: {skipped}", file=sys.stderr)
    return text


def rerender(folder: Path) -> int:
    from ..bench.results import read_json

    if not (folder / "results.json").is_file():
        raise FileNotFoundError(f"--report {folder}: no results.json there")
    print(write_outputs(read_json(folder / "results.json"), folder), end="")
    return 0


def run(args) -> int:
    if args.report:
        return rerender(Path(args.report))
    from ..bench.plan import build_plan, detect_device
    from ..bench.report import write_data
    from ..bench.runner import run_plan

    if args.rounds < 1 or args.timeout <= 0:
        raise ConfigError(f"--rounds must be ≥ 1 and --timeout > 0, got {args.rounds} and {args.timeout}")
    plan = build_plan(
        quick=args.quick,
        device=args.device or detect_device(),
        model=args.model,
        backends=args.backends,
        impls=args.impls,
        suites=args.suites,
        precisions=args.precisions,
        variants=args.variants,
        batches=args.batches,
        seqs=args.seqs,
        warmup=args.warmup,
        iters=args.iters,
    )
    if args.list:
        for spec in plan.rows:
            print(f"{spec.suite:9s} {spec.label:36s} {spec.batch:3d} x {spec.seq:<4d} warmup {spec.warmup} iters {spec.iters} {spec.device}")
        for tool in plan.tools:
            print(f"{tool.tool:9s} {tool.label} repeats {tool.repeats}")
        for line in plan.skipped:
            print(f"not planned: {line}")
        return 0
    out_dir = Path(args.out_dir or Path("bench-results") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"albert bench: {len(plan.rows)} model rows + {len(plan.tools)} tool rows, {args.rounds} round(s), device {plan.device}; writing {out_dir}", file=sys.stderr)
    for line in plan.skipped:
        print(f"albert bench: not planned: {line}", file=sys.stderr)
    results = run_plan(
        plan,
        rounds=args.rounds,
        timeout=args.timeout,
        module_template=args.row_module,
        progress=not args.no_progress,
        on_update=lambda partial: write_data(partial, out_dir),
    )
    print(write_outputs(results, out_dir), end="")
    print(f"albert bench: wrote {out_dir}/table.md, results.json, results.csv, tools.csv, chart.png", file=sys.stderr)
    ran = [r for r in [*results.rows, *results.tools] if r.error is None]
    return 0 if ran else 1


def register(subparsers) -> None:
    from ..bench.child import DEFAULT_MODULE

    parser = subparsers.add_parser(
        "bench",
        help="benchmark tables (training, inference, tokenizer, checkpoint) for every backend beside HF",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a one-minute subset: default paths, inference fp32 at 2 x 128, tokenizer")
    parser.add_argument("--out-dir", help="folder for the outputs (default bench-results/<date-time>)")
    parser.add_argument("--backends", type=_names, help="comma-separated: torch,tf,flax (default: those installed)")
    parser.add_argument("--impls", type=_names, help="albert,hf (default: both, hf when transformers is installed)")
    parser.add_argument("--suites", type=_names, help="inference,training,tokenizer,checkpoint (default: all; --quick: inference,tokenizer)")
    parser.add_argument("--precisions", type=_names, help="fp32,bf16,fp16 (default: fp32,bf16, plus fp16 on GPU; --quick: fp32)")
    parser.add_argument("--variants", type=_names, help="only these variants, e.g. sdpa,eager,xla,jit (default: all; --quick: each default)")
    parser.add_argument("--batches", type=_ints, help="batch sizes to run instead of the seed's grid")
    parser.add_argument("--seqs", type=_ints, help="sequence lengths to run instead of the seed's grid")
    parser.add_argument("--model", default="albert-base-v2", help="a preset, or a config.json / model folder (e.g. a tiny shape)")
    parser.add_argument("--rounds", type=int, default=1, help="run every row this many times, interleaved; times are merged")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds a row may run before it is killed (default 1800)")
    parser.add_argument("--device", choices=["cpu", "gpu"], help="default: gpu when an installed framework sees one")
    parser.add_argument("--warmup", type=int, help="warm-up calls per row (default: 5 on CPU, 10 on GPU, 2 with --quick)")
    parser.add_argument("--iters", type=int, help="timed calls per row (default: 10 on CPU, 100 on GPU, 3 with --quick)")
    parser.add_argument("--list", action="store_true", help="print the planned rows and exit")
    parser.add_argument("--report", metavar="DIR", help="only re-render DIR's table, CSVs and chart from its results.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--row-module", default=DEFAULT_MODULE, help=argparse.SUPPRESS)  # tests: a fake backend's module
    parser.set_defaults(run=run)
