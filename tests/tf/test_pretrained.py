"""from_pretrained / save_pretrained through albert_core.checkpoint, on the committed HF fixtures."""

from pathlib import Path

import numpy as np
import pytest

import albert_tf
from albert_core.schema import ARCHITECTURES, Head
from tests.tf.test_golden import FIXTURES, INPUT_NAMES, LABEL_NAMES, assert_matches_reference

# pytorch_model.bin needs torch: it is checked in tests/cross (this env has TensorFlow only).
FORMATS = ["model.safetensors", "tf_model.h5", "flax_model.msgpack"]
HEADS = list(Head)


def reference(folder: Path):
    ref = np.load(folder / "reference.npz")
    return ref, {k: ref[k] for k in INPUT_NAMES + LABEL_NAMES if k in ref.files}


@pytest.mark.parametrize("filename", FORMATS)
@pytest.mark.parametrize("head", HEADS, ids=[h.value for h in HEADS])
def test_every_format_loads_and_matches_hf(head, filename):
    folder = FIXTURES / "tiny-g2k2" / head.value
    model = getattr(albert_tf, ARCHITECTURES[head]).from_pretrained(folder / filename)
    ref, inputs = reference(folder)
    assert_matches_reference(model(inputs, output_hidden_states=True, output_attentions=True), ref)
    assert not model.load_report.missing


def test_save_pretrained_round_trips_and_names_the_architecture(tmp_path):
    folder = FIXTURES / "tiny" / "pretraining"
    model = albert_tf.AlbertForPreTraining.from_pretrained(folder)
    saved = tmp_path / "saved"
    model.save_pretrained(saved)
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.safetensors"]
    again = albert_tf.AlbertForPreTraining.from_pretrained(saved)
    assert again.config.architectures == ["AlbertForPreTraining"]
    for name, value in model.canonical_state().items():
        np.testing.assert_array_equal(again.canonical_state()[name], value, err_msg=name)
    ref, inputs = reference(folder)
    assert_matches_reference(again(inputs, output_hidden_states=True, output_attentions=True), ref)


def test_a_head_missing_from_the_checkpoint_is_initialised_and_reported():
    model = albert_tf.AlbertForSequenceClassification.from_pretrained(FIXTURES / "tiny" / "masked_lm", num_labels=4)
    assert model.config.num_labels == 4
    assert set(model.load_report.initialised) >= {"classifier.weight", "classifier.bias"}
    assert any(name.startswith("predictions.") for name in model.load_report.dropped)
    encoder = albert_tf.AlbertForMaskedLM.from_pretrained(FIXTURES / "tiny" / "masked_lm").canonical_state()
    state = model.canonical_state()
    np.testing.assert_array_equal(state["albert.embeddings.word_embeddings.weight"], encoder["albert.embeddings.word_embeddings.weight"])
    assert model(reference(FIXTURES / "tiny" / "base")[1])["logits"].shape == (2, 4)


def test_a_wrong_shape_is_a_checkpoint_error_naming_the_tensor():
    with pytest.raises(ValueError, match="word_embeddings"):
        albert_tf.AlbertForMaskedLM.from_pretrained(FIXTURES / "tiny" / "masked_lm", vocab_size=200)
