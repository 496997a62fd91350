"""Keras-native training: compile + fit trains every head, optimizers, XLA train step, mixed precision."""

import functools
import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_core.schema import Head
from tests.tf.helpers import tiny_config, tiny_inputs, tiny_labels

HEADS = [h for h in Head if h is not Head.BASE]
STDLIB_PROSE = ("json", "textwrap", "collections", "argparse", "logging", "string", "functools", "re", "os", "itertools")


def split_labels(model, batch: dict):
    """(x, y) for fit: y is the tensor of a one-label head, else a dict with HF's label names."""
    labels = {k: batch.pop(k) for k in model.label_keys}
    return batch, (labels if len(labels) > 1 else labels["labels"])


@pytest.mark.parametrize("head", HEADS, ids=[h.value for h in HEADS])
def test_fit_trains_every_head_with_labels_as_y_or_in_x(head):
    keras.utils.set_random_seed(0)
    config = tiny_config()
    model = albert_tf.MODEL_FOR_HEAD[head](config)
    inputs = tiny_inputs(config, choices=3 if model.multiple_choice else None)
    labels = tiny_labels(model, config, inputs)
    direct = float(model({**inputs, **labels})["loss"])
    before = [w.numpy().copy() for w in model.trainable_weights]

    model.compile(optimizer=keras.optimizers.SGD(0.05))
    assert model.jit_compile  # XLA train step
    x, y = split_labels(model, {**inputs, **labels})
    as_y = model.fit(x, y, batch_size=2, epochs=3, shuffle=False, verbose=0).history["loss"]
    in_x = model.evaluate({**inputs, **labels}, batch_size=2, verbose=0, return_dict=True)["loss"]
    # The first epoch's loss is the direct call's (computed before the update, same weights);
    # after three full-batch steps the loss on that batch is lower, with labels given inside x too.
    assert as_y[0] == pytest.approx(direct, rel=1e-5)
    assert in_x < direct
    changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights)]
    assert sum(changed) >= len(changed) - 2  # all but e.g. an unused position / token-type row


def test_xla_train_step_equals_eager_train_step():
    config = tiny_config()
    results = []
    for jit in (True, False):
        keras.utils.set_random_seed(0)
        model = albert_tf.AlbertForMaskedLM(config)
        inputs = tiny_inputs(config)
        x, y = split_labels(model, {**inputs, **tiny_labels(model, config, inputs)})
        model.compile(optimizer=keras.optimizers.SGD(1.0), jit_compile=jit, run_eagerly=not jit)
        model.train_on_batch(x, y)
        results.append([w.numpy() for w in model.trainable_weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-5)


def real_text_batches(tokenizer, seq=32):
    """Masked-LM batches from real English (the standard library's module docstrings, PSF licence)."""
    text = " ".join(importlib.import_module(name).__doc__ for name in STDLIB_PROSE)
    words = text.split()
    chunks = [" ".join(words[i : i + 20]) for i in range(0, len(words) - 20, 20)]
    enc = tokenizer(chunks, padding="max_length", truncation=True, max_length=seq, return_tensors="np")
    rng = np.random.default_rng(0)
    ids = enc["input_ids"].astype("int32")
    special = np.isin(ids, tokenizer.all_special_ids)
    chosen = (rng.random(ids.shape) < 0.15) & ~special
    labels = np.where(chosen, ids, -100).astype("int32")
    masked = np.where(chosen, tokenizer.mask_token_id, ids).astype("int32")
    inputs = {"input_ids": masked, "attention_mask": enc["attention_mask"].astype("int32"), "token_type_ids": enc["token_type_ids"].astype("int32")}
    return inputs, labels


# LAMB scales each update by |w| / |update|; with weights of std 0.02 it needs a larger rate.
@pytest.mark.parametrize("optimizer, learning_rate", [("adamw", 3e-3), ("lamb", 3e-2)])
def test_fit_lowers_the_loss_on_real_text(tokenizer, optimizer, learning_rate):
    # 50 steps of masked-LM on real prose with a small model (well under a minute on 2 CPU cores).
    keras.utils.set_random_seed(0)
    inputs, labels = real_text_batches(tokenizer)
    held_out = np.arange(len(labels)) % 5 == 0  # every 5th chunk, never trained on
    train = ({k: v[~held_out] for k, v in inputs.items()}, labels[~held_out])
    test = ({k: v[held_out] for k, v in inputs.items()}, labels[held_out])
    config = tiny_config(vocab_size=tokenizer.vocab_size, embedding_size=32, hidden_size=64, intermediate_size=128, num_hidden_layers=2, max_position_embeddings=64)
    model = albert_tf.AlbertForMaskedLM(config)
    opt = {"adamw": functools.partial(keras.optimizers.AdamW, weight_decay=0.01), "lamb": keras.optimizers.Lamb}[optimizer]
    model.compile(optimizer=opt(learning_rate=learning_rate))
    before = model.evaluate(*test, verbose=0, return_dict=True)["loss"]
    dataset = tf.data.Dataset.from_tensor_slices(train).shuffle(256, seed=0).repeat().batch(16)
    history = model.fit(dataset, steps_per_epoch=10, epochs=5, verbose=0).history["loss"]
    after = model.evaluate(*test, verbose=0, return_dict=True)["loss"]
    assert before == pytest.approx(np.log(tokenizer.vocab_size), rel=0.05)
    assert history[-1] < 0.8 * history[0]
    assert after < before - 1.0


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_mixed_bfloat16_predicts_close_to_float32_and_trains(mixed_bfloat16):
    keras.utils.set_random_seed(0)
    config = tiny_config()
    inputs = tiny_inputs(config)
    mixed = albert_tf.AlbertForSequenceClassification(config)
    keras.mixed_precision.set_global_policy("float32")
    full = albert_tf.AlbertForSequenceClassification(config)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    full.load_canonical_state(mixed.canonical_state())
    assert all(w.dtype == "float32" for w in mixed.weights)
    out = mixed(inputs)
    assert out["logits"].dtype == tf.bfloat16
    # bf16 keeps 8 bits of mantissa: logits here are O(0.1); measured max |Δ| ≈ 2e-3.
    np.testing.assert_allclose(np.asarray(tf.cast(out["logits"], tf.float32)), np.asarray(full(inputs)["logits"]), atol=1e-2)
    labels = tiny_labels(mixed, config, inputs)["labels"]
    mixed.compile(optimizer=keras.optimizers.AdamW(1e-3))
    history = mixed.fit(inputs, labels, epochs=3, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]
