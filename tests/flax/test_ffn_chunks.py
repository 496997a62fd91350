"""The feed-forward block over chunks of tokens (lax.map, the CPU default) and over all tokens at
once compute the same thing: outputs, losses with dropout, gradients, with and without remat."""

import jax
import numpy as np
import pytest

import albert_flax
from albert_core.chunking import CPU_FFN_CHUNK_TOKENS
from albert_flax.modeling import ffn_chunk_tokens

from .helpers import assert_trees_close, tiny_config, token_ids


def test_chunk_size_resolution():
    on_cpu = jax.default_backend() == "cpu"
    assert ffn_chunk_tokens(None) == (CPU_FFN_CHUNK_TOKENS if on_cpu else 0)
    assert ffn_chunk_tokens(5) == 5 and ffn_chunk_tokens(0) == 0
    with pytest.raises(ValueError, match="ffn_chunk_tokens must be >= 0.*-3"):  # the model's own setting, checked by the core rule
        albert_flax.AlbertModel(tiny_config(), ffn_chunk_tokens=-3)(*token_ids(tiny_config()))


def scan_count(model, ids, mask):
    """How many scans the traced forward holds (the layer stack's, plus one per chunked FFN)."""
    jaxpr = jax.make_jaxpr(lambda p: model.apply(p, input_ids=ids, attention_mask=mask))(model.params)
    return str(jaxpr).count("scan[")


def test_chunked_forward_matches_and_really_loops():
    config = tiny_config()
    ids, mask = token_ids(config, batch=3)  # 21 tokens: chunks of 5, 5, 5, 5 and a remainder of 1
    chunked, whole = (albert_flax.AlbertModel(config, seed=4, ffn_chunk_tokens=n) for n in (5, 0))
    assert scan_count(chunked, ids, mask) > scan_count(whole, ids, mask)
    outputs = [m(ids, attention_mask=mask, output_hidden_states=True) for m in (chunked, whole)]
    assert_trees_close(*outputs)


@pytest.mark.parametrize("remat", [False, True])
def test_chunked_training_loss_and_gradients_match(remat):
    config = tiny_config(hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.2)
    ids, mask = token_ids(config, batch=3)
    labels = np.where(mask == 1, ids, -100)
    key = jax.random.key(7)
    results = []
    for n in (4, 0):
        model = albert_flax.AlbertForMaskedLM(config, seed=4, remat=remat, ffn_chunk_tokens=n)

        def loss(params, model=model):
            return model.apply(params, input_ids=ids, attention_mask=mask, labels=labels, train=True, dropout_rng=key).loss

        results.append(jax.jit(jax.value_and_grad(loss))(model.params))
    (loss_chunked, grads_chunked), (loss_whole, grads_whole) = results
    np.testing.assert_allclose(loss_chunked, loss_whole, rtol=1e-6)
    assert_trees_close(grads_chunked, grads_whole, rtol=1e-5, atol=1e-7)
