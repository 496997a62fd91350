"""The canonical state ↔ PyTorch parameters adapter.

The modules use Hugging Face's PyTorch names, so a canonical name is a state-dict key with the
model's prefix in front ("albert." for a bare AlbertModel, nothing for a model with a head) and the
layouts are already canonical ([out, in] Linear weights). What is left for this file: the prefix,
numpy ↔ tensor conversion without needless copies, and tied tensors (the schema declares them).
"""

from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
import torch

from albert_core.errors import CheckpointError
from albert_core.schema import tensor_specs


def tensor_from_numpy(array, dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """A torch tensor holding `array` (numpy or torch), converted to dtype/device, writable."""
    if isinstance(array, torch.Tensor):
        return array.to(device=device, dtype=dtype)
    array = np.asarray(array)
    if array.dtype.name == "bfloat16":  # ml_dtypes bfloat16: reinterpret the bits
        tensor = torch.from_numpy(np.ascontiguousarray(array).view(np.uint16)).view(torch.bfloat16)
        return tensor.to(device=device, dtype=dtype, copy=True)
    read_only = not array.flags.writeable  # e.g. a safetensors mmap
    with warnings.catch_warnings():
        # from_numpy on a read-only array warns; we copy it below before anyone can write.
        warnings.simplefilter("ignore", UserWarning)
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor.to(device=device, dtype=dtype, copy=read_only)


def tensor_to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Host numpy copy; bfloat16 (which numpy lacks) is widened losslessly to float32."""
    tensor = tensor.detach()
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.cpu().numpy()


def canonical_state(model) -> dict[str, np.ndarray]:
    """{canonical name: numpy array} for every tensor the schema lists for this model (tied ones too)."""
    own = model.state_dict()
    prefix = model.canonical_prefix
    state = {}
    for spec in tensor_specs(model.config, model.head):
        key = spec.name[len(prefix) :] if spec.name.startswith(prefix) else None
        if key not in own:
            raise AssertionError(f"{type(model).__name__} has no parameter for schema tensor {spec.name}")
        state[spec.name] = tensor_to_numpy(own[key])
    return state


def load_canonical_state(
    model, state: Mapping[str, object], dtype: torch.dtype | None = None, device=None
) -> None:
    """Put a canonical state into `model`'s parameters (replacing them, so meta-device models work).

    A tied tensor may be absent when its target is present. Missing and wrong-shaped tensors are
    reported together, by canonical name, before anything is changed.
    """
    prefix = model.canonical_prefix
    problems = []
    tensors = {}
    for spec in tensor_specs(model.config, model.head):
        value = state.get(spec.name)
        if value is None and spec.tied_to is not None:
            value = state.get(spec.tied_to)
        if value is None:
            problems.append(f"missing {spec.name}")
            continue
        if tuple(value.shape) != spec.shape:
            problems.append(f"{spec.name} has shape {list(value.shape)}, expected {list(spec.shape)}")
            continue
        tensors[spec.name[len(prefix) :]] = value
    if problems:
        raise CheckpointError(f"cannot load state into {type(model).__name__}: " + "; ".join(problems))
    # Convert only after every check passed; float tensors follow `dtype`, the rest keep theirs.
    converted = {}
    for key, value in tensors.items():
        tensor = tensor_from_numpy(value, device=device)
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        converted[key] = tensor
    model.load_state_dict(converted, strict=True, assign=True)
    model.tie_weights()
