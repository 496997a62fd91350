"""albert_torch.bench's HF rows: HF transformers' PyTorch ALBERT runs every hf variant and suite at a
tiny config, and holds the same weights as the albert rows: the same outputs, losses and first
AdamW step as albert_torch's model on the same inputs."""

import math

import pytest
import torch
import transformers

from albert_core import AlbertConfig
from albert_core.bench.spec import VARIANTS, RowSpec
from albert_torch import bench
from tests.torch.test_bench import BF16_MAX_ERROR, TINY, one_thread, row, tiny_model  # noqa: F401 (fixtures)

CPU = torch.device("cpu")
ATOL, LOSS_RTOL = 1e-5, 1e-5  # DESIGN.md section 5, fp32
HF_ROWS = [
    (suite, variant, precision)
    for suite in ("inference", "training")
    for variant in VARIANTS[("torch", "hf")]
    for precision in ("fp32", "bf16")
]


def hf_row(model: str, suite="inference", variant="sdpa", precision="fp32", impl="hf") -> RowSpec:
    return row(model, suite, variant, precision, impl=impl)


@pytest.mark.parametrize("suite,variant,precision", HF_ROWS)
def test_hf_row_measures(tiny_model, suite, variant, precision):
    result = bench.run_row(hf_row(tiny_model, suite, variant, precision))
    assert result.error is None, result.error
    assert len(result.times_ms) == 3 and all(math.isfinite(t) and t > 0 for t in result.times_ms)
    assert math.isfinite(result.floor_ms) and result.floor_ms > 0
    assert 0 < result.peak_mib < 100 and result.baseline_mib > 50
    assert result.versions == {"torch": torch.__version__, "transformers": transformers.__version__}
    if suite == "inference" and precision == "bf16":
        assert 0 < result.max_abs_error < BF16_MAX_ERROR
    else:
        assert result.max_abs_error is None
    assert (result.compile_s is not None) == ("compile" in variant)


@pytest.mark.parametrize("hf_variant", ["sdpa", "eager"])
def test_hf_and_albert_rows_compute_the_same_forward(tiny_model, hf_variant):
    config = AlbertConfig(**TINY)
    ours = bench.build_model(hf_row(tiny_model, impl="albert"), config).eval()
    theirs = bench.build_model(hf_row(tiny_model, variant=hf_variant), config).eval()
    assert isinstance(theirs, transformers.AlbertModel)
    assert theirs.config._attn_implementation == hf_variant
    batch = bench.make_batch(hf_row(tiny_model), config, CPU)
    out_ours = bench.inference_call(ours, batch, lambda: None)()
    out_theirs = bench.inference_call(theirs, batch, lambda: None)()
    assert out_ours.abs().max() > 0.5  # LayerNorm outputs, not an all-zero model
    assert torch.allclose(out_ours, out_theirs, rtol=0, atol=ATOL), (out_ours - out_theirs).abs().max()


def test_hf_and_albert_rows_take_the_same_training_steps(tiny_model):
    config = AlbertConfig(**TINY)
    spec = hf_row(tiny_model, suite="training")
    batch = bench.make_batch(spec, config, CPU)
    models = {impl: bench.build_model(hf_row(tiny_model, suite="training", impl=impl), config).train() for impl in ("albert", "hf")}
    steps = {impl: bench.training_call(model, batch, "fp32", CPU, lambda: None) for impl, model in models.items()}
    for _ in range(2):  # the second loss sees the weights after one AdamW update on each side
        losses = {impl: float(step()) for impl, step in steps.items()}
        assert losses["hf"] == pytest.approx(losses["albert"], rel=LOSS_RTOL)
    assert abs(losses["albert"] - math.log(config.vocab_size)) < 0.5
