"""The Keras optimizers a run trains with: AdamW and LAMB as optax defines them, on albert_core's
learning-rate schedule, with global-norm clipping and weight decay only where albert_core's rule says.

Keras' own optimizers differ from optax's definitions, which every backend is held to
(tests/cross/harness/cases.py OptimizerSpec): keras.optimizers.AdamW adds eps to the uncorrected
sqrt(v) (eps / sqrt(1 - b2^t) in optax's terms, 32× eps at step 1) and keras.optimizers.Lamb
decays weights outside the trust ratio. `OptaxAdamW` and `OptaxLamb` keep Keras' machinery
(variables, clipping, tf.distribute updates, exclude_from_weight_decay) and replace the update rule.

The training step sums the gradients across replicas itself, before the optimizer sees them (see
`train_step.py`): Keras would clip each replica's share before its own all-reduce, and clipping
must see the full batch's gradient. `make_optimizer` therefore builds optimizers whose all-reduce
is a no-op.
"""

from __future__ import annotations

from typing import Iterable

import keras
from keras import ops

from albert_core.training import TrainingArguments, decays_weight


class LinearWarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """albert_core.training.learning_rate_at as a Keras schedule: HF's linear warmup from 0 over
    `warmup_steps`, then linear decay to 0 at `max_steps`. Keras evaluates it at the optimizer's
    iteration count (0 for the first update). `offset` is added to that count: an optimizer
    restarted mid-run (from another backend's checkpoint) continues the run's schedule."""

    def __init__(self, peak: float, warmup_steps: int, max_steps: int, offset: int = 0):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.max_steps = int(max_steps)
        self.offset = int(offset)

    def __call__(self, step):
        step = ops.cast(step, "float32") + float(self.offset)
        warmup = self.peak * (step / float(max(1, self.warmup_steps)))
        decay = self.peak * ops.maximum(0.0, (self.max_steps - step) / float(max(1, self.max_steps - self.warmup_steps)))
        return ops.where(step < self.warmup_steps, warmup, decay)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "max_steps": self.max_steps, "offset": self.offset}


def _adam_moments(optimizer, gradient, variable):
    """Update Adam's moments of `variable`; return their bias-corrected values (m̂, v̂)."""
    step = ops.cast(optimizer.iterations + 1, variable.dtype)
    m = optimizer._momentums[optimizer._get_variable_index(variable)]
    v = optimizer._velocities[optimizer._get_variable_index(variable)]
    optimizer.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - optimizer.beta_1))
    optimizer.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - optimizer.beta_2))
    m_hat = ops.divide(m, 1 - ops.power(ops.cast(optimizer.beta_1, variable.dtype), step))
    v_hat = ops.divide(v, 1 - ops.power(ops.cast(optimizer.beta_2, variable.dtype), step))
    return m_hat, v_hat


class OptaxAdamW(keras.optimizers.AdamW):
    """keras.optimizers.AdamW with optax.adamw's epsilon: m̂ / (sqrt(v̂) + eps). Weight decay stays
    the base class's (p -= lr × decay × p before the update, on the variables not excluded with
    `exclude_from_weight_decay`), which is optax's."""

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m_hat, v_hat = _adam_moments(self, gradient, variable)
        self.assign_sub(variable, lr * m_hat / (ops.sqrt(v_hat) + self.epsilon))


class OptaxLamb(keras.optimizers.Lamb):
    """keras.optimizers.Lamb with optax.lamb's weight decay: u = m̂ / (sqrt(v̂) + eps) + decay × p,
    then p <- p - lr × (||p|| / ||u||) × u (ratio 1 where a norm is 0). The base class's
    weight_decay stays None (off); variables excluded with `exclude_from_weight_decay` get u
    without the decay term, as optax's mask does."""

    def __init__(self, learning_rate, beta_1, beta_2, epsilon, decay, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, **kwargs)
        self.decay = decay

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m_hat, v_hat = _adam_moments(self, gradient, variable)
        update = m_hat / (ops.sqrt(v_hat) + self.epsilon)
        if self.decay and self._use_weight_decay(variable):
            update = update + self.decay * variable
        p_norm, u_norm = ops.sqrt(ops.sum(ops.square(variable))), ops.sqrt(ops.sum(ops.square(update)))
        ratio = ops.where(ops.logical_and(p_norm > 0, u_norm > 0), p_norm / u_norm, 1.0)
        self.assign_sub(variable, ratio * lr * update)

    def get_config(self):
        return {**super().get_config(), "decay": self.decay}


class _GradientsSummedByStep:
    """Skip Keras' cross-replica gradient sum: the training step has already summed the gradients
    over replicas (so that clipping and the logged norm see the full batch's gradient)."""

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return list(grads_and_vars)


class LoopAdamW(_GradientsSummedByStep, OptaxAdamW):
    pass


class LoopLamb(_GradientsSummedByStep, OptaxLamb):
    pass


def make_optimizer(args: TrainingArguments, canonical_variables: dict, schedule_offset: int = 0) -> keras.optimizers.Optimizer:
    """The optimizer of a run: `canonical_variables` ({canonical name: variable}) says which
    variables are excluded from weight decay (albert_core.training.decays_weight). fp16 wraps it
    in Keras' LossScaleOptimizer (dynamic loss scaling); bf16 and fp32 need none."""
    schedule = LinearWarmupDecay(args.learning_rate, args.warmup_steps, args.max_steps, offset=schedule_offset)
    common = dict(learning_rate=schedule, beta_1=args.adam_b1, beta_2=args.adam_b2, epsilon=args.adam_eps, global_clipnorm=args.max_grad_norm)
    if args.optimizer == "adamw":
        optimizer = LoopAdamW(weight_decay=args.weight_decay, name="adamw", **common)
    else:
        optimizer = LoopLamb(decay=args.weight_decay, name="lamb", **common)
    optimizer.exclude_from_weight_decay(var_list=list(_not_decayed(canonical_variables)))
    if args.precision == "fp16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name="loss_scale")
    return optimizer


def _not_decayed(canonical_variables: dict) -> Iterable:
    return (variable for name, variable in canonical_variables.items() if not decays_weight(name))


def inner_optimizer(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """The optimizer that owns the update rule and the schedule (under a LossScaleOptimizer, its inner one)."""
    return getattr(optimizer, "inner_optimizer", optimizer)
