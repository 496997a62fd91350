"""albert_tf models: structure, weights, semantics HF users rely on, XLA and SavedModel parity."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_core.schema import Head, parameter_count, tensor_specs
from tests.tf.helpers import tiny_config, tiny_inputs, tiny_labels

HEADS = list(Head)


def build(head: Head, **overrides):
    config = tiny_config(**overrides)
    model = albert_tf.MODEL_FOR_HEAD[head](config)
    choices = 3 if model.multiple_choice else None
    return model, config, tiny_inputs(config, choices=choices)


@pytest.mark.parametrize("head", HEADS, ids=[h.value for h in HEADS])
def test_canonical_state_is_the_schema_and_round_trips(head):
    model, config, inputs = build(head, num_hidden_groups=2, inner_group_num=2, num_hidden_layers=4)
    state = model.canonical_state()
    specs = tensor_specs(config, head)
    assert list(state) == [s.name for s in specs]
    assert all(state[s.name].shape == s.shape for s in specs)
    for spec in specs:
        if spec.tied_to:
            np.testing.assert_array_equal(state[spec.name], state[spec.tied_to])
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == parameter_count(config, head)

    other = albert_tf.MODEL_FOR_HEAD[head](config)
    other.load_canonical_state(state)
    a, b = model(inputs), other(inputs)
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]))


def test_load_reports_every_missing_and_misshapen_tensor():
    model, config, _ = build(Head.SEQUENCE_CLASSIFICATION)
    state = model.canonical_state()
    del state["classifier.bias"], state["albert.pooler.weight"]
    state["albert.embeddings.word_embeddings.weight"] = np.zeros((5, 16), "float32")
    with pytest.raises(ValueError) as err:
        model.load_canonical_state(state)
    message = str(err.value)
    for name in ("classifier.bias", "albert.pooler.weight", "albert.embeddings.word_embeddings.weight: expected [99, 16], got [5, 16]"):
        assert name in message


def test_initialisation_follows_hf():
    model, config, _ = build(Head.MASKED_LM, vocab_size=2000, initializer_range=0.05)
    state = model.canonical_state()
    words = state["albert.embeddings.word_embeddings.weight"]
    assert np.all(words[config.pad_token_id] == 0)
    assert np.std(words[1:]) == pytest.approx(0.05, rel=0.05)
    assert np.std(state["albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"]) == pytest.approx(0.05, rel=0.1)
    assert np.all(state["albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias"] == 0)
    assert np.all(state["predictions.LayerNorm.weight"] == 1) and np.all(state["predictions.LayerNorm.bias"] == 0)
    assert np.all(state["predictions.bias"] == 0)


@pytest.mark.parametrize("head", HEADS, ids=[h.value for h in HEADS])
def test_outputs_named_as_hf_with_depth_as_hf(head):
    model, config, inputs = build(head, num_hidden_groups=2, inner_group_num=2, num_hidden_layers=4)
    labels = tiny_labels(model, config, inputs)
    out = model({**inputs, **labels}, output_hidden_states=True, output_attentions=True)
    expected = {
        Head.BASE: ["last_hidden_state", "pooler_output"],
        Head.PRETRAINING: ["loss", "prediction_logits", "sop_logits"],
        Head.QUESTION_ANSWERING: ["loss", "start_logits", "end_logits"],
    }.get(head, ["loss", "logits"])
    assert list(out) == expected + ["hidden_states", "attentions"]
    assert len(out["hidden_states"]) == config.num_hidden_layers + 1
    assert len(out["attentions"]) == config.num_hidden_layers * config.inner_group_num
    if head is not Head.BASE:
        assert np.isfinite(float(out["loss"]))
    plain = model(inputs)
    assert "hidden_states" not in plain and "attentions" not in plain and "loss" not in plain


def test_pretraining_loss_is_the_sum_of_the_parts_given():
    model, config, inputs = build(Head.PRETRAINING)
    labels = tiny_labels(model, config, inputs)
    both = float(model({**inputs, **labels})["loss"])
    mlm = float(model({**inputs, "labels": labels["labels"]})["loss"])
    sop = float(model({**inputs, "sentence_order_label": labels["sentence_order_label"]})["loss"])
    assert both == pytest.approx(mlm + sop, rel=1e-6)
    assert mlm != pytest.approx(sop)


def test_a_batch_with_every_label_ignored_has_a_nan_loss_as_torch():
    model, config, inputs = build(Head.MASKED_LM)
    assert np.isnan(float(model({**inputs, "labels": np.full((2, 7), -100, "int32")})["loss"]))


def test_sop_head_is_two_wide_whatever_num_labels():
    model, config, inputs = build(Head.PRETRAINING, num_labels=5)
    assert model(inputs)["sop_logits"].shape == (2, 2)


def test_keyword_inputs_equal_dict_inputs():
    model, config, inputs = build(Head.MASKED_LM)
    a = model(inputs)["logits"]
    b = model(**inputs)["logits"]
    c = model(inputs["input_ids"], attention_mask=inputs["attention_mask"], token_type_ids=inputs["token_type_ids"])["logits"]
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(c))


def test_padding_does_not_change_unpadded_tokens():
    model, config, _ = build(Head.BASE)
    rng = np.random.default_rng(3)
    ids = rng.integers(1, config.vocab_size, (1, 5)).astype("int32")
    short = model({"input_ids": ids})["last_hidden_state"]
    padded_ids = np.concatenate([ids, np.zeros((1, 4), "int32")], axis=1)
    mask = np.array([[1] * 5 + [0] * 4], "int32")
    long = model({"input_ids": padded_ids, "attention_mask": mask})["last_hidden_state"]
    np.testing.assert_allclose(np.asarray(long)[:, :5], np.asarray(short), atol=1e-6)


def test_token_type_ids_default_to_zeros_and_position_ids_to_arange():
    model, config, inputs = build(Head.BASE)
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    a = model({"input_ids": ids, "attention_mask": mask})["last_hidden_state"]
    positions = np.broadcast_to(np.arange(ids.shape[1], dtype="int32"), ids.shape)
    b = model({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids), "position_ids": positions})["last_hidden_state"]
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_inputs_embeds_equal_input_ids():
    model, config, inputs = build(Head.BASE)
    embeds = tf.gather(model.albert.embeddings.word_embeddings, inputs["input_ids"])
    a = model(inputs)["last_hidden_state"]
    b = model(inputs_embeds=embeds, attention_mask=inputs["attention_mask"], token_type_ids=inputs["token_type_ids"])["last_hidden_state"]
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_head_mask_row_l_masks_every_inner_layer_of_step_l():
    model, config, inputs = build(Head.BASE, num_hidden_groups=1, inner_group_num=2, num_hidden_layers=3)
    K = config.inner_group_num
    head_mask = np.ones((3, 4), "float32")
    head_mask[1, 2] = 0.0
    out = model(inputs, head_mask=head_mask, output_attentions=True)
    free = model(inputs, output_attentions=True)
    for step in range(3):
        for k in range(K):
            probs = np.asarray(out["attentions"][step * K + k])
            if step == 1:
                assert np.all(probs[:, 2] == 0) and np.all(probs[:, [0, 1, 3]].sum(-1) > 0.99)
            else:
                assert np.all(probs.sum(-1) > 0.99)
    # Steps before the masked one are untouched; a mask of ones is no mask; [heads] means every step.
    np.testing.assert_array_equal(np.asarray(out["attentions"][0]), np.asarray(free["attentions"][0]))
    ones = model(inputs, head_mask=np.ones(4, "float32"))["last_hidden_state"]
    np.testing.assert_array_equal(np.asarray(ones), np.asarray(free["last_hidden_state"]))
    one_row = model(inputs, head_mask=np.array([1, 0, 1, 1], "float32"), output_attentions=True)
    assert all(np.all(np.asarray(a)[:, 1] == 0) for a in one_row["attentions"])


@pytest.mark.parametrize("kind", ["relative_key", "relative_key_query"])
def test_relative_positions_depend_on_offsets_only(kind):
    # Relative positions only: the same tokens left- or right-padded see the same offsets, so the
    # real tokens' outputs agree; with absolute positions they would not. The absolute table is unused.
    model, config, _ = build(Head.BASE, position_embedding_type=kind)
    tokens = np.array([5, 17, 42, 8], "int32")
    pad = np.zeros(3, "int32")
    right = model({"input_ids": np.concatenate([tokens, pad])[None], "attention_mask": np.array([[1] * 4 + [0] * 3])})
    left = model({"input_ids": np.concatenate([pad, tokens])[None], "attention_mask": np.array([[0] * 3 + [1] * 4])})
    right, left = np.asarray(right["last_hidden_state"])[0, :4], np.asarray(left["last_hidden_state"])[0, 3:]
    np.testing.assert_allclose(right, left, atol=1e-5)
    table = model.albert.embeddings.position_embeddings
    table.assign(np.zeros(table.shape, "float32"))
    again = model({"input_ids": np.concatenate([tokens, pad])[None], "attention_mask": np.array([[1] * 4 + [0] * 3])})
    np.testing.assert_array_equal(np.asarray(again["last_hidden_state"])[0, :4], right)
    assert "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.distance_embedding.weight" in model.canonical_state()

    absolute, _, _ = build(Head.BASE)
    r = absolute({"input_ids": np.concatenate([tokens, pad])[None], "attention_mask": np.array([[1] * 4 + [0] * 3])})
    l_ = absolute({"input_ids": np.concatenate([pad, tokens])[None], "attention_mask": np.array([[0] * 3 + [1] * 4])})
    assert not np.allclose(np.asarray(r["last_hidden_state"])[0, :4], np.asarray(l_["last_hidden_state"])[0, 3:], atol=1e-3)


def test_pad_row_gets_no_gradient_from_the_lookup_but_does_from_the_tied_decoder():
    for head, expect_zero in ((Head.BASE, True), (Head.MASKED_LM, False)):
        model, config, inputs = build(head)
        with tf.GradientTape() as tape:
            out = model(inputs, training=True)
            result = out["logits"] if "logits" in out else out["last_hidden_state"]
            # Linear in the outputs: the pad row starts at zero, so a square would give it a zero gradient anyway.
            loss = tf.reduce_sum(result * tf.random.stateless_normal(result.shape, seed=(1, 2)))
        grad = tape.gradient(loss, model.albert.embeddings.word_embeddings)
        grad = tf.convert_to_tensor(grad).numpy()
        assert np.any(inputs["input_ids"] == config.pad_token_id)
        assert np.all(grad[config.pad_token_id] == 0) == expect_zero
        assert np.any(grad[inputs["input_ids"][0, 0]] != 0)


@pytest.mark.parametrize("head", HEADS, ids=[h.value for h in HEADS])
def test_xla_predict_on_batch_matches_eager(head):
    model, config, inputs = build(head, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, classifier_dropout_prob=0.1)
    eager = model(inputs, training=False)
    compiled = model.predict_on_batch(inputs)
    assert model.jit_compile
    for key, value in eager.items():
        np.testing.assert_allclose(compiled[key], np.asarray(value), atol=1e-5, err_msg=key)


def test_dropout_only_in_training():
    model, config, inputs = build(Head.BASE, hidden_dropout_prob=0.5)
    a = model(inputs)["last_hidden_state"]
    np.testing.assert_array_equal(np.asarray(a), np.asarray(model(inputs)["last_hidden_state"]))
    assert not np.allclose(np.asarray(model(inputs, training=True)["last_hidden_state"]), np.asarray(a))


@pytest.mark.parametrize("head", [Head.SEQUENCE_CLASSIFICATION, Head.MULTIPLE_CHOICE, Head.QUESTION_ANSWERING])
def test_exported_saved_model_matches(head, tmp_path):
    model, config, inputs = build(head)
    model.export(tmp_path / "served", verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "served"))
    served = reloaded.serve(inputs)
    signature = reloaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})
    expected = model(inputs)
    assert sorted(served) == sorted(expected) == sorted(signature)
    for key in expected:
        np.testing.assert_allclose(np.asarray(served[key]), np.asarray(expected[key]), atol=1e-5)
        np.testing.assert_allclose(np.asarray(signature[key]), np.asarray(expected[key]), atol=1e-5)
    bad = {**inputs, "input_ids": inputs["input_ids"] + config.vocab_size}
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"outside the vocabulary \[0, 99\)"):
        reloaded.serve(bad)


def test_keras_config_and_file_round_trip(tmp_path):
    model, config, inputs = build(Head.TOKEN_CLASSIFICATION, num_labels=3)
    clone = albert_tf.AlbertForTokenClassification.from_config(model.get_config())
    assert clone.config == model.config
    path = tmp_path / "model.keras"
    model.save(path)
    import keras

    loaded = keras.models.load_model(path, custom_objects={"AlbertForTokenClassification": albert_tf.AlbertForTokenClassification})
    np.testing.assert_array_equal(np.asarray(loaded(inputs)["logits"]), np.asarray(model(inputs)["logits"]))


def test_question_answering_needs_two_labels():
    with pytest.raises(ValueError, match="num_labels == 2"):
        albert_tf.AlbertForQuestionAnswering(tiny_config(num_labels=3))


def test_importing_with_another_keras_backend_says_how_to_fix_it():
    code = "import albert_tf"
    result = subprocess.run(
        [sys.executable, "-c", code], env={**__import__("os").environ, "KERAS_BACKEND": "jax"}, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "KERAS_BACKEND=tensorflow" in result.stderr and "'jax'" in result.stderr


def test_importing_albert_tf_loads_no_other_framework():
    # (jax is left out: TensorFlow itself imports it when it is installed.)
    code = (
        "import sys, albert_tf; "
        "bad = sorted(m for m in ('torch', 'flax', 'optax', 'transformers', 'albert_torch', 'albert_flax') if m in sys.modules); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
