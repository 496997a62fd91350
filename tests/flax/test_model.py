"""The model classes and modules: head_mask per step, dropout keys, gradients, init, dtypes, outputs."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import albert_flax
from albert_core.schema import Head, tensor_specs
from albert_flax.params import param_specs

from .helpers import tiny_config, token_ids


@pytest.fixture(scope="module")
def config():
    return tiny_config()


@pytest.fixture(scope="module")
def small():
    """One group, one inner layer: what the gradient tests need, at a fraction of the compile time."""
    return tiny_config(num_hidden_layers=2, num_hidden_groups=1, inner_group_num=1)


def test_head_mask_row_masks_only_its_own_step(config):
    """Row l of a [num_hidden_layers, heads] mask silences heads in step l and nowhere else."""
    model = albert_flax.AlbertModel(config, seed=1)
    ids, mask = token_ids(config)
    layers, heads, inner = config.num_hidden_layers, config.num_attention_heads, config.inner_group_num
    plain = model(ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
    head_mask = np.ones((layers, heads), np.float32)
    head_mask[2, 0] = 0.0
    masked = model(ids, attention_mask=mask, head_mask=head_mask, output_hidden_states=True, output_attentions=True)
    for step in range(layers + 1):
        same = np.allclose(plain.hidden_states[step], masked.hidden_states[step])
        assert same == (step <= 2), step  # hidden_states[step] is the input of step `step`
    for step in range(layers):
        for k in range(inner):
            attention = np.asarray(masked.attentions[step * inner + k])
            assert (not attention[:, 0].any()) == (step == 2), (step, k)
            assert attention[:, 1].any()


def test_one_dimensional_head_mask_applies_to_every_step(config):
    model = albert_flax.AlbertModel(config, seed=1)
    ids, mask = token_ids(config)
    row = np.array([1.0, 0.0], np.float32)
    one_d = model(ids, attention_mask=mask, head_mask=row)
    two_d = model(ids, attention_mask=mask, head_mask=np.tile(row, (config.num_hidden_layers, 1)))
    np.testing.assert_array_equal(one_d.last_hidden_state, two_d.last_hidden_state)


def test_dropout_follows_the_key(config):
    model = albert_flax.AlbertForSequenceClassification(config.replace(hidden_dropout_prob=0.3), seed=2)
    ids, mask = token_ids(config)
    key = jax.random.key(5)
    eval_logits = model(ids, attention_mask=mask).logits
    first = model(ids, attention_mask=mask, train=True, dropout_rng=key).logits
    again = model(ids, attention_mask=mask, train=True, dropout_rng=key).logits
    other = model(ids, attention_mask=mask, train=True, dropout_rng=jax.random.key(6)).logits
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other) and not np.allclose(first, eval_logits)
    np.testing.assert_array_equal(eval_logits, model(ids, attention_mask=mask).logits)


def test_pad_row_gets_no_gradient_from_the_lookup(small):
    model = albert_flax.AlbertForTokenClassification(small.replace(num_labels=3), seed=0)
    ids, mask = token_ids(small)  # the last row ends in pad tokens
    labels = np.where(mask == 1, ids % 3, -100)

    grads = jax.jit(jax.grad(lambda p: model.apply(p, input_ids=ids, attention_mask=mask, labels=labels).loss))(model.params)
    table_grad = np.asarray(grads["albert"]["embeddings"]["word_embeddings"]["embedding"])
    assert not table_grad[small.pad_token_id].any()
    assert all(table_grad[i].any() for i in np.unique(ids[mask == 1]))


def test_tied_decoder_trains_the_word_embeddings(small):
    model = albert_flax.AlbertForMaskedLM(small, seed=0)
    ids, mask = token_ids(small)
    grads = jax.jit(jax.grad(lambda p: model.apply(p, input_ids=ids, attention_mask=mask, labels=ids).loss))(model.params)
    assert "decoder" not in grads["predictions"]  # tied: no parameter of its own
    # Rows that never appear in the input get gradient only through the decoder.
    unused = sorted(set(range(small.vocab_size)) - set(ids.ravel()))
    assert np.asarray(grads["albert"]["embeddings"]["word_embeddings"]["embedding"])[unused].any()


def test_untied_decoder_has_its_own_kernel(config):
    untied = config.replace(tie_word_embeddings=False)
    model = albert_flax.AlbertForMaskedLM(untied, seed=0)
    assert model.params["predictions"]["decoder"]["kernel"].shape == (untied.embedding_size, untied.vocab_size)
    state = model.canonical_state()
    assert not np.array_equal(state["predictions.decoder.weight"], state["albert.embeddings.word_embeddings.weight"])
    ids, mask = token_ids(untied)
    table = state["predictions.decoder.weight"]
    out = model(ids, attention_mask=mask)
    model.params["predictions"]["decoder"]["kernel"] = jnp.zeros_like(model.params["predictions"]["decoder"]["kernel"])
    assert not np.allclose(out.logits, model(ids, attention_mask=mask).logits)
    assert table.shape == (untied.vocab_size, untied.embedding_size)


def test_an_optax_step_lowers_the_loss(small):
    model = albert_flax.AlbertForPreTraining(small, seed=0)
    ids, mask = token_ids(small)
    labels = np.where(np.arange(ids.shape[1]) % 3 == 0, ids, -100)
    batch = dict(input_ids=ids, attention_mask=mask, labels=labels, sentence_order_label=np.array([0, 1]))
    optimizer = optax.adamw(1e-2)

    @jax.jit
    def step(params, opt_state):
        loss, grads = jax.value_and_grad(lambda p: model.apply(p, **batch).loss)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    params, opt_state = model.params, optimizer.init(model.params)
    losses = []
    for _ in range(3):
        params, opt_state, loss = step(params, opt_state)
        losses.append(float(loss))
    assert losses[2] < losses[0]


def test_initialisation_is_hf_s(config):
    wide = config.replace(hidden_size=64, intermediate_size=256, num_attention_heads=4, initializer_range=0.05)
    model = albert_flax.AlbertForPreTraining(wide, seed=0)
    state = model.canonical_state()
    for spec in tensor_specs(wide, Head.PRETRAINING):
        value = state[spec.name]
        if spec.kind.value in ("linear_weight", "embedding") and value.size >= 4096:
            assert abs(value.std() - 0.05) < 0.005, spec.name
        elif spec.kind.value == "norm_scale":
            assert (value == 1).all(), spec.name
        elif spec.kind.value in ("bias", "norm_bias"):
            assert not value.any(), spec.name
    assert not state["albert.embeddings.word_embeddings.weight"][wide.pad_token_id].any()
    same = albert_flax.AlbertForPreTraining(wide, seed=0).canonical_state()
    other = albert_flax.AlbertForPreTraining(wide, seed=1).canonical_state()
    assert all(np.array_equal(same[k], state[k]) for k in state)
    assert not np.array_equal(other["albert.pooler.weight"], state["albert.pooler.weight"])


def test_module_init_gives_the_same_tree_as_the_schema(config):
    for cls in (albert_flax.AlbertModel, albert_flax.AlbertForPreTraining, albert_flax.AlbertForMultipleChoice):
        model = cls(config)
        from_jax = jax.eval_shape(model.init_weights, jax.random.key(0))
        assert jax.tree_util.tree_structure(from_jax) == jax.tree_util.tree_structure(model.params)
        for a, b in zip(jax.tree_util.tree_leaves(from_jax), jax.tree_util.tree_leaves(model.params)):
            assert a.shape == b.shape
        assert len(jax.tree_util.tree_leaves(model.params)) == len(param_specs(config, cls.head))


def test_bfloat16_compute_keeps_float32_params(config):
    """bf16 compute against fp32 on the same weights. Measured (seeds 0-2): logits of magnitude
    up to 0.2 differ by at most 0.0025 (bf16 keeps 8 mantissa bits: 2^-8 relative per rounding),
    losses by 3e-5 relative; the bounds below leave a 4x margin."""
    ids, mask = token_ids(config)
    fp32 = albert_flax.AlbertForMaskedLM(config, seed=0)
    bf16 = albert_flax.AlbertForMaskedLM(config, seed=0, dtype=jnp.bfloat16)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree_util.tree_leaves(bf16.params))
    out16 = bf16(ids, attention_mask=mask, labels=ids)
    out32 = fp32(ids, attention_mask=mask, labels=ids)
    assert out16.logits.dtype == jnp.bfloat16 and out16.loss.dtype == jnp.float32
    delta = np.abs(np.asarray(out16.logits, np.float32) - np.asarray(out32.logits)).max()
    assert delta < 0.01, delta
    assert abs(float(out16.loss) - float(out32.loss)) < 1.2e-4 * float(out32.loss)


def test_outputs_are_pytrees_with_named_fields(config):
    model = albert_flax.AlbertForQuestionAnswering(config)
    ids, mask = token_ids(config)
    out = model(ids, attention_mask=mask, output_hidden_states=True)
    assert out.keys() == ("loss", "start_logits", "end_logits", "hidden_states", "attentions")
    assert out["start_logits"] is out.start_logits and out[0] is out.start_logits
    assert len(out.to_tuple()) == 3 and len(out.hidden_states) == config.num_hidden_layers + 1
    doubled = jax.tree_util.tree_map(lambda x: 2 * x, out)
    assert type(doubled) is type(out)
    np.testing.assert_allclose(doubled.end_logits, 2 * out.end_logits)
    with pytest.raises(KeyError, match="has no field 'logits'"):
        out["logits"]


def test_params_argument_and_jax_inputs(config):
    model = albert_flax.AlbertModel(config, seed=0)
    other = albert_flax.AlbertModel(config, seed=1)
    ids, mask = token_ids(config)
    with_other = model(jnp.asarray(ids), attention_mask=jnp.asarray(mask), params=other.params)
    np.testing.assert_array_equal(with_other.last_hidden_state, other(ids, attention_mask=mask).last_hidden_state)


def test_multiple_choice_scores_each_choice_independently(config):
    model = albert_flax.AlbertForMultipleChoice(config, seed=0)
    ids, mask = token_ids(config)
    both = model(np.stack([ids, ids[::-1]], axis=1), attention_mask=np.stack([mask, mask[::-1]], axis=1)).logits
    flipped = model(np.stack([ids[::-1], ids], axis=1), attention_mask=np.stack([mask[::-1], mask], axis=1)).logits
    np.testing.assert_allclose(both, np.asarray(flipped)[:, ::-1], atol=1e-6)


def test_linen_modules_work_on_their_own(small):
    """The pure modules: init from a JAX key, apply with ids positional, inside your own jit."""
    module = albert_flax.AlbertForMaskedLMModule(small)
    ids, mask = token_ids(small)
    variables = jax.jit(module.init)(jax.random.key(0), ids)
    word = np.asarray(variables["params"]["albert"]["embeddings"]["word_embeddings"]["embedding"])
    assert not word[small.pad_token_id].any() and abs(word.std() - small.initializer_range) < 0.005
    out = jax.jit(lambda v: module.apply(v, ids, attention_mask=mask, labels=ids))(variables)
    wrapper = albert_flax.AlbertForMaskedLM(small)
    expected = wrapper(ids, attention_mask=mask, labels=ids, params=variables["params"]).loss
    np.testing.assert_allclose(out.loss, expected, rtol=1e-6)


def test_pretraining_loss_is_the_sum_of_the_parts_given(small):
    model = albert_flax.AlbertForPreTraining(small, seed=0)
    ids, mask = token_ids(small)
    mlm, sop = ids.copy(), np.array([1, 0])
    both = model(ids, attention_mask=mask, labels=mlm, sentence_order_label=sop).loss
    mlm_only = model(ids, attention_mask=mask, labels=mlm).loss
    sop_only = model(ids, attention_mask=mask, sentence_order_label=sop).loss
    np.testing.assert_allclose(both, mlm_only + sop_only, rtol=1e-6)
    assert model(ids, attention_mask=mask).loss is None


def test_sentence_order_head_is_two_wide_whatever_num_labels(small):
    three = small.replace(num_labels=3)
    model = albert_flax.AlbertForPreTraining(three, seed=0)
    assert model.params["sop_classifier"]["classifier"]["kernel"].shape == (three.hidden_size, 2)
    ids, mask = token_ids(three)
    out = model(ids, attention_mask=mask, labels=ids, sentence_order_label=np.array([1, 0]))
    assert out.sop_logits.shape == (2, 2) and np.isfinite(float(out.loss))
