"""Bad input gives a clear error with the numbers, before any graph runs (so under XLA too)."""

import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_core.inputs import InputError
from albert_core.schema import Head
from tests.tf.helpers import tiny_config, tiny_inputs, tiny_labels


@pytest.fixture(scope="module")
def mlm():
    config = tiny_config()
    return albert_tf.AlbertForMaskedLM(config), config


def with_ids(inputs, ids):
    return {**inputs, "input_ids": ids}


@pytest.mark.parametrize("call", ["eager", "predict_on_batch", "predict"])
def test_ids_outside_the_vocabulary(mlm, call):
    model, config = mlm
    inputs = tiny_inputs(config)
    for bad, shown in ((config.vocab_size, "99"), (-1, "-1")):
        ids = inputs["input_ids"].copy()
        ids[0, 1] = bad
        run = {"eager": model, "predict_on_batch": model.predict_on_batch, "predict": lambda x: model.predict(x, verbose=0)}[call]
        with pytest.raises(InputError, match=rf"input_ids contain {shown}, outside the vocabulary \[0, 99\)"):
            run(with_ids(inputs, ids))


def test_too_long_sequence(mlm):
    model, config = mlm
    inputs = tiny_inputs(config, seq=config.max_position_embeddings + 1)
    with pytest.raises(InputError, match=r"sequence length 41 exceeds max_position_embeddings \(40\)"):
        model(inputs)


def test_mismatched_shapes(mlm):
    model, config = mlm
    inputs = tiny_inputs(config)
    with pytest.raises(InputError, match=r"attention_mask has shape \[2, 6\] but the input has shape \[2, 7\]"):
        model({**inputs, "attention_mask": inputs["attention_mask"][:, :6]})
    with pytest.raises(InputError, match=r"input_ids must have shape \[batch, seq\], got \[2, 3, 7\]"):
        model(with_ids(inputs, np.stack([inputs["input_ids"]] * 3, axis=1)))
    with pytest.raises(InputError, match=r"token_type_ids must lie in \[0, 2\), got \[0, 2\]"):
        model({**inputs, "token_type_ids": inputs["token_type_ids"] * 2})
    with pytest.raises(InputError, match=r"head_mask must have shape \[4\] or \[num_hidden_layers=3, 4\], got \[2, 4\]"):
        model(inputs, head_mask=np.ones((2, 4), "float32"))


def test_unknown_or_doubled_inputs(mlm):
    model, config = mlm
    inputs = tiny_inputs(config)
    with pytest.raises(InputError, match=r"unknown input\(s\) \['input_idz'\]"):
        model({"input_idz": inputs["input_ids"]})
    with pytest.raises(InputError, match="'attention_mask' was given both"):
        model(inputs, attention_mask=inputs["attention_mask"])


@pytest.mark.parametrize(
    "head, labels, message",
    [
        (Head.MASKED_LM, {"labels": np.full((2, 7), 99, "int32")}, r"labels for masked_lm must lie in \[0, 99\), got \[99, 99\]"),
        (Head.MASKED_LM, {"labels": np.zeros((2, 6), "int32")}, r"labels for masked_lm must have shape \[2, 7\], got \[2, 6\]"),
        (Head.SEQUENCE_CLASSIFICATION, {"labels": np.array([0, 2], "int32")}, r"must lie in \[0, 2\), got \[0, 2\]"),
        (Head.TOKEN_CLASSIFICATION, {"labels": np.zeros((2,), "int32")}, r"must have shape \[2, 7\], got \[2\]"),
        (Head.MULTIPLE_CHOICE, {"labels": np.array([0, 3], "int32")}, r"multiple_choice must lie in \[0, 3\), got \[0, 3\]"),
        (Head.PRETRAINING, {"labels": np.zeros((2, 7), "int32"), "sentence_order_label": np.array([0, 2], "int32")}, r"sentence_order must lie in \[0, 2\), got \[0, 2\]"),
        (Head.QUESTION_ANSWERING, {"start_positions": np.zeros((2, 2), "int32"), "end_positions": np.zeros(2, "int32")}, r"start_positions must have shape \[2\] or \[2, 1\], got \[2, 2\]"),
        (Head.QUESTION_ANSWERING, {"start_positions": np.zeros(2, "int32")}, "end_positions is missing"),
    ],
    ids=lambda v: v.value if isinstance(v, Head) else None,
)
def test_bad_labels(head, labels, message):
    config = tiny_config()
    model = albert_tf.MODEL_FOR_HEAD[head](config)
    inputs = tiny_inputs(config, choices=3 if model.multiple_choice else None)
    with pytest.raises(InputError, match=message):
        model({**inputs, **labels})
    model.compile(optimizer="sgd")
    y = labels if len(labels) > 1 or head in (Head.PRETRAINING, Head.QUESTION_ANSWERING) else labels["labels"]
    with pytest.raises(InputError, match=message):
        model.fit(inputs, y, epochs=1, verbose=0)


def test_fit_on_a_tf_data_pipeline_checks_each_batch():
    config = tiny_config()
    model = albert_tf.AlbertForSequenceClassification(config)
    model.compile(optimizer="sgd")
    inputs = tiny_inputs(config)
    labels = tiny_labels(model, config, inputs)["labels"]
    bad = with_ids(inputs, inputs["input_ids"] + config.vocab_size)
    dataset = tf.data.Dataset.from_tensor_slices((bad, labels)).batch(2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"outside the vocabulary \[0, 99\)"):
        model.fit(dataset, epochs=1, verbose=0)
    good = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(2)
    history = model.fit(good, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_fit_without_labels_says_what_is_missing():
    config = tiny_config()
    model = albert_tf.AlbertForSequenceClassification(config)
    model.compile(optimizer="sgd")
    with pytest.raises(InputError, match=r"no labels to compute a loss"):
        model.fit(tiny_inputs(config), epochs=1, verbose=0)
    with pytest.raises(InputError, match="sample_weight"):
        model.fit(tiny_inputs(config), np.zeros(2, "int32"), sample_weight=np.ones(2), epochs=1, verbose=0)
