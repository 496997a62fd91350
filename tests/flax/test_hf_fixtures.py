"""albert_flax on the committed golden fixtures: HF PyTorch's outputs for the same weights and inputs.

Every head, two configs (tiny: L=2, G=1, K=1; tiny-g2k2: L=4, G=2, K=2), one padded row per batch:
every output field within 1e-5 of HF's, losses within 1e-5 relative (DESIGN.md section 5).
"""

import numpy as np
import pytest
from safetensors.numpy import load_file

import albert_flax
from albert_core.schema import ARCHITECTURES, Head

ATOL = 1e-5
CONFIGS = ["tiny", "tiny-g2k2"]
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
LABEL_NAMES = ("labels", "sentence_order_label", "start_positions", "end_positions")


def assert_matches_reference(model, reference):
    inputs = {k: reference[k] for k in INPUT_NAMES}
    labels = {k: reference[k] for k in LABEL_NAMES if k in reference}
    out = model(**inputs, **labels, output_hidden_states=True, output_attentions=True)

    expected = {k[len("output."):]: v for k, v in reference.items() if k.startswith("output.")}
    assert set(expected) == {k for k in out.keys() if getattr(out, k) is not None}
    for field, want in expected.items():
        got = np.asarray(np.stack(out[field]) if field in ("hidden_states", "attentions") else out[field])
        assert got.shape == want.shape, field
        if field == "loss":
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=field)
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=ATOL, err_msg=field)


@pytest.mark.parametrize("config_name", CONFIGS)
@pytest.mark.parametrize("head", list(Head), ids=lambda h: h.value)
def test_outputs_match_hf_pytorch(hf_tiny, config_name, head):
    folder = hf_tiny / config_name / head.value
    model = getattr(albert_flax, ARCHITECTURES[head]).from_pretrained(folder)
    assert not model.load_report.missing and not model.load_report.dropped
    assert_matches_reference(model, dict(np.load(folder / "reference.npz")))


@pytest.mark.parametrize("file", ["flax_model.msgpack", "tf_model.h5"])
@pytest.mark.parametrize("head", [Head.PRETRAINING, Head.MULTIPLE_CHOICE, Head.QUESTION_ANSWERING], ids=lambda h: h.value)
def test_hf_flax_and_tf_files_load(hf_tiny, file, head):
    folder = hf_tiny / "tiny-g2k2" / head.value
    model = getattr(albert_flax, ARCHITECTURES[head]).from_pretrained(folder / file)
    assert_matches_reference(model, dict(np.load(folder / "reference.npz")))


@pytest.mark.parametrize("config_name", CONFIGS)
def test_canonical_state_round_trips_bit_for_bit(hf_tiny, config_name):
    folder = hf_tiny / config_name / "pretraining"
    state = load_file(folder / "model.safetensors")
    model = albert_flax.AlbertForPreTraining.from_pretrained(folder)
    back = model.canonical_state()
    # HF's safetensors omits the tied decoder copies; ours lists every schema tensor.
    assert set(back) - set(state) == {"predictions.decoder.weight", "predictions.decoder.bias"}
    for name, array in state.items():
        assert back[name].dtype == array.dtype and np.array_equal(back[name], array), name
    assert np.array_equal(back["predictions.decoder.weight"], state["albert.embeddings.word_embeddings.weight"])
    assert np.array_equal(back["predictions.decoder.bias"], state["predictions.bias"])
