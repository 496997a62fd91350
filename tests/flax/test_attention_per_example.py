"""The attention core's two programs, one example at a time (lax.map, the CPU default) and batched
(vmap, the accelerator default), compute the same thing: outputs, attentions, losses, gradients."""

import jax
import numpy as np
import pytest

import albert_flax
from albert_flax.modeling import attention_loops_over_examples

from .helpers import assert_trees_close, tiny_config, token_ids

def both_models(model_class, config, **kwargs):
    return [model_class(config, seed=4, attention_per_example=per_example, **kwargs) for per_example in (True, False)]



def test_default_loops_on_cpu_only():
    assert attention_loops_over_examples(None) == (jax.default_backend() == "cpu")
    assert attention_loops_over_examples(True) and not attention_loops_over_examples(False)


@pytest.mark.parametrize("position_embedding_type", ["absolute", "relative_key", "relative_key_query"])
def test_same_hidden_states_and_attentions(position_embedding_type):
    config = tiny_config(position_embedding_type=position_embedding_type)
    ids, mask = token_ids(config, batch=3)
    head_mask = np.array([[1.0, 0.0], [0.5, 1.0], [1.0, 1.0]], np.float32)
    looped, batched = (
        model(ids, attention_mask=mask, head_mask=head_mask, output_attentions=True, output_hidden_states=True)
        for model in both_models(albert_flax.AlbertModel, config)
    )
    assert len(looped.attentions) == config.num_hidden_layers * config.inner_group_num
    assert looped.attentions[0].shape == (3, config.num_attention_heads, 7, 7)
    assert not np.asarray(looped.attentions[0][:, 1]).any()  # head 1 of step 0 silenced
    assert np.asarray(looped.attentions[0][:, 0]).any()
    assert_trees_close(looped, batched)


def test_same_loss_and_gradients():
    config = tiny_config()
    ids, mask = token_ids(config)
    labels = np.where(mask == 1, ids, -100)
    results = []
    for model in both_models(albert_flax.AlbertForMaskedLM, config):
        loss = lambda params: model.apply(params, input_ids=ids, attention_mask=mask, labels=labels).loss
        results.append(jax.jit(jax.value_and_grad(loss))(model.params))
    (loss_looped, grads_looped), (loss_batched, grads_batched) = results
    np.testing.assert_allclose(loss_looped, loss_batched, rtol=1e-6)
    assert_trees_close(grads_looped, grads_batched, rtol=1e-5, atol=1e-7)


def test_attention_dropout_drops_at_its_rate_and_rescales():
    # Only attention dropout: outputs that differ from eval come from the dropped probabilities, and
    # the probabilities returned are the post-dropout ones, as HF returns them.
    config = tiny_config(attention_probs_dropout_prob=0.5, hidden_dropout_prob=0.0, num_hidden_layers=1, num_hidden_groups=1, inner_group_num=1)
    ids = np.random.default_rng(0).integers(1, config.vocab_size, (4, 24))
    for model in both_models(albert_flax.AlbertModel, config):
        key = jax.random.key(1)
        train = model(ids, train=True, dropout_rng=key, output_attentions=True)
        again = model(ids, train=True, dropout_rng=key, output_attentions=True)
        evaluated = model(ids, output_attentions=True)
        np.testing.assert_array_equal(train.last_hidden_state, again.last_hidden_state)
        kept, full = np.asarray(train.attentions[0]), np.asarray(evaluated.attentions[0])
        dropped = kept == 0
        assert 0.4 < dropped.mean() < 0.6
        np.testing.assert_allclose(kept[~dropped], 2.0 * full[~dropped], rtol=1e-5)
        assert not np.allclose(train.last_hidden_state, evaluated.last_hidden_state)
