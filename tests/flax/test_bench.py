"""albert_flax.bench (the flax rows of `albert bench`) at a tiny config: every albert variant of both
suites, fp32 and bf16, measures real times, a GEMM floor, memory and compile time; bf16's error
against fp32 is small and not zero; the training row's step computes AlbertForMaskedLM's own loss;
rows that cannot run here come back with their reason instead of raising.
"""

import json
import math

import jax
import numpy as np
import pytest

import albert_flax
from albert_core import AlbertConfig
from albert_core.bench import rows
from albert_core.bench.shapes import Gemm
from albert_core.bench.spec import SUITES, VARIANTS, RowResult, RowSpec
from albert_flax import bench

TINY = dict(
    vocab_size=100,
    embedding_size=8,
    hidden_size=16,
    num_attention_heads=2,
    intermediate_size=32,
    num_hidden_layers=1,
    max_position_embeddings=16,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    """The path of a tiny config.json (RowSpec.model takes it as it takes a preset name)."""
    folder = tmp_path_factory.mktemp("bench-model")
    return str(AlbertConfig(**TINY).save_pretrained(folder))


def row(tiny_model: str, **changes) -> RowSpec:
    values = dict(suite="inference", backend="flax", impl="albert", variant="jit", precision="fp32", batch=2, seq=8, model=tiny_model, warmup=1, iters=2)
    return RowSpec(**{**values, **changes})


def positive(value) -> bool:
    return value is not None and math.isfinite(value) and value > 0


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("variant", VARIANTS[("flax", "albert")])
@pytest.mark.parametrize("suite", SUITES)
def test_albert_row_measures(suite, variant, precision, tiny_model):
    spec = row(tiny_model, suite=suite, variant=variant, precision=precision)
    result = bench.run_row(spec)
    assert result.error is None, result.error
    assert len(result.times_ms) == spec.iters and all(positive(t) for t in result.times_ms)
    assert positive(result.floor_ms)
    assert positive(result.compile_s)  # the first call compiled; a warm call does not
    # Memory: the post-build RSS, and the calls' peak above it. The peak may be 0 at this size
    # (freed buffers of the compiling call are reused), never negative, never near the whole process.
    assert positive(result.baseline_mib)
    assert result.peak_mib is not None and 0 <= result.peak_mib < result.baseline_mib
    assert {"jax", "jaxlib", "flax", "optax"} <= set(result.versions)
    assert "memory: peak RSS" in result.notes and "after the untimed first call" in result.notes
    if suite == "inference" and precision == "bf16":
        # bf16 rounds at 2^-8 relative; LayerNorm'd outputs are O(1). Measured: 0.03.
        assert 0 < result.max_abs_error < 0.1
    else:
        assert result.max_abs_error is None
    assert RowResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_training_step_computes_the_masked_lm_loss(tiny_model):
    """The loop's step runs with the 'mlm' loss part: it must be AlbertForMaskedLM's own loss."""
    spec = row(tiny_model, suite="training")
    config = rows.load_config(tiny_model)
    work = bench.build_workload(spec, config)
    work.call()  # the first step's loss is taken before its update
    batch = rows.row_inputs(config, "training", spec.batch, spec.seq)
    model = albert_flax.AlbertForMaskedLM(config, _do_init=False)
    model.load_canonical_state(rows.random_state(config, rows.row_head("training")))
    expected = float(model(**batch).loss)
    np.testing.assert_allclose(float(work.result()), expected, rtol=1e-6)
    work.call()
    assert float(work.result()) < expected  # the update moved the weights downhill on the same batch


def test_floor_sums_count_times_median(monkeypatch):
    """Each distinct shape is timed once (its own jitted matmul, run for real) and weighs count ×
    its median; the clock is replaced so the sum is exact."""
    timed = []

    def fake_time_calls(call, warmup, iters):
        timed.append(np.asarray(call()).shape)
        return [1.0, 2.0, 6.0]  # median 2 ms

    monkeypatch.setattr(bench, "time_calls", fake_time_calls)
    gemms = [Gemm("a", 8, 4, 3), Gemm("b", 8, 4, 3, count=2), Gemm("scores", 5, 2, 5, batch=6, count=3)]
    assert bench.gemm_floor_ms(gemms, np.float32, None, warmup=1, iters=3) == (1 + 2 + 3) * 2.0
    assert timed == [(8, 3), (6, 5, 5)]


@pytest.mark.parametrize(
    "changes, reason",
    [
        (dict(precision="fp16"), "fp16 rows run on GPUs only"),
        (dict(device="tpu"), "RowSpec.device must be one of ['cpu', 'gpu'], got 'tpu'"),
        (dict(model="albert-huge-v9"), "'albert-huge-v9' is neither a preset"),
        (dict(seq=17), "sequence length 17 exceeds max_position_embeddings (16)"),
        (dict(backend="torch", variant="sdpa"), "runs the flax rows, got backend 'torch'"),
    ],
)
def test_impossible_rows_say_why(changes, reason, tiny_model):
    result = bench.run_row(row(tiny_model, **changes))
    assert result.error is not None and reason in result.error
    assert result.times_ms == [] and result.floor_ms is None


def test_gpu_row_without_a_gpu(tiny_model, monkeypatch):
    def no_gpu(platform=None):
        raise RuntimeError(f"Unknown backend: '{platform}' requested")

    monkeypatch.setattr(jax, "devices", no_gpu)
    result = bench.run_row(row(tiny_model, device="gpu"))
    assert result.error.startswith("RowError: no gpu device for JAX here")
