"""The feed-forward block over chunks of tokens (the CPU inference default under tf.function) and
over all tokens at once compute the same outputs; eagerly and in training it is never chunked."""

import numpy as np
import tensorflow as tf

import albert_tf
from albert_tf import layers

from .helpers import tiny_config, tiny_inputs


def test_cpu_default_chunk():
    expected = 0 if tf.config.list_logical_devices("GPU") else layers.CPU_FFN_CHUNK_TOKENS
    assert layers.ffn_chunk_tokens() == expected


def traced_forward(model, inputs, training=False):
    forward = tf.function(lambda batch: model(batch, training=training)["last_hidden_state"], jit_compile=True)
    batch = {k: tf.constant(v) for k, v in inputs.items()}
    ops = {op.type for op in forward.get_concrete_function(batch).graph.get_operations()}
    return forward(batch).numpy(), ops


def test_chunked_forward_matches_and_really_loops(monkeypatch):
    config = tiny_config()
    inputs = tiny_inputs(config, batch=3)  # 21 tokens: 4 chunks of 5 and a remainder of 1
    model = albert_tf.AlbertModel(config)
    monkeypatch.setattr(layers, "CPU_FFN_CHUNK_TOKENS", 0)
    whole, whole_ops = traced_forward(model, inputs)
    monkeypatch.setattr(layers, "CPU_FFN_CHUNK_TOKENS", 5)
    chunked, chunked_ops = traced_forward(model, inputs)
    assert not any("While" in op for op in whole_ops)
    assert any("While" in op for op in chunked_ops)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-6)
    _, training_ops = traced_forward(model, inputs, training=True)  # a training step: measured slower chunked
    assert not any("While" in op for op in training_ops)
    eager = model(inputs, training=False)["last_hidden_state"]  # eagerly: one call over all tokens
    np.testing.assert_allclose(np.asarray(eager), whole, rtol=1e-5, atol=1e-5)


def test_chunks_only_in_a_traced_function_and_with_static_shapes():
    calls = []

    def feed_forward(x):
        calls.append(tuple(x.shape))
        return x * 2.0

    hidden = tf.ones((3, 7, 4))
    np.testing.assert_array_equal(layers.feed_forward_in_chunks(feed_forward, hidden, 5), 2.0 * hidden)
    assert calls == [(3, 7, 4)]  # eagerly: all tokens in one call

    calls.clear()
    traced = tf.function(lambda h: layers.feed_forward_in_chunks(feed_forward, h, 5))
    np.testing.assert_array_equal(traced(hidden), 2.0 * hidden)
    assert set(calls) == {(5, 4), (1, 4)} and calls[-1] == (1, 4)  # the loop body (traced by map), then the remainder
    calls.clear()
    dynamic = tf.function(lambda h: layers.feed_forward_in_chunks(feed_forward, h, 5), input_signature=[tf.TensorSpec((None, 7, 4))])
    np.testing.assert_array_equal(dynamic(hidden), 2.0 * hidden)
    assert calls == [(None, 7, 4)]  # unknown batch: no chunks
