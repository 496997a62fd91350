"""The hf rows of albert_tf.bench (HF transformers' TF ALBERT, tf_keras, on the same weights) at a tiny
config, and HF's and albert_tf's rows computing the same numbers: the forward's last_hidden_state in
every variant, and the losses of two training steps (the second follows an AdamW update on each side).

Everything runs in one child process (tests/cross/bench_child.py), as the bench runs its rows.
"""

import os

import numpy as np
import pytest

from tests.cross.bench_child import child_main, positive, run_child
from tests.tf.helpers import tiny_config

HF_VARIANTS = ("eager", "function", "xla")
HF_ROWS = [(suite, variant, precision) for suite in ("inference", "training") for variant in HF_VARIANTS for precision in ("fp32", "bf16")]
BATCH, SEQ = 2, 8


def measure(model: str) -> dict:
    """The child's work: the hf rows, and both impls' outputs of the same weights and inputs."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from albert_core.bench.rows import load_config, random_state, row_inputs
    from albert_core.bench.spec import RowSpec
    from albert_core.schema import Head
    from albert_tf import bench

    def spec(suite, impl, variant, precision="fp32"):
        return RowSpec(suite, "tf", impl, variant, precision, BATCH, SEQ, model=model, warmup=2, iters=2)

    rows = {f"{suite} {variant} {precision}": bench.run_row(spec(suite, "hf", variant, precision)).to_dict() for suite, variant, precision in HF_ROWS}
    config = load_config(model)
    outputs = {}
    inputs = row_inputs(config, "inference", BATCH, SEQ)
    state = random_state(config, Head.BASE)
    for impl, variants in (("albert", ("xla", "eager")), ("hf", HF_VARIANTS)):
        for variant in variants:
            row = bench.prepare_row(spec("inference", impl, variant), config, state, inputs)
            outputs[f"{impl} {variant}"] = np.asarray(row.call()).tolist()
    inputs = row_inputs(config, "training", BATCH, SEQ)
    state = random_state(config, Head.MASKED_LM)
    losses = {}
    for impl, variant in (("albert", "xla"), ("hf", "function")):
        step = bench.prepare_row(spec("training", impl, variant), config, state, inputs)
        losses[impl] = [float(step.call()) for _ in range(2)]
    return {"rows": rows, "outputs": outputs, "losses": losses}


@pytest.fixture(scope="module")
def child(tmp_path_factory) -> dict:
    config = tiny_config(num_hidden_layers=2, max_position_embeddings=16)  # dropout 0: deterministic steps
    return run_child("tests.cross.test_bench_tf_hf", config, tmp_path_factory.mktemp("bench-hf"))


@pytest.mark.parametrize("suite, variant, precision", HF_ROWS)
def test_hf_row_measures(suite, variant, precision, child):
    result = child["rows"][f"{suite} {variant} {precision}"]
    assert result["error"] is None, result["error"]
    assert len(result["times_ms"]) == 2 and all(positive(t) for t in result["times_ms"])
    assert positive(result["floor_ms"]) and positive(result["baseline_mib"])
    assert result["peak_mib"] is not None and 0 <= result["peak_mib"] < result["baseline_mib"]
    assert positive(result["compile_s"]) if variant != "eager" else result["compile_s"] is None
    assert {"tensorflow", "keras", "transformers", "tf_keras"} <= set(result["versions"])
    assert "from_pretrained" in result["notes"]
    if suite == "inference" and precision == "bf16":
        assert 0 < result["max_abs_error"] < 0.1  # bf16 against HF's own fp32 forward; measured 2e-2 to 3e-2
    else:
        assert result["max_abs_error"] is None


def test_hf_and_albert_rows_compute_the_same_numbers(child):
    outputs = {name: np.asarray(value) for name, value in child["outputs"].items()}
    reference = outputs.pop("albert xla")
    for name, value in outputs.items():
        np.testing.assert_allclose(value, reference, rtol=0, atol=1e-5, err_msg=name)  # measured ≤ 6e-7
    albert, hf = child["losses"]["albert"], child["losses"]["hf"]
    # Step 1: the same weights and batch; step 2: after each side's AdamW update (Keras 3's and
    # tf_keras' AdamW share their defaults and update rule).
    np.testing.assert_allclose(albert, hf, rtol=1e-5)  # measured 1e-7 relative
    assert albert[1] < albert[0]


if __name__ == "__main__":
    child_main(measure)
