"""The shared layers run under nn.scan: program size independent of depth, remat and unroll exact."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import albert_flax
from albert_flax.modeling import group_steps

from .helpers import tiny_config, token_ids


def lowered_size(config) -> int:
    model = albert_flax.AlbertModel(config, _do_init=False)
    shapes = jax.eval_shape(model.init_weights, jax.random.key(0))
    ids = jax.ShapeDtypeStruct((2, 16), jnp.int32)
    return len(jax.jit(model.apply).lower(shapes, ids).as_text())


def test_program_size_does_not_grow_with_depth():
    # HF's Flax ALBERT unrolls its layers: its program grows linearly with num_hidden_layers.
    shallow = lowered_size(tiny_config(num_hidden_layers=12, num_hidden_groups=1, inner_group_num=1))
    deep = lowered_size(tiny_config(num_hidden_layers=48, num_hidden_groups=1, inner_group_num=1))
    assert abs(deep - shallow) <= 0.01 * shallow, (shallow, deep)


@pytest.mark.parametrize("layers, groups", [(12, 1), (5, 2), (4, 4), (12, 5), (7, 3)])
def test_group_steps_follow_hf_schedule(layers, groups):
    config = tiny_config(num_hidden_layers=layers, num_hidden_groups=groups)
    schedule = [g for g, (first, count) in enumerate(group_steps(config)) for _ in range(count)]
    assert schedule == [int(step / (layers / groups)) for step in range(layers)]
    firsts = [first for first, _ in group_steps(config)]
    assert firsts == sorted(firsts) and firsts[0] == 0


def test_remat_gives_the_same_loss_and_gradients():
    config = tiny_config(num_hidden_layers=2, num_hidden_groups=1, inner_group_num=1)
    ids, mask = token_ids(config)
    results = []
    for remat in (False, True):
        model = albert_flax.AlbertModel(config, seed=3, remat=remat)

        def loss(params):
            out = model.apply(params, input_ids=ids, attention_mask=mask)
            return (out.last_hidden_state**2).mean() + out.pooler_output.sum()

        results.append(jax.jit(jax.value_and_grad(loss))(model.params))
    (loss_a, grads_a), (loss_b, grads_b) = results
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(grads_a), jax.tree_util.tree_leaves(grads_b)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_unrolled_scan_gives_the_same_outputs():
    config = tiny_config(num_hidden_layers=4, num_hidden_groups=1, inner_group_num=1)
    ids, mask = token_ids(config)
    rolled = albert_flax.AlbertModel(config, seed=3)(ids, attention_mask=mask, output_hidden_states=True)
    unrolled = albert_flax.AlbertModel(config, seed=3, scan_unroll=2)(ids, attention_mask=mask, output_hidden_states=True)
    for a, b in zip(jax.tree_util.tree_leaves(rolled), jax.tree_util.tree_leaves(unrolled)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_remat_recomputes_in_the_backward_pass():
    config = tiny_config(num_hidden_layers=2, num_hidden_groups=1, inner_group_num=1)
    ids, mask = token_ids(config)

    def jaxpr_text(remat):
        model = albert_flax.AlbertModel(config, remat=remat, _do_init=False)
        shapes = jax.eval_shape(model.init_weights, jax.random.key(0))
        grad = jax.grad(lambda p: model.apply(p, input_ids=ids, attention_mask=mask).last_hidden_state.sum())
        return str(jax.make_jaxpr(grad)(shapes))

    # The layer stack's remat is the one with prevent_cse=False (on CPU the attention loop's body is
    # checkpointed too, with jax.checkpoint's default prevent_cse=True).
    assert "prevent_cse=False" in jaxpr_text(True) and "prevent_cse=False" not in jaxpr_text(False)
    assert jaxpr_text(True).count("remat") > jaxpr_text(False).count("remat")
