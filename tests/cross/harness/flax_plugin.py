"""The albert_flax plug-in: one jitted jax.value_and_grad over `model.apply`, optax optimizers.

The outputs (hidden states and attentions included) come out of the same traced call as the loss
and its gradient (one compile per case: Flax has one attention path). Parameters and gradients
cross to canonical names through albert_flax.params (the schema's layout rules). AdamW and LAMB
are optax.adamw and optax.lamb: optax is the definition the other plug-ins follow.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from albert_core.cli.parity import named_outputs
from albert_core.cli.runners import FlaxRunner
from albert_flax.params import canonical_to_params, params_to_canonical

from .cases import OptimizerSpec
from .plugin import Evaluation, check_complete, trained_names


def _device(value: np.ndarray):
    """What albert_flax feeds its modules: int32 ids and labels, float32 float labels."""
    value = np.asarray(value)
    return jnp.asarray(value, jnp.int32 if np.issubdtype(value.dtype, np.integer) else jnp.float32)


def make_optimizer(spec: OptimizerSpec) -> optax.GradientTransformation:
    kwargs = dict(b1=spec.b1, b2=spec.b2, eps=spec.eps, weight_decay=spec.weight_decay)
    if spec.name == "adamw":
        return optax.adamw(spec.learning_rate, **kwargs)
    if spec.name == "lamb":
        return optax.lamb(spec.learning_rate, **kwargs)
    raise ValueError(spec.name)


@functools.lru_cache(maxsize=None)
def leaf_step(spec: OptimizerSpec):
    """One optimizer step on one parameter, jitted. Both optimizers act tensor by tensor (LAMB's
    trust ratio is per tensor), so the tree is stepped leaf by leaf: one compile per leaf shape,
    shared by every case of a config, instead of one per parameter tree."""
    tx = make_optimizer(spec)

    @jax.jit
    def step(param, grad):
        updates, _ = tx.update(grad, tx.init(param), param)
        return optax.apply_updates(param, updates)

    return step


class FlaxPlugin(FlaxRunner):
    def evaluate(self, model, inputs, labels):
        batch = {k: _device(v) for k, v in {**inputs, **labels}.items()}

        def objective(params):
            out = model.apply(params, **batch, output_hidden_states=True, output_attentions=True)
            loss = out.loss if labels else jnp.mean(out.last_hidden_state**2) + jnp.sum(out.pooler_output)
            return loss, out

        (_, out), grads = jax.jit(jax.value_and_grad(objective, has_aux=True))(model.params)
        canonical = params_to_canonical(grads, model.config, model.head)
        outputs = named_outputs(lambda f: getattr(out, f, None), self.to_numpy)
        return Evaluation(outputs, check_complete(self.name, _untied(canonical, model), model.config, model.head, "gradients"))

    def step(self, model, grads, spec: OptimizerSpec):
        grad_tree = canonical_to_params(grads, model.config, model.head)
        new_params = jax.tree_util.tree_map(leaf_step(spec), model.params, grad_tree)
        new = params_to_canonical(new_params, model.config, model.head)
        return check_complete(self.name, _untied(new, model), model.config, model.head, "stepped parameters")

    def forward_bf16(self, config, head, state, inputs, labels):
        """Flax's mixed precision: dtype=bfloat16 (bf16 compute), float32 parameters."""
        return self.forward(self.load(config, head, state, dtype=jnp.bfloat16), inputs, labels)


def _untied(state: dict, model) -> dict:
    """params_to_canonical repeats tied tensors under their tied names; a gradient is reported once."""
    keep = set(trained_names(model.config, model.head))
    return {k: v for k, v in state.items() if k in keep}
