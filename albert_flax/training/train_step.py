"""The compiled pieces of a run: the contract's loss of one micro-batch, the train step and the eval step.

One optimizer step is one call: its micro-batches arrive stacked ([accumulation, rows, ...]), a
`lax.scan` runs forward and backward on each and sums the gradients (each micro-batch's loss is
already divided by the whole step's label counts, see albert_core.training.objective, so the sum is
the full batch's gradient), then the optax chain clips and updates once. The model is traced once
whatever the accumulation count, and donating the state lets XLA update parameters in place.
"""

from __future__ import annotations

from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import optax

from albert_core.training import LOSS_PARTS, model_inputs_and_labels

from ..losses import cross_entropy_sum
from .optimizer import schedule_count
from .state import TrainState


def micro_batch_loss(outputs, batch: Mapping, task: str):
    """Σ_parts weight × Σ(cross-entropy of the part's labels, -100 ignored) / the step's label count."""
    total = jnp.zeros((), jnp.float32)
    for part in LOSS_PARTS[task]:
        summed, _ = cross_entropy_sum(getattr(outputs, part.logits_key), batch[part.label_key])
        # The count column holds the same value in every row; row 0 is as good as any.
        total = total + part.weight * summed / batch[part.count_key][0]
    return total


def make_train_step(model, tx: optax.GradientTransformation, schedule: optax.Schedule, task: str, dropout: bool, seed: int) -> Callable:
    """step(state, stacked micro-batches) -> (new state, {"loss", "learning_rate", "grad_norm"}).

    Dropout key of micro-batch i of step s: fold_in(fold_in(PRNGKey(seed), s), i), so the random
    stream is a function of (seed, step) alone and a resumed run draws exactly the masks the
    uninterrupted run would have.
    """
    base_key = jax.random.PRNGKey(seed)

    def scaled_loss(params, batch, key, scale):
        inputs, _, _ = model_inputs_and_labels(task, batch)
        outputs = model.apply(params, **inputs, dropout_rng=key if dropout else None, train=dropout)
        loss = micro_batch_loss(outputs, batch, task)
        return loss * scale, loss

    def train_step(state: TrainState, batches: Mapping):
        step_key = jax.random.fold_in(base_key, state.step)
        scale = jnp.float32(1.0) if state.loss_scale is None else state.loss_scale.scale

        def accumulate(carry, xs):
            grads, loss = carry
            batch, index = xs
            grad_fn = jax.grad(scaled_loss, has_aux=True)
            micro_grads, micro_loss = grad_fn(state.params, batch, jax.random.fold_in(step_key, index), scale)
            return (jax.tree_util.tree_map(jnp.add, grads, micro_grads), loss + micro_loss), None

        count = jax.tree_util.tree_leaves(batches)[0].shape[0]
        start = (jax.tree_util.tree_map(jnp.zeros_like, state.params), jnp.zeros((), jnp.float32))
        (grads, loss), _ = jax.lax.scan(accumulate, start, (batches, jnp.arange(count)))
        if state.loss_scale is not None:
            grads = jax.tree_util.tree_map(lambda g: g / scale, grads)
        grad_norm = optax.tree.norm(grads)
        learning_rate = schedule(schedule_count(state.opt_state))
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        new = state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates), opt_state=opt_state)
        if state.loss_scale is not None:
            # float16: a step whose gradients overflowed changes nothing but the scale.
            finite = jnp.isfinite(grad_norm)
            keep = lambda after, before: jax.tree_util.tree_map(lambda a, b: jnp.where(finite, a, b), after, before)
            new = new.replace(
                params=keep(new.params, state.params),
                opt_state=keep(new.opt_state, state.opt_state),
                loss_scale=state.loss_scale.adjust(finite),
            )
        return new, {"loss": loss, "learning_rate": learning_rate, "grad_norm": grad_norm}

    return train_step


def make_eval_step(model, task: str) -> Callable:
    """step(params, micro-batch) -> (the task's logits by output name, {part: (Σ cross-entropy, label count)})."""

    def eval_step(params, batch: Mapping):
        inputs, _, _ = model_inputs_and_labels(task, batch)
        outputs = model.apply(params, **inputs)
        logits = {part.logits_key: getattr(outputs, part.logits_key) for part in LOSS_PARTS[task]}
        sums = {part.name: cross_entropy_sum(logits[part.logits_key], batch[part.label_key]) for part in LOSS_PARTS[task]}
        return logits, sums

    return eval_step
