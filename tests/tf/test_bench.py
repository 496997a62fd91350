"""albert_tf.bench: the tf rows of `albert bench` (this project's models), at a tiny config.

Every variant and suite in fp32 and bf16 gives real timings, a GEMM floor and a memory figure; bf16
rows measure their error against fp32 of the same weights; the variants of a suite compute the
same model; rows that cannot run here come back with an error naming why, never an exception.
"""

import math

import keras
import numpy as np
import pytest

from albert_core.bench import rows
from albert_core.bench.spec import VARIANTS, RowSpec
from albert_core.schema import Head
from albert_tf import bench
from tests.tf.helpers import tiny_config

BATCH, SEQ = 2, 16
ALBERT_VARIANTS = VARIANTS[("tf", "albert")]


@pytest.fixture(scope="module")
def config_json(tmp_path_factory):
    """A tiny config as a config.json path: RowSpec.model takes one besides preset names."""
    config = tiny_config(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    folder = tmp_path_factory.mktemp("bench-config")
    return str(config.save_pretrained(folder))


def spec(config_json, suite="inference", variant="xla", precision="fp32", **changes) -> RowSpec:
    fields = dict(suite=suite, backend="tf", impl="albert", variant=variant, precision=precision, batch=BATCH, seq=SEQ)
    return RowSpec(**{**fields, "model": config_json, "warmup": 2, "iters": 2, **changes})


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("variant", ALBERT_VARIANTS)
@pytest.mark.parametrize("suite", ["inference", "training"])
def test_every_variant_and_suite_measures_a_row(config_json, suite, variant, precision):
    row = spec(config_json, suite, variant, precision)
    result = bench.run_row(row)
    assert result.error is None, result.error
    assert result.spec == row
    assert len(result.times_ms) == row.iters and all(math.isfinite(t) and t > 0 for t in result.times_ms)
    assert math.isfinite(result.floor_ms) and result.floor_ms > 0
    # The compiling first call runs before the baseline: the window holds warm calls only, which at
    # this size may reuse freed memory (peak 0), never more than the whole process.
    assert 0 <= result.peak_mib < result.baseline_mib
    assert "after the untimed first call" in result.notes
    if variant == "xla":  # the first call compiles the XLA program
        assert result.compile_s > 0
    else:
        assert result.compile_s is None
    if suite == "inference" and precision == "bf16":
        # bf16 keeps 8 mantissa bits; last_hidden_state is LayerNorm output, O(1): measured ≈ 3e-2.
        assert 0 < result.max_abs_error < 0.1
    else:
        assert result.max_abs_error is None
    assert set(result.versions) == {"tensorflow", "keras"}
    call = {"inference": {"xla": "predict_on_batch", "eager": "plain call"}, "training": {"xla": "jit_compile=True", "eager": "run_eagerly=True"}}
    assert call[suite][variant] in result.notes
    assert keras.mixed_precision.global_policy().name == "float32"  # the row's policy did not leak
    assert RowSpec.from_dict(result.to_dict()["spec"]) == row


def test_the_variants_of_a_suite_compute_the_same_model(config_json):
    config = rows.load_config(config_json)
    inputs = rows.row_inputs(config, "inference", BATCH, SEQ)
    state = rows.random_state(config, Head.BASE)
    xla, eager = (bench.prepare_row(spec(config_json, variant=v), config, state, inputs).call() for v in ALBERT_VARIANTS)
    np.testing.assert_allclose(np.asarray(xla), np.asarray(eager), atol=1e-5)

    inputs = rows.row_inputs(config, "training", BATCH, SEQ)
    state = rows.random_state(config, Head.MASKED_LM)
    losses = [bench.prepare_row(spec(config_json, "training", v), config, state, inputs).call() for v in ALBERT_VARIANTS]
    # train_on_batch returns the loss before its update: HF's MLM loss of these weights and labels.
    model = bench.albert_model(spec(config_json, "training"), config, state)
    reference = float(model({k: inputs[k] for k in ("input_ids", "attention_mask", "labels")}, training=False)["loss"])
    np.testing.assert_allclose(losses, [reference, reference], rtol=1e-5)


def _assert_error(result, *words):
    assert result.times_ms == [] and result.floor_ms is None
    assert result.error and all(w in result.error for w in words), result.error


def test_fp16_on_cpu_is_an_error_row(config_json):
    _assert_error(bench.run_row(spec(config_json, precision="fp16")), "fp16", "GPU")


def test_gpu_row_without_a_gpu_is_an_error_row(config_json, monkeypatch):
    monkeypatch.setattr(bench.tf.config, "list_physical_devices", lambda kind=None: [])
    _assert_error(bench.run_row(spec(config_json, device="gpu")), "no GPU")


def test_another_backends_row_is_an_error_row(config_json):
    row = RowSpec(suite="inference", backend="torch", impl="albert", variant="sdpa", precision="fp32", batch=1, seq=4, model=config_json)
    _assert_error(bench.run_row(row), "backend 'torch'")


def test_a_missing_model_config_is_an_error_row_naming_it(config_json, tmp_path):
    missing = tmp_path / "nowhere" / "config.json"
    _assert_error(bench.run_row(spec(config_json, model=str(missing))), "nowhere")
