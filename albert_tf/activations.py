"""The hidden activations HF's ACT2FN offers for ALBERT, with the same formulas.

Written out (not keras.activations) so each name means exactly HF's function: "gelu" is the
exact erf GELU, "gelu_new" / "gelu_fast" / "gelu_pytorch_tanh" the tanh approximation, and x³ is
x·x·x because XLA on CPU turns pow(x, 3) into exp/log.
"""

from __future__ import annotations

import math

from keras import ops

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x):
    return 0.5 * x * (1.0 + ops.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + ops.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))))


def gelu_fast(x):
    # HF's FastGELUActivation: the tanh GELU written as x·0.797·(1 + 0.0447·x²).
    return 0.5 * x * (1.0 + ops.tanh(x * _SQRT_2_OVER_PI * (1.0 + 0.044715 * x * x)))


def quick_gelu(x):
    return x * ops.sigmoid(1.702 * x)


def silu(x):
    return x * ops.sigmoid(x)


ACTIVATIONS = {
    "gelu": gelu,
    "gelu_new": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "gelu_fast": gelu_fast,
    "quick_gelu": quick_gelu,
    "relu": ops.relu,
    "silu": silu,
    "swish": silu,
    "tanh": ops.tanh,
    "linear": lambda x: x,
}


def get_activation(name: str):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown hidden_act {name!r}; supported: {', '.join(ACTIVATIONS)}") from None
