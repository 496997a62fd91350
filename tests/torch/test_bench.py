"""albert_torch.bench: every albert row (variant × suite × fp32/bf16) runs at a tiny config and
returns real measurements; rows that cannot run return an error naming why instead of raising."""

import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from albert_core import AlbertConfig
from albert_core.bench import rows
from albert_core.bench.shapes import Gemm
from albert_core.bench.spec import VARIANTS, RowSpec
from albert_core.schema import Head
from albert_torch import bench, onednn
from albert_torch.layers import DEFAULT_ATTN_IMPLEMENTATION

TINY = dict(vocab_size=1000, embedding_size=16, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)
# bf16 keeps 8 significant bits: LayerNorm outputs of magnitude up to ~4 round by ~2^-7 per op; after
# two layers the largest difference from float32 measured 0.034. 0.1 leaves room and still fails a
# row whose weights or inputs differ from the reference (differences of order 1).
BF16_MAX_ERROR = 0.1
TRAINING_ONLY = {"sdpa+checkpointing"}
FP32_INFERENCE_ONLY = {"sdpa+onednn"}
ALBERT_ROWS = [
    (suite, variant, precision)
    for suite in ("inference", "training")
    for variant in VARIANTS[("torch", "albert")]
    for precision in ("fp32", "bf16")
    if not (suite == "inference" and variant in TRAINING_ONLY)
    and not (variant in FP32_INFERENCE_ONLY and (suite, precision) != ("inference", "fp32"))
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # On a busy 2-core machine two OpenMP threads wait on each other for ~100 ms per op, which turns
    # these millisecond rows into seconds; the tests check the measuring, not the speed.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("tiny")
    AlbertConfig(**TINY).save_pretrained(folder)
    return str(folder / "config.json")


def row(model: str, suite="inference", variant="sdpa", precision="fp32", impl="albert", **changes) -> RowSpec:
    fields = dict(suite=suite, backend="torch", impl=impl, variant=variant, precision=precision, batch=2, seq=16, model=model, warmup=2, iters=3)
    return RowSpec(**{**fields, **changes})


@pytest.mark.parametrize("suite,variant,precision", ALBERT_ROWS)
def test_albert_row_measures(tiny_model, suite, variant, precision):
    spec = row(tiny_model, suite, variant, precision)
    result = bench.run_row(spec)
    assert result.error is None, result.error
    assert len(result.times_ms) == spec.iters
    assert all(math.isfinite(t) and t > 0 for t in result.times_ms)
    assert math.isfinite(result.floor_ms) and result.floor_ms > 0
    # The window's peak is what the calls added (well under the tiny model's process), the baseline
    # the whole process with torch loaded (hundreds of MiB).
    assert 0 < result.peak_mib < 100
    assert result.baseline_mib > 50
    assert result.versions["torch"] == torch.__version__
    assert "memory: peak RSS" in result.notes and "after the untimed first call" in result.notes
    if suite == "inference" and precision == "bf16":
        assert 0 < result.max_abs_error < BF16_MAX_ERROR
    else:
        assert result.max_abs_error is None  # fp32 rows, and training rows (no last_hidden_state)
    if "compile" in variant:
        assert result.compile_s >= 0 and "inductor FX-graph cache" in result.notes
        assert "WARNING" not in result.notes  # nothing recompiled inside the timed window
    else:
        assert result.compile_s is None


def test_default_variant_is_the_models_default_attention(tiny_model):
    # The first variant must be the README's plain call: a model built with no switches.
    default = VARIANTS[("torch", "albert")][0]
    model = bench.build_model(row(tiny_model, variant=default), AlbertConfig(**TINY))
    assert model.attn_implementation == DEFAULT_ATTN_IMPLEMENTATION == default
    assert not model.is_gradient_checkpointing


def test_the_model_holds_the_seeded_state_and_steps(tiny_model):
    config = AlbertConfig(**TINY)
    spec = row(tiny_model, suite="training")
    model = bench.build_model(spec, config).train()
    state = rows.random_state(config, Head.MASKED_LM)
    held = model.canonical_state()
    assert all(np.array_equal(held[name], value) for name, value in state.items())
    batch = bench.make_batch(spec, config, torch.device("cpu"))
    labelled = (batch["labels"] != -100).sum(dim=1)
    assert labelled.tolist() == [round(0.15 * spec.seq)] * spec.batch
    assert bool((batch["labels"][batch["labels"] != -100] == batch["input_ids"][batch["labels"] != -100]).all())
    step = bench.training_call(model, batch, "fp32", torch.device("cpu"), lambda: None)
    first = float(step())
    # Small random weights give near-uniform predictions: the loss starts at about ln(vocab).
    assert abs(first - math.log(config.vocab_size)) < 0.5
    moved = model.canonical_state()
    assert not np.array_equal(moved["albert.encoder.embedding_hidden_mapping_in.weight"], state["albert.encoder.embedding_hidden_mapping_in.weight"])
    # AdamW's first update moves each weight by about lr (1e-4), never by much more.
    change = np.abs(moved["albert.encoder.embedding_hidden_mapping_in.weight"] - state["albert.encoder.embedding_hidden_mapping_in.weight"])
    assert 1e-5 < change.max() < 2e-4


def test_floor_is_the_sum_of_count_times_each_products_median(monkeypatch):
    # A clock that advances 1 ms per reading: every timed product then takes exactly 1 ms, so the
    # floor is the number of products counted, whatever the machine does.
    ticks = iter(range(10**6))
    monkeypatch.setattr(bench, "time", SimpleNamespace(perf_counter=lambda: next(ticks) / 1e3))
    shapes = [Gemm("a", 8, 4, 8), Gemm("a again", 8, 4, 8, count=3), Gemm("batched", 8, 4, 8, batch=2, count=2)]
    assert bench.gemm_floor_ms(shapes, torch.float32, torch.device("cpu")) == pytest.approx(6.0)
    assert bench.gemm_floor_ms(shapes[:1], torch.bfloat16, torch.device("cpu")) == pytest.approx(1.0)


def test_floor_times_real_products():
    for onednn in (False, True):
        shapes = [Gemm("ffn", 64, 64, 128, count=2), Gemm("scores", 16, 8, 16, batch=4)]
        floor = bench.gemm_floor_ms(shapes, torch.float32, torch.device("cpu"), onednn=onednn)
        assert math.isfinite(floor) and floor > 0


@pytest.mark.parametrize("on_by_default", [True, False])
def test_the_default_rows_floor_follows_its_linear_path(tiny_model, monkeypatch, on_by_default):
    # Where new models run their linears through oneDNN (AMD CPUs), the default row does, and its
    # floor times the linear GEMMs the same way; the note says which path the row took.
    monkeypatch.setattr(onednn, "onednn_inference_by_default", lambda: on_by_default)
    floors = []
    monkeypatch.setattr(bench, "gemm_floor_ms", lambda *args, onednn=False: floors.append(onednn) or 1.0)
    result = bench.run_row(row(tiny_model))
    assert result.error is None, result.error
    assert floors == [on_by_default]
    assert ("on by default on this AMD CPU" in result.notes) is on_by_default
    assert ("OneDNNLinear's packed path" in result.notes) is on_by_default
    training = bench.run_row(row(tiny_model, suite="training"))
    assert floors == [on_by_default, False]  # training runs nn.Linear's path
    assert "oneDNN" not in training.notes


@pytest.mark.parametrize(
    "changes,expected",
    [
        (dict(precision="fp16"), "fp16 rows run on GPU only"),
        (dict(backend="tf", variant="xla"), "albert_torch.bench runs torch rows"),
        (dict(variant="sdpa+checkpointing"), "gradient checkpointing is a training variant"),
        (dict(variant="sdpa+onednn", suite="training"), "gradient-free float32 CPU forwards only"),
        (dict(variant="sdpa+onednn", precision="bf16"), "gradient-free float32 CPU forwards only"),
        (dict(device="tpu"), "RowSpec.device must be 'cpu' or 'gpu'"),
        (dict(model="no/such/config.json"), "neither a preset"),
        (dict(seq=600), "max_position_embeddings"),
    ],
)
def test_rows_that_cannot_run_say_why(tiny_model, changes, expected):
    changes = dict(changes)
    spec = row(changes.pop("model", tiny_model), **changes)
    result = bench.run_row(spec)
    assert result.error is not None and expected in result.error
    assert result.times_ms == [] and result.floor_ms is None and result.peak_mib is None


def test_gpu_row_without_a_gpu_says_so(tiny_model, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = bench.run_row(row(tiny_model, device="gpu"))
    assert "no CUDA GPU visible to torch" in result.error


def test_hf_row_without_transformers_says_so(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers now raises ImportError
    result = bench.run_row(row(tiny_model, impl="hf"))
    assert "the hf rows need HF transformers" in result.error


def test_a_vocabulary_of_special_tokens_only_says_so(tmp_path):
    AlbertConfig(**{**TINY, "vocab_size": 5}).save_pretrained(tmp_path)
    result = bench.run_row(row(str(tmp_path)))
    assert "leaves no ids above the special tokens" in result.error
