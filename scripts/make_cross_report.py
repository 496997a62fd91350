"""Write docs/cross-report.md: the measured max |Δ| of every cross-framework harness case.

Run in the `cross` env (torch + TensorFlow + JAX/Flax + transformers), from the repository root:
    python scripts/make_cross_report.py

It runs exactly what tests/cross/test_harness.py asserts (tests/cross/harness: every case on every
installed backend, every pair compared) and prints, per case, check and pair, the worst element's
max |Δ| and its ratio to the bound of DESIGN.md section 5 (ratio < 1 passes), then each
backend's bf16 error against its own fp32. Exits non-zero if anything is out of tolerance.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from albert_core.atomic import atomic_write_text  # noqa: E402
from albert_core.cli.parity import GRAD_RTOL, LOSS_RTOL, OUTPUT_ATOL, STEP_GRAD_FLOOR, STEP_LR_FRACTION  # noqa: E402
from tests.cross.harness.cases import CASES, OPTIMIZERS  # noqa: E402
from tests.cross.harness.checks import BF16_RTOL  # noqa: E402
from tests.cross.harness.run import CHECKS, installed, pairs, run_case  # noqa: E402

OUT = ROOT / "docs" / "cross-report.md"


def _version(package: str) -> str:
    for name in (package, f"{package}-cpu"):  # tensorflow-cpu is the CPU wheel's name
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def worst(rows):
    """The row closest to (or furthest past) its bound."""
    return max(rows, key=lambda r: (not r.passed, r.max_abs / r.bound if r.bound else float("inf")))


def cell(rows) -> str:
    if not rows:
        return "–"
    r = worst(rows)
    mark = "" if all(x.passed for x in rows) else " **FAIL**"
    return f"{r.max_abs:.2g} ({r.max_abs / r.bound:.2f}){mark}" if r.bound else f"{r.max_abs:.2g}{mark}"


def main() -> int:
    backends = installed()
    pair_names = [f"{a}-{b}" for a, b in pairs(backends)]
    reports = []
    start = time.perf_counter()
    for case in CASES:
        t = time.perf_counter()
        reports.append(run_case(case, backends))
        print(f"{case.id}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    total = time.perf_counter() - start
    failures = [(rep.case.id, r) for rep in reports for r in rep.rows if not r.passed]

    lines = [
        "# Cross-framework report: measured max |Δ| per case",
        "",
        "Written by `python scripts/make_cross_report.py` (cross env) from the harness in",
        "`tests/cross/harness/`, the same runs `tests/cross/test_harness.py` asserts. Do not edit by hand.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, python {platform.python_version()}; "
        + ", ".join(f"{p} {_version(p)}" for p in ("torch", "tensorflow", "keras", "jax", "flax", "optax", "transformers"))
        + ".",
        f"Backends: {', '.join(backends)} (`hf` = HF transformers' PyTorch ALBERT, eager attention, the reference). "
        f"{len(CASES)} cases.",
        "",
        "## What is compared",
        "",
        "fp32, same canonical weights and inputs (batch 2, row 1 padded, token_type_ids 0/1; "
        "`albert_core.cli.parity.make_inputs`), every pair of backends, dropout off:",
        "",
        f"- outputs: every output tensor (logits, pooled output, last hidden state, each of the L+1 "
        f"hidden states and L·K attention maps): max |Δ| ≤ {OUTPUT_ATOL:g}; the loss: ≤ {LOSS_RTOL:g} × |loss|;",
        f"- gradients of every trained tensor (canonical names; the bare encoder backpropagates "
        f"mean(last_hidden_state²) + sum(pooler_output)): max |Δ| ≤ {GRAD_RTOL:g} × max(the tensor's max |grad|, the model's);",
        f"- parameters after one optimizer step (AdamW, LAMB; optax's definitions, lr "
        f"{OPTIMIZERS[0].learning_rate:g}, weight decay {OPTIMIZERS[0].weight_decay:g}, eps {OPTIMIZERS[0].eps:g}): "
        f"max |Δ| ≤ {STEP_LR_FRACTION:g} × lr on elements whose gradient exceeds {STEP_GRAD_FLOOR:g} × the "
        f"tensor's max and the gradient check's noise floor, {GRAD_RTOL:g} × max(the tensor's max, the model's) "
        f"(below it two backends' gradients may legitimately differ by as much as the gradient, and Adam's "
        f"step divides gradients near eps by eps; tests/cross/harness/checks.py:step_mask);",
        f"- bf16: each backend's mixed precision (torch autocast, Keras `mixed_bfloat16`, Flax "
        f"`dtype=bfloat16`; fp32 parameters) against its own fp32: max |Δ| ≤ {BF16_RTOL:g} × max |fp32 output|.",
        "",
        "Each cell: the worst element's max |Δ| and, in brackets, its ratio to the bound (< 1 passes).",
        "",
    ]
    for check in CHECKS:
        lines += [f"## {check}", "", "| case | " + " | ".join(pair_names) + " | worst tensor / output |", "|---" * (len(pair_names) + 2) + "|"]
        for rep in reports:
            rows = [r for r in rep.rows if r.check == check]
            if not rows:
                continue
            cells = [cell(rep.select(check, p)) for p in pair_names]
            lines.append(f"| {rep.case.id} | " + " | ".join(cells) + f" | {worst(rows).output} |")
        lines.append("")
    bf16_backends = [b for b in backends if b != "hf"]
    lines += [
        "## bf16 against the same backend's fp32",
        "",
        "Each cell: max |Δ| over every output, and in brackets that as a fraction of the output's max |fp32 value|.",
        "",
        "| case | " + " | ".join(bf16_backends) + " | worst output |",
        "|---" * (len(bf16_backends) + 2) + "|",
    ]
    bf16_worst = 0.0
    for rep in reports:
        rows = [r for r in rep.rows if r.check == "bf16"]
        if not rows:
            continue
        cells = []
        for b in bf16_backends:
            r = worst(rep.select("bf16", b))
            relative = r.max_abs / (r.bound / BF16_RTOL)
            bf16_worst = max(bf16_worst, relative)
            cells.append(f"{r.max_abs:.2g} ({relative:.3f})")
        lines.append(f"| {rep.case.id} | " + " | ".join(cells) + f" | {worst(rows).output} |")
    lines += [
        "",
        f"Worst bf16 error measured: {bf16_worst:.3f} of the output's scale; the bound "
        f"{BF16_RTOL:g} (tests/cross/harness/checks.py) is set from it.",
        "",
        "## Time per case and backend",
        "",
        "CPU seconds of the process (all threads), then wall seconds; the machine is shared, so wall",
        "time depends on its load. The first case of each backend includes importing its framework.",
        "",
        "| case | " + " | ".join(backends) + " |",
        "|---" * (len(backends) + 1) + "|",
    ]
    for rep in reports:
        lines.append(f"| {rep.case.id} | " + " | ".join(f"{rep.cpu_seconds[b]:.1f} / {rep.seconds[b]:.1f}" for b in backends) + " |")
    cpu_total = sum(sum(rep.cpu_seconds.values()) for rep in reports)
    lines += ["", f"Total: {cpu_total:.0f} CPU seconds, {total:.0f} wall seconds."]
    lines += ["", f"Out of tolerance: {len(failures)}."]
    lines += [f"- {case}: {r.check} {r.pair} {r.output}: {r.max_abs:.3g} > {r.bound:.3g} {r.note}" for case, r in failures]
    atomic_write_text(OUT, "\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(failures)} out of tolerance)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
