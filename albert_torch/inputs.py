"""Torch glue for the shared input checks in albert_core.inputs.

The checks run on host numpy views of the integer inputs (free on CPU; one small copy on an
accelerator, cheaper than a device-side assert that kills the CUDA context). Under torch.compile /
torch.export they are skipped: there the values are symbolic and shapes are checked by the tracer.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from albert_core.config import AlbertConfig
from albert_core.inputs import InputError, check_labels, check_model_inputs

__all__ = ["InputError", "is_tracing", "host", "validate_inputs", "validate_labels", "attention_bias", "expand_head_mask"]


def is_tracing() -> bool:
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


def host(x) -> Optional[np.ndarray]:
    """A numpy view (CPU) or copy (accelerator) of an integer tensor; floats keep their tensor form.

    Float tensors (inputs_embeds, masks) are only shape-checked, so they are not copied.
    """
    if x is None or not isinstance(x, torch.Tensor):
        return x
    if x.is_floating_point() or x.dtype == torch.bool:
        return x
    return x.detach().cpu().numpy()


def validate_inputs(config: AlbertConfig, multiple_choice: bool = False, **inputs) -> None:
    if is_tracing():
        return
    views = {name: host(value) for name, value in inputs.items()}
    ids = inputs.get("input_ids")
    if isinstance(ids, torch.Tensor) and (ids.is_floating_point() or ids.dtype == torch.bool):
        views["input_ids"] = ids.detach().cpu().numpy()  # so the shared check names the wrong dtype
    check_model_inputs(config, **views, multiple_choice=multiple_choice)


def validate_labels(task: str, labels, config: AlbertConfig, input_shape, num_choices: int = 0) -> None:
    if labels is None or is_tracing():
        return
    values = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    check_labels(task, values, config, tuple(input_shape), num_choices=num_choices)


def attention_bias(attention_mask: Optional[torch.Tensor], dtype: torch.dtype) -> Optional[torch.Tensor]:
    """[batch, seq] 1/0 mask → additive [batch, 1, 1, seq] bias (0 or the dtype's lowest), as HF eager.

    A mask of all ones is dropped (None) outside tracing, so SDPA may take its unmasked fast path.
    The lowest finite value rather than -inf keeps a fully padded row finite (uniform), as HF.
    """
    if attention_mask is None:
        return None
    if not is_tracing() and bool(attention_mask.all()):
        return None
    mask = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - mask) * torch.finfo(dtype).min


def expand_head_mask(head_mask, num_layers: int, like: torch.Tensor) -> Optional[torch.Tensor]:
    """[heads] or [num_hidden_layers, heads] (tensor, array or list) → a [num_hidden_layers, heads]
    tensor of `like`'s dtype and device (row l for step l)."""
    if head_mask is None:
        return None
    head_mask = torch.as_tensor(head_mask).to(device=like.device, dtype=like.dtype)
    if head_mask.dim() == 1:
        head_mask = head_mask.expand(num_layers, -1)
    return head_mask
