"""The optax chain of albert_flax.training: the schedule equals albert_core's, clipping is global-norm
clipping of the step's gradient, and weight decay touches exactly the parameters the core rule names."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from albert_core.schema import Head
from albert_core.training import TrainingArguments, decays_weight, learning_rate_at
from albert_flax.params import canonical_to_params, initial_state, param_path, param_specs
from albert_flax.training.optimizer import make_optimizer, make_schedule, schedule_count, weight_decay_mask, with_schedule_count

from .training_data import tiny_training_config


@pytest.mark.parametrize("warmup, max_steps", [(0, 10), (3, 10), (10, 10), (4, 7), (1, 1)])
def test_schedule_equals_learning_rate_at(warmup, max_steps):
    schedule = make_schedule(2e-3, warmup, max_steps)
    for step in range(max_steps + 3):
        assert float(schedule(step)) == pytest.approx(learning_rate_at(step, 2e-3, warmup, max_steps), rel=1e-6, abs=1e-12), step


def _leaves_by_name(tree, config, head):
    return {spec.name: _get(tree, param_path(spec, head)) for spec in param_specs(config, head)}


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def test_weight_decay_mask_follows_the_core_rule():
    config = tiny_training_config()
    mask = _leaves_by_name(weight_decay_mask(config, Head.PRETRAINING), config, Head.PRETRAINING)
    assert mask == {name: decays_weight(name) for name in mask}
    assert mask["albert.embeddings.word_embeddings.weight"] and not mask["albert.embeddings.LayerNorm.weight"]
    assert not mask["predictions.bias"] and mask["sop_classifier.classifier.weight"]


@pytest.mark.parametrize("optimizer", ["adamw", "lamb"])
def test_weight_decay_acts_only_where_the_mask_says(optimizer):
    """With a zero gradient, AdamW's update is -lr·wd·p on decayed tensors and 0 elsewhere; LAMB's
    trust ratio ‖p‖ / ‖wd·p‖ rescales that to -lr·p (and leaves non-decayed tensors at 0)."""
    config = tiny_training_config()
    head = Head.SEQUENCE_CLASSIFICATION
    args = TrainingArguments(output_dir="unused", task="classify", optimizer=optimizer, learning_rate=0.1, weight_decay=0.5, max_steps=10)
    tx, _ = make_optimizer(args, config)
    params = canonical_to_params(initial_state(config, head, seed=1), config, head)
    # LayerNorm weights are 1 and biases 0 initially: perturb them so "no decay" is visible.
    params = jax.tree_util.tree_map(lambda p: p + 0.25, params)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    updates, _ = tx.update(zeros, tx.init(params), params)
    updates, params = _leaves_by_name(updates, config, head), _leaves_by_name(params, config, head)
    for name, update in updates.items():
        p = np.asarray(params[name])
        if not decays_weight(name):
            np.testing.assert_array_equal(update, 0, err_msg=name)
        elif optimizer == "adamw":
            np.testing.assert_allclose(update, -0.1 * 0.5 * p, rtol=1e-6, err_msg=name)
        else:
            np.testing.assert_allclose(update, -0.1 * p, rtol=1e-5, err_msg=name)


def test_clipping_scales_the_whole_gradient_to_max_grad_norm():
    """Two AdamW steps (the second update depends on the ratio of the two gradients): with
    max_grad_norm=1, a gradient g1 of global norm 10 acts as g1/10, and g2 of norm 0.5 is left alone."""
    config = tiny_training_config()
    head = Head.SEQUENCE_CLASSIFICATION
    params = canonical_to_params(initial_state(config, head, seed=1), config, head)
    rng = np.random.default_rng(0)

    def random_gradient(norm):
        grads = jax.tree_util.tree_map(lambda p: jnp.asarray(rng.standard_normal(p.shape), jnp.float32), params)
        return jax.tree_util.tree_map(lambda g: g * norm / optax.tree.norm(grads), grads)

    g1, g2 = random_gradient(10.0), random_gradient(0.5)

    def two_updates(max_grad_norm, first, second):
        args = TrainingArguments(output_dir="unused", task="classify", learning_rate=0.1, max_grad_norm=max_grad_norm)
        tx, _ = make_optimizer(args, config)
        state = tx.init(params)
        updates = []
        for grads in (first, second):
            update, state = tx.update(grads, state, params)
            updates.append(update)
        return jax.tree_util.tree_leaves(updates)

    clipped = two_updates(1.0, g1, g2)
    by_hand = two_updates(None, jax.tree_util.tree_map(lambda g: g / 10, g1), g2)
    unclipped = two_updates(None, g1, g2)
    for got, want in zip(clipped, by_hand):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)
    assert max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(clipped, unclipped)) > 1e-3


def test_schedule_count_moves_without_touching_the_moments():
    """A fresh optimizer continuing another backend's run: Adam's count stays 0, the schedule's is the step."""
    config = tiny_training_config()
    args = TrainingArguments(output_dir="unused", task="classify", warmup_steps=2, max_steps=10)
    tx, schedule = make_optimizer(args, config)
    head = Head.SEQUENCE_CLASSIFICATION
    state = with_schedule_count(tx.init(canonical_to_params(initial_state(config, head), config, head)), 6)
    assert int(schedule_count(state)) == 6
    assert float(schedule(schedule_count(state))) == pytest.approx(learning_rate_at(6, 1e-3, 2, 10), rel=1e-6)
    adam = [s for s in state[1] if isinstance(s, optax.ScaleByAdamState)][0]
    assert int(adam.count) == 0
