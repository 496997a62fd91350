"""match_state: a checkpoint's state against the schema of (config, head), numpy only."""

from __future__ import annotations


import numpy as np
import pytest

from albert_core import AlbertConfig
from albert_core.checkpoint import CanonicalState, infer_head, load_checkpoint, match_state
from albert_core.checkpoint.safetensors_io import read_safetensors
from albert_core.errors import CheckpointError

from .checkpoint_helpers import FIXTURES, HF_TINY
from albert_core.schema import Head, tensor_specs



def fixture_state(config_name: str, head: str) -> tuple[AlbertConfig, dict]:
    return load_checkpoint(HF_TINY / config_name / head / "model.safetensors")


@pytest.mark.parametrize("config_name", ["tiny", "tiny-g2k2"])
@pytest.mark.parametrize("head", [h.value for h in Head])
def test_every_hf_fixture_matches_its_own_head_exactly(config_name, head):
    config, state = fixture_state(config_name, head)
    result = match_state(state, config, head)
    expected = {s.name for s in tensor_specs(config, head) if s.tied_to is None}
    assert set(result.state) == expected
    assert (result.missing, result.dropped, result.initialised) == ([], [], [])
    for name in expected:
        assert result.state[name] is state[name]  # no copy on the way


def test_headless_state_loads_into_a_head_model_with_the_head_initialised():
    config, state = fixture_state("tiny", "base")
    result = match_state(state, config, "masked_lm", seed=0)
    head_names = ["predictions.bias", "predictions.dense.weight", "predictions.dense.bias",
                  "predictions.LayerNorm.weight", "predictions.LayerNorm.bias"]
    assert sorted(result.initialised) == sorted(head_names)
    assert result.missing == result.initialised
    assert sorted(result.dropped) == ["albert.pooler.bias", "albert.pooler.weight"]  # MLM has no pooler
    # HF's initialisation: N(0, initializer_range) weights, zero biases, unit LayerNorm scales.
    weight = result.state["predictions.dense.weight"]
    assert weight.shape == (config.embedding_size, config.hidden_size)
    assert 0.5 * config.initializer_range < weight.std() < 1.5 * config.initializer_range
    np.testing.assert_array_equal(result.state["predictions.bias"], 0.0)
    np.testing.assert_array_equal(result.state["predictions.LayerNorm.weight"], 1.0)
    # The same seed gives the same head.
    again = match_state(state, config, "masked_lm", seed=0)
    np.testing.assert_array_equal(again.state["predictions.dense.weight"], weight)


def test_head_state_loads_into_the_base_model_with_the_head_dropped():
    config, state = fixture_state("tiny", "pretraining")
    result = match_state(state, config, "base")
    assert sorted(result.dropped) == sorted(
        ["predictions.bias", "predictions.dense.weight", "predictions.dense.bias", "predictions.LayerNorm.weight",
         "predictions.LayerNorm.bias", "sop_classifier.classifier.weight", "sop_classifier.classifier.bias"]
    )
    assert result.initialised == []
    assert all(name.startswith("albert.") for name in result.state)


def test_a_model_without_pooler_into_one_with_pooler_initialises_the_pooler():
    config, state = fixture_state("tiny", "token_classification")
    result = match_state(state, config, "sequence_classification", seed=1)
    assert sorted(result.initialised) == ["albert.pooler.bias", "albert.pooler.weight"]
    # Both heads call their linear layer `classifier` with num_labels outputs: it is kept.
    assert "classifier.weight" not in result.initialised


def test_every_problem_is_reported_at_once_by_name():
    config, state = fixture_state("tiny", "base")
    broken = CanonicalState(state, source="broken.safetensors")
    del broken["albert.embeddings.word_embeddings.weight"]
    del broken["albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias"]
    broken["albert.encoder.embedding_hidden_mapping_in.weight"] = np.zeros((3, 3), np.float32)
    broken["albert.encoder.something_new.weight"] = np.zeros(3, np.float32)
    with pytest.raises(CheckpointError) as info:
        match_state(broken, config, "base")
    message = str(info.value)
    assert "broken.safetensors" in message and "4 problem(s)" in message
    assert "missing albert.embeddings.word_embeddings.weight" in message
    assert "missing albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias" in message
    assert "albert.encoder.embedding_hidden_mapping_in.weight has shape [3, 3], the config says [32, 16]" in message
    assert "albert.encoder.something_new.weight" in message


def test_a_config_whose_shapes_disagree_names_each_tensor():
    config, state = fixture_state("tiny", "base")
    wider = config.replace(intermediate_size=40)
    with pytest.raises(CheckpointError) as info:
        match_state(state, wider, "base")
    message = str(info.value)
    assert "ffn.weight has shape [37, 32], the config says [40, 32]" in message
    assert "ffn_output.weight has shape [32, 37], the config says [32, 40]" in message


def test_a_classifier_with_another_label_count_is_a_shape_error_not_a_silent_reinit():
    config, state = fixture_state("tiny", "sequence_classification")
    assert config.num_labels == 3
    with pytest.raises(CheckpointError, match=r"classifier.weight has shape \[3, 32\], the config says \[5, 32\]"):
        match_state(state, config.replace(num_labels=5), "sequence_classification")


def test_bert_checkpoint_is_named_as_another_architecture():
    rng = np.random.default_rng(0)
    bert = {
        "bert.embeddings.word_embeddings.weight": rng.normal(size=(10, 4)).astype(np.float32),
        "bert.encoder.layer.0.attention.self.query.weight": rng.normal(size=(4, 4)).astype(np.float32),
        "cls.predictions.bias": np.zeros(10, np.float32),
    }
    config = AlbertConfig(vocab_size=10, embedding_size=4, hidden_size=4, num_attention_heads=1,
                          intermediate_size=8, num_hidden_layers=1)
    with pytest.raises(CheckpointError, match=r"another architecture \(e\.g\. BERT\)") as info:
        match_state(bert, config, "base")
    assert "'bert'" in str(info.value)


def test_legacy_position_ids_buffer_and_bare_base_keys():
    """transformers < 4.31 saved AlbertModel with the position_ids buffer and without `albert.`."""
    raw = read_safetensors(FIXTURES / "legacy" / "position_ids" / "model.safetensors")
    assert "embeddings.position_ids" in raw and not any(k.startswith("albert.") for k in raw)
    config, state = load_checkpoint(FIXTURES / "legacy" / "position_ids")
    assert "embeddings.position_ids" in state.skipped
    result = match_state(state, config, "base")
    assert "embeddings.position_ids" in result.unexpected
    assert result.dropped == [] and result.initialised == []
    np.testing.assert_array_equal(
        result.state["albert.embeddings.word_embeddings.weight"], raw["embeddings.word_embeddings.weight"]
    )


def test_tied_duplicates_are_checked_and_dropped():
    config, state = fixture_state("tiny", "masked_lm")
    with_copies = dict(state)
    with_copies["predictions.decoder.weight"] = state["albert.embeddings.word_embeddings.weight"].copy()
    with_copies["predictions.decoder.bias"] = state["predictions.bias"].copy()
    result = match_state(with_copies, config, "masked_lm")
    assert "predictions.decoder.weight" not in result.state
    assert set(result.unexpected) == {"predictions.decoder.weight", "predictions.decoder.bias"}

    with_copies["predictions.decoder.weight"] = with_copies["predictions.decoder.weight"] + 1
    with pytest.raises(CheckpointError, match="predictions.decoder.weight should equal albert.embeddings.word_embeddings.weight"):
        match_state(with_copies, config, "masked_lm")


def test_untied_decoder_is_a_tensor_of_its_own():
    config, state = fixture_state("tiny", "masked_lm")
    config = config.replace(tie_word_embeddings=False)
    untied = dict(state, **{"predictions.decoder.weight": state["albert.embeddings.word_embeddings.weight"] * 2})
    result = match_state(untied, config, "masked_lm")
    np.testing.assert_array_equal(result.state["predictions.decoder.weight"], untied["predictions.decoder.weight"])


@pytest.mark.parametrize("head", [h.value for h in Head])
def test_infer_head_from_fixture(head):
    config, state = fixture_state("tiny-g2k2", head)
    assert infer_head(state, config) is Head(head)


def test_infer_head_without_architectures_uses_the_pooler():
    config, state = fixture_state("tiny", "token_classification")
    assert infer_head(state, config.replace(architectures=None)) is Head.TOKEN_CLASSIFICATION
    config, state = fixture_state("tiny", "sequence_classification")
    assert infer_head(state, config.replace(architectures=None)) is Head.SEQUENCE_CLASSIFICATION


def test_non_finite_check_is_exact_even_when_a_sum_overflows():
    import warnings

    from albert_core.checkpoint.state import warn_non_finite

    big = np.full(1000, 60000.0, dtype=np.float16)  # finite, but its fp16/fp32 sums are not small
    huge32 = np.full(10, 3e38, dtype=np.float32)  # finite; its float32 sum overflows to inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_non_finite({"big": big, "huge": huge32, "empty": np.zeros(0, np.float32)}) == []
    bad = big.copy()
    bad[-1] = np.inf
    with pytest.warns(RuntimeWarning, match="NaN or Inf values in f.safetensors: bad"):
        assert warn_non_finite({"ok": big, "bad": bad, "ids": np.arange(3)}, "f.safetensors") == ["bad"]


def test_integer_tensors_are_not_weights_but_half_precision_is_fine():
    config, state = fixture_state("tiny", "base")
    half = {k: v.astype(np.float16) for k, v in state.items()}
    assert match_state(half, config, "base").state["albert.pooler.weight"].dtype == np.float16
    ints = dict(state, **{"albert.pooler.bias": np.zeros(32, np.int64)})
    with pytest.raises(CheckpointError, match="albert.pooler.bias has dtype int64, not a floating-point type"):
        match_state(ints, config, "base")
