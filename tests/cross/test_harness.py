"""The cross-framework harness (tests/cross/harness): every case × every pair of installed backends
(torch, tf, flax and HF transformers' PyTorch as the reference) × every check of DESIGN.md
section 5, plus each backend's bf16 against its own fp32.

A case runs once per backend (cached below); the tests then read its compared rows, so a failure
names the case, the pair, the check and each output or tensor out of tolerance.
scripts/make_cross_report.py runs the same cases and writes the measured numbers to
docs/cross-report.md.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from albert_core.schema import Head
from tests.cross.harness.cases import CASES, Case, OptimizerSpec
from tests.cross.harness.checks import compare_steps
from tests.cross.harness.run import CHECKS, installed, pairs, run_case

BACKENDS = installed()
PAIRS = [f"{a}-{b}" for a, b in pairs(BACKENDS)]


@functools.lru_cache(maxsize=None)
def _run(case: Case):
    try:
        return run_case(case, BACKENDS), None
    except Exception as exc:  # cached too: a broken case fails each of its tests once, not reruns
        return None, exc


def report(case: Case):
    result, error = _run(case)
    if error is not None:
        raise error
    return result


def _describe(rows) -> str:
    return "; ".join(f"{r.output}: max |Δ| {r.max_abs:.3g} > {r.bound:.3g}{' (' + r.note + ')' if r.note else ''}" for r in rows)


def test_the_cross_env_has_every_backend_and_the_reference():
    # The harness compares the pairs of what is installed; the cross env must not quietly have less.
    assert BACKENDS == ["torch", "tf", "flax", "hf"]


def test_the_cases_cover_every_head_and_grouped_shapes():
    for name in ("tiny", "tiny-g2k2"):
        assert {c.head for c in CASES if c.source == f"fixture:{name}"} == set(Head)
    for case in (c for c in CASES if c.source in ("fixture:tiny-g2k2", "random:small-g2k2-rel")):
        config, _ = case.config_and_state()
        assert config.num_hidden_groups > 1 and config.inner_group_num > 1


PARAMS = [
    pytest.param(case, pair, check, id=f"{case.id}-{pair}-{check}")
    for case in CASES
    for pair in PAIRS
    for check in CHECKS
    if case.steps or not check.startswith("step")
]


@pytest.mark.parametrize("case, pair, check", PARAMS)
def test_pair_within_tolerance(case, pair, check):
    rows = report(case).select(check, pair)
    assert rows, f"no {check} rows for {pair}"
    failed = [r for r in rows if not r.passed]
    assert not failed, f"{case.id}, {pair}, {check}: {_describe(failed)}"


BF16_PARAMS = [
    pytest.param(case, backend, id=f"{case.id}-{backend}") for case in CASES if case.bf16 for backend in BACKENDS if backend != "hf"
]


@pytest.mark.parametrize("case, backend", BF16_PARAMS)
def test_bf16_close_to_own_fp32(case, backend):
    rows = report(case).select("bf16", backend)
    assert rows
    failed = [r for r in rows if not r.passed]
    assert not failed, f"{case.id}, {backend} bf16 vs fp32: {_describe(failed)}"


@pytest.mark.parametrize("name", ["adamw", "lamb"])
def test_keras_own_optimizers_differ_from_optax_and_the_plugin_s_match(name):
    """Why the TF plug-in has its own AdamW and LAMB: Keras' Adam adds eps before the bias
    correction, its Lamb decays weights outside the trust ratio. Gradients spread over five
    decades, so some are near eps."""
    import keras
    import optax
    import tensorflow as tf

    from tests.cross.harness.flax_plugin import make_optimizer as optax_optimizer
    from tests.cross.harness.tf_plugin import make_optimizer as plugin_optimizer

    rng = np.random.default_rng(0)
    params = {"w": rng.normal(0, 0.5, (8, 5)).astype(np.float32), "b": rng.normal(0, 0.5, (5,)).astype(np.float32)}
    grads = {k: (rng.normal(0, 1.0, v.shape) * 10 ** rng.uniform(-5, 0, v.shape)).astype(np.float32) for k, v in params.items()}
    spec = OptimizerSpec(name, learning_rate=0.1, weight_decay=0.1)

    tx = optax_optimizer(spec)
    updates, _ = tx.update(grads, tx.init(params), params)
    want = {k: np.asarray(v) for k, v in optax.apply_updates(params, updates).items()}

    def keras_step(optimizer):
        variables = {k: tf.Variable(v) for k, v in params.items()}
        optimizer.apply_gradients([(tf.constant(grads[k]), variables[k]) for k in params])
        return {k: v.numpy() for k, v in variables.items()}

    keras_own = {"adamw": keras.optimizers.AdamW, "lamb": keras.optimizers.Lamb}[name]
    ours = compare_steps(keras_step(plugin_optimizer(spec)), want, grads, spec)
    theirs = compare_steps(keras_step(keras_own(learning_rate=0.1, epsilon=spec.eps, weight_decay=0.1)), want, grads, spec)
    assert all(r.passed for r in ours), _describe(ours)
    assert not all(r.passed for r in theirs)
