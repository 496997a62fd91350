"""The activations AlbertConfig.hidden_act names (HF's ACT2FN names), as jax functions.

The tanh-approximated GELU has four HF names (gelu_new, gelu_fast, gelu_pytorch_tanh differ only
in how PyTorch evaluates the same formula); "gelu" is the exact erf GELU.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from albert_core.errors import ConfigError


def _gelu_tanh(x):
    return jax.nn.gelu(x, approximate=True)


def _gelu_exact(x):
    return jax.nn.gelu(x, approximate=False)


def _quick_gelu(x):
    return x * jax.nn.sigmoid(1.702 * x)


def _linear(x):
    return x


ACT2FN = {
    "gelu": _gelu_exact,
    "gelu_new": _gelu_tanh,
    "gelu_fast": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "quick_gelu": _quick_gelu,
    "relu": jax.nn.relu,
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "tanh": jnp.tanh,
    "linear": _linear,
}


def activation(name: str):
    """The jax function for `name`, or ConfigError listing the names supported."""
    try:
        return ACT2FN[name]
    except KeyError:
        raise ConfigError(f"unknown hidden_act {name!r}; supported: {', '.join(ACT2FN)}") from None
