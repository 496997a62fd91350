"""The optax chain a run trains with: global-norm clipping, then AdamW or LAMB on the HF schedule,
with weight decay only where albert_core's rule says (by canonical name).

    clip_by_global_norm(max_grad_norm)  ->  optax.adamw | optax.lamb (learning_rate=schedule, mask=...)

The schedule is optax's own object (two linear pieces joined at the end of warmup) and equals
albert_core.training.learning_rate_at at every step; optax evaluates it at the optimizer's update
count, so the first update uses step 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from albert_core.config import AlbertConfig
from albert_core.schema import Head
from albert_core.training import TrainingArguments, decays_weight

from ..params import param_path, param_specs


def make_schedule(peak: float, warmup_steps: int, max_steps: int) -> optax.Schedule:
    """HF's linear warmup then linear decay to 0 at max_steps, as an optax schedule."""
    decay_steps = max_steps - warmup_steps
    # learning_rate_at divides by max(1, decay_steps): with no decay phase the rate after warmup is 0.
    decay = optax.linear_schedule(peak if decay_steps > 0 else 0.0, 0.0, max(1, decay_steps))
    if warmup_steps == 0:
        return decay
    warmup = optax.linear_schedule(0.0, peak, warmup_steps)
    return optax.join_schedules([warmup, decay], [warmup_steps])


def weight_decay_mask(config: AlbertConfig, head: Head | str) -> dict:
    """A parameter tree of bools: True where decays_weight(canonical name) (matrices, embeddings)."""
    mask: dict = {}
    for spec in param_specs(config, head):
        node = mask
        path = param_path(spec, head)
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = decays_weight(spec.name)
    return mask


def make_optimizer(args: TrainingArguments, config: AlbertConfig) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """(the chain, its schedule) for `args` and the parameter tree of `args.head`."""
    schedule = make_schedule(args.learning_rate, args.warmup_steps, args.max_steps)
    rule = optax.adamw if args.optimizer == "adamw" else optax.lamb
    optimizer = rule(
        schedule,
        b1=args.adam_b1,
        b2=args.adam_b2,
        eps=args.adam_eps,
        weight_decay=args.weight_decay,
        mask=weight_decay_mask(config, args.head),
    )
    clip = optax.identity() if args.max_grad_norm is None else optax.clip_by_global_norm(args.max_grad_norm)
    return optax.chain(clip, optimizer), schedule


def _is_schedule_state(node) -> bool:
    return isinstance(node, optax.ScaleByScheduleState)


def schedule_count(opt_state) -> jax.Array:
    """The update count the schedule is evaluated at (the step whose learning rate comes next)."""
    counts = [n.count for n in jax.tree_util.tree_leaves(opt_state, is_leaf=_is_schedule_state) if _is_schedule_state(n)]
    if len(counts) != 1:
        raise ValueError(f"expected one schedule in the optimizer state, found {len(counts)}")
    return counts[0]


def with_schedule_count(opt_state, count):
    """`opt_state` with the schedule moved to `count` (a fresh optimizer continuing a run's schedule:
    Adam's moments and bias correction start over, the learning rate does not)."""
    return jax.tree_util.tree_map(
        lambda n: n._replace(count=jnp.asarray(count, n.count.dtype)) if _is_schedule_state(n) else n,
        opt_state,
        is_leaf=_is_schedule_state,
    )
