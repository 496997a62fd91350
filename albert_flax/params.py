"""The canonical state <-> Flax parameter tree adapter.

The module tree uses HF PyTorch's names, so a canonical name maps to its parameter path by one rule:
split on dots, drop the `albert.` prefix for the bare encoder (AlbertModule is the root there, as
in HF Flax), and rename the leaf by the tensor's kind (Linear `weight` -> `kernel`, stored [in, out]
as the schema's kernel layout says; embedding `weight` -> `embedding`; LayerNorm `weight` -> `scale`).
Tied tensors (the MLM decoder) are not parameters: they are read from the tensor they are tied to.
"""

from __future__ import annotations

from typing import Mapping

import jax.numpy as jnp
import numpy as np

from albert_core.checkpoint.state import initial_value
from albert_core.config import AlbertConfig
from albert_core.errors import CheckpointError
from albert_core.schema import (
    BASE_PREFIX,
    Head,
    Kind,
    Style,
    TensorSpec,
    from_kernel_layout,
    leaf_name,
    tensor_specs,
    to_kernel_layout,
)


def param_path(spec: TensorSpec, head: Head | str) -> tuple[str, ...]:
    """Where the canonical tensor `spec` lives in the parameter tree of `head`'s module."""
    name = spec.name
    if Head(head) is Head.BASE:
        name = name[len(BASE_PREFIX):]
    return tuple(name.split(".")[:-1]) + (leaf_name(spec, Style.FLAX),)


def param_specs(config: AlbertConfig, head: Head | str) -> list[TensorSpec]:
    """The tensors that are parameters of `head`'s module (tied copies excluded)."""
    return [spec for spec in tensor_specs(config, head) if spec.tied_to is None]


def param_shapes(config: AlbertConfig, head: Head | str) -> dict[tuple[str, ...], tuple[int, ...]]:
    """{parameter path: shape} of `head`'s module, from the schema (no tracing)."""
    shapes = {}
    for spec in param_specs(config, head):
        shape = spec.shape[::-1] if spec.kind is Kind.LINEAR_WEIGHT else spec.shape
        shapes[param_path(spec, head)] = tuple(shape)
    return shapes


def initial_state(config: AlbertConfig, head: Head | str, seed: int = 0) -> dict[str, np.ndarray]:
    """Every parameter of `head` with HF's initialisation, drawn with numpy (no XLA compile).

    The linen modules' own initializers draw the same distributions from JAX keys (`module.init`).
    """
    rng = np.random.default_rng(seed)
    return {spec.name: initial_value(spec, config, rng) for spec in param_specs(config, head)}


def _get(tree: Mapping, path: tuple[str, ...]):
    for key in path:
        tree = tree[key]
    return tree


def canonical_to_params(state: Mapping[str, np.ndarray], config: AlbertConfig, head: Head | str, dtype=jnp.float32) -> dict:
    """The parameter tree of `head`'s module from a canonical state (every parameter must be there)."""
    params: dict = {}
    missing = []
    for spec in param_specs(config, head):
        if spec.name not in state:
            missing.append(spec.name)
            continue
        array = np.asarray(state[spec.name])
        if tuple(array.shape) != spec.shape:
            raise CheckpointError(f"tensor {spec.name} has shape {list(array.shape)}, expected {list(spec.shape)}")
        node = params
        path = param_path(spec, head)
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = jnp.asarray(to_kernel_layout(spec, array), dtype=dtype)
    if missing:
        raise CheckpointError(f"the state lacks {len(missing)} tensor(s) of the {Head(head).value} model: {', '.join(missing)}")
    return params


def params_to_canonical(params: Mapping, config: AlbertConfig, head: Head | str) -> dict[str, np.ndarray]:
    """The canonical state (every tensor of the schema, tied ones included) of a parameter tree."""
    specs = tensor_specs(config, head)
    state = {}
    for spec in specs:
        if spec.tied_to is None:
            state[spec.name] = np.asarray(from_kernel_layout(spec, np.asarray(_get(params, param_path(spec, head)))))
    for spec in specs:
        if spec.tied_to is not None:
            state[spec.name] = state[spec.tied_to]
    return state
