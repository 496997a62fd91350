"""Run one case on every installed backend and compare every pair: the harness's engine.

    report = run_case(case)          # every backend once, then every pair
    report.rows                      # Row: output or tensor, max |Δ|, bound, check, pair

Each backend runs the case once (load, evaluate, one step per optimizer, bf16 forward); the pairs
are then compared on numpy, so adding a backend costs one run, not one per pair. The tests
(tests/cross/test_harness.py) and the report script (scripts/make_cross_report.py) both call this.
"""

from __future__ import annotations

import importlib
import itertools
import time
from dataclasses import dataclass, field

from albert_core.cli.parity import Delta, compare_outputs
from albert_core.cli.runners import RUNNERS

from .cases import OPTIMIZERS, Case
from .checks import compare_bf16, compare_grads, compare_steps

# Backend name -> "module:class" of its plug-in, imported only when that backend is installed.
PLUGINS = {
    "torch": "torch_plugin:TorchPlugin",
    "tf": "tf_plugin:TFPlugin",
    "flax": "flax_plugin:FlaxPlugin",
    "hf": "torch_plugin:HFPlugin",
}


# The pairwise checks, in report order (bf16 is per backend, not per pair).
CHECKS = ["outputs", "gradients"] + [f"step:{spec.name}" for spec in OPTIMIZERS]


def installed() -> list[str]:
    """The backends (and the HF reference) whose packages are installed here."""
    return [name for name in PLUGINS if RUNNERS[name].available()]


def pairs(backends: list[str]) -> list[tuple[str, str]]:
    """Every pair once, the reference (hf) always second: it is the `b` of relative bounds."""
    return list(itertools.combinations(backends, 2))


def plugin(name: str):
    module, cls = PLUGINS[name].split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), cls)()


@dataclass(frozen=True)
class Row(Delta):
    """One compared output or tensor (Delta: output, max_abs, bound, note) of one check and pair."""

    check: str = ""  # "outputs", "gradients", "step:adamw", "step:lamb", "bf16"
    pair: str = ""  # "torch-tf", or one backend for "bf16"


@dataclass
class CaseReport:
    case: Case
    backends: list[str]
    rows: list[Row] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per backend
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # process CPU time (the machine is shared)

    def select(self, check: str, pair: str) -> list[Row]:
        return [r for r in self.rows if r.check == check and r.pair == pair]


def _rows(check: str, pair: str, deltas) -> list[Row]:
    return [Row(d.output, d.max_abs, d.bound, d.note, check, pair) for d in deltas]


def run_case(case: Case, backends: list[str] | None = None) -> CaseReport:
    backends = installed() if backends is None else backends
    config, state = case.config_and_state()
    inputs, labels = case.inputs(config)
    report = CaseReport(case, backends)
    results = {}
    for name in backends:
        start, cpu = time.perf_counter(), time.process_time()
        runner = plugin(name)
        model = runner.load(config, case.head, state)
        evaluation = runner.evaluate(model, inputs, labels)
        steps = {spec.name: runner.step(model, evaluation.grads, spec) for spec in OPTIMIZERS} if case.steps else {}
        del model
        if case.bf16 and name != "hf":
            bf16 = runner.forward_bf16(config, case.head, state, inputs, labels)
            report.rows += _rows("bf16", name, compare_bf16(bf16, evaluation.outputs))
        results[name] = (evaluation, steps)
        report.seconds[name] = time.perf_counter() - start
        report.cpu_seconds[name] = time.process_time() - cpu
    for a, b in pairs(backends):
        (ev_a, steps_a), (ev_b, steps_b) = results[a], results[b]
        pair = f"{a}-{b}"
        report.rows += _rows("outputs", pair, compare_outputs(ev_a.outputs, ev_b.outputs))
        report.rows += _rows("gradients", pair, compare_grads(ev_a.grads, ev_b.grads))
        for spec in OPTIMIZERS if case.steps else ():
            report.rows += _rows(f"step:{spec.name}", pair, compare_steps(steps_a[spec.name], steps_b[spec.name], ev_b.grads, spec))
    return report
