"""The tolerance rules of DESIGN.md section 5 for gradients, optimizer steps and bf16, on numpy.

Outputs and losses are compared by albert_core.cli.parity.compare_outputs (the rule `albert
verify` uses); this file adds what only training needs. Every function returns one
parity.Delta per tensor or output (max |Δ|, the bound it must meet), so the tests assert them and
the report script prints them.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from albert_core.cli.parity import GRAD_RTOL, STEP_GRAD_FLOOR, STEP_LR_FRACTION, Delta

from .cases import OptimizerSpec

# bf16 (8 mantissa bits) against the same backend's fp32: max |Δ| <= BF16_RTOL × max |fp32 output|
# (the loss: × |fp32 loss|). Measured worst case over every case (docs/cross-report.md): 0.049 of
# the output's scale (tf, tiny-g2k2 pretraining, an attention map); the bound leaves 2× margin.
BF16_RTOL = 0.1


def _max_abs(x: np.ndarray) -> float:
    return float(np.max(np.abs(x))) if np.size(x) else 0.0


def compare_grads(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> list[Delta]:
    """Per tensor: max |Δ grad| <= GRAD_RTOL × max(the tensor's max |grad|, the model's max |grad|),
    `b` the reference. The model-wide floor is there because some true gradients are exactly 0 (the
    attention key bias: softmax ignores a shift) and come back as rounding noise."""
    model_max = max(_max_abs(g) for g in b.values())
    deltas = []
    for name, ref in b.items():
        bound = GRAD_RTOL * max(_max_abs(ref), model_max)
        diff = np.abs(np.asarray(a[name], np.float64) - np.asarray(ref, np.float64))
        max_abs = _max_abs(diff)
        deltas.append(Delta(name, max_abs, bound, "" if np.isfinite(max_abs) else "NaN or Inf"))
    return deltas


def step_mask(grad: np.ndarray, model_max: float) -> np.ndarray:
    """Elements whose optimizer step is well defined: |grad| > STEP_GRAD_FLOOR × the tensor's max,
    and above the gradient check's own noise floor, GRAD_RTOL × max(the tensor's max, the model's).

    Below the first, Adam's first step m̂ / (sqrt(v̂) + eps) = g / (|g| + eps) is the sign of rounding
    noise (DESIGN.md section 5). Below the second, two backends may differ by as much as the
    gradient itself and still pass the gradient check; and where |g| is near eps (1e-6) the step
    divides that difference by eps: gradients of 3e-7 that differ by 1e-7 (torch's SDPA against HF's
    eager attention, tiny-g2k2 question answering) move the parameter 5e-2 × lr apart.
    """
    tensor_max = _max_abs(grad)
    floor = max(STEP_GRAD_FLOOR * tensor_max, GRAD_RTOL * max(tensor_max, model_max))
    return np.abs(grad) > floor


def compare_steps(
    a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], spec: OptimizerSpec
) -> list[Delta]:
    """Parameters after one step: max |Δ| <= STEP_LR_FRACTION × lr on the elements `step_mask` keeps
    (`grads`: the reference backend's gradients). The note says how many elements were compared."""
    model_max = max(_max_abs(g) for g in grads.values())
    bound = STEP_LR_FRACTION * spec.learning_rate
    deltas = []
    for name, ref in b.items():
        mask = step_mask(np.asarray(grads[name]), model_max)
        diff = np.abs(np.asarray(a[name], np.float64) - np.asarray(ref, np.float64))[mask]
        max_abs = _max_abs(diff)
        deltas.append(Delta(name, max_abs, bound, "" if np.isfinite(max_abs) else "NaN or Inf"))
    return deltas


def compare_bf16(bf16: Mapping[str, np.ndarray], fp32: Mapping[str, np.ndarray]) -> list[Delta]:
    """A backend's bf16 outputs against its own fp32 ones: max |Δ| <= BF16_RTOL × max |fp32 output|."""
    deltas = []
    for name, ref in fp32.items():
        if name not in bf16:
            deltas.append(Delta(name, float("nan"), 0.0, note="missing from the bf16 outputs"))
            continue
        max_abs = _max_abs(np.asarray(bf16[name], np.float64) - np.asarray(ref, np.float64))
        deltas.append(Delta(name, max_abs, BF16_RTOL * _max_abs(ref), "" if np.isfinite(max_abs) else "NaN or Inf"))
    return deltas
