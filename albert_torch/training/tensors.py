"""numpy micro-batch columns → torch tensors on the training device."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch


def to_device(columns: Mapping[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    return {key: torch.as_tensor(np.ascontiguousarray(value)).to(device, non_blocking=True) for key, value in columns.items()}
