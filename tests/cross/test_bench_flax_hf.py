"""The hf rows of albert_flax.bench (HF transformers' Flax ALBERT on the same weights) at a tiny
config, and HF's and albert_flax's rows computing the same numbers: the forward's last_hidden_state,
and the losses of two training steps (the second one follows an AdamW update on each side).

Everything runs in one child process (tests/cross/bench_child.py), as the bench runs its rows.
"""

import numpy as np
import pytest

from albert_core import AlbertConfig
from tests.cross.bench_child import child_main, positive, run_child
from tests.flax.test_bench import TINY  # dropout 0: both sides' training steps are deterministic

HF_ROWS = [(suite, precision) for suite in ("inference", "training") for precision in ("fp32", "bf16")]
BATCH, SEQ = 2, 8


def measure(model: str) -> dict:
    """The child's work: the hf rows, and both impls' outputs of the same weights and inputs."""
    from albert_core.bench.rows import load_config
    from albert_core.bench.spec import RowSpec
    from albert_flax import bench

    def spec(suite, impl, precision):
        return RowSpec(suite, "flax", impl, "jit", precision, BATCH, SEQ, model=model, warmup=1, iters=2)

    rows = {f"{suite} {precision}": bench.run_row(spec(suite, "hf", precision)).to_dict() for suite, precision in HF_ROWS}
    config = load_config(model)
    outputs = {}
    for impl in ("albert", "hf"):
        forward = bench.build_workload(spec("inference", impl, "fp32"), config)
        forward.call()
        step = bench.build_workload(spec("training", impl, "fp32"), config)
        losses = []
        for _ in range(2):
            step.call()
            losses.append(float(step.result()))
        outputs[impl] = {"last_hidden_state": forward.result().tolist(), "losses": losses}
    return {"rows": rows, "outputs": outputs}


@pytest.fixture(scope="module")
def child(tmp_path_factory) -> dict:
    config = AlbertConfig(**{**TINY, "num_hidden_layers": 2})
    return run_child("tests.cross.test_bench_flax_hf", config, tmp_path_factory.mktemp("bench-hf"))


@pytest.mark.parametrize("suite, precision", HF_ROWS)
def test_hf_row_measures(suite, precision, child):
    result = child["rows"][f"{suite} {precision}"]
    assert result["error"] is None, result["error"]
    assert len(result["times_ms"]) == 2 and all(positive(t) for t in result["times_ms"])
    assert positive(result["floor_ms"]) and positive(result["compile_s"]) and positive(result["baseline_mib"])
    assert result["peak_mib"] is not None and 0 <= result["peak_mib"] < result["baseline_mib"]
    assert {"jax", "flax", "optax", "transformers"} <= set(result["versions"])
    if suite == "inference" and precision == "bf16":
        assert 0 < result["max_abs_error"] < 0.1  # bf16 against HF's own fp32 forward; measured 0.02
    else:
        assert result["max_abs_error"] is None


def test_hf_and_albert_rows_compute_the_same_numbers(child):
    albert, hf = child["outputs"]["albert"], child["outputs"]["hf"]
    np.testing.assert_allclose(albert["last_hidden_state"], hf["last_hidden_state"], rtol=0, atol=1e-5)  # measured 7e-7
    # Step 1: the same weights and batch; step 2: after each side's AdamW update.
    np.testing.assert_allclose(albert["losses"], hf["losses"], rtol=1e-5)
    assert albert["losses"][1] < albert["losses"][0]


if __name__ == "__main__":
    child_main(measure)
