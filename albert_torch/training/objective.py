"""The training loss in torch, computed from the model's logits as albert_core.training.objective
defines it (per-label cross-entropy sums over the step's label counts), in float32."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from albert_core.inputs import InputError
from albert_core.training import LOSS_PARTS, LossPart
from albert_core.training.objective import IGNORE_INDEX


def check_part_labels(part: LossPart, labels: np.ndarray, logits: torch.Tensor) -> None:
    """Labels of one loss part against the logits they score: InputError naming the batch key."""
    want = tuple(logits.shape[:-1])
    if tuple(labels.shape) != want:
        raise InputError(f"batch[{part.label_key!r}] must have shape {list(want)} for {part.logits_key}, got {list(labels.shape)}")
    kept = labels[labels != IGNORE_INDEX]
    classes = logits.shape[-1]
    if kept.size and (kept.min() < 0 or kept.max() >= classes):
        raise InputError(
            f"batch[{part.label_key!r}] must lie in [0, {classes}) (or be {IGNORE_INDEX}), got [{kept.min()}, {kept.max()}]"
        )


def cross_entropy_sum(part: LossPart, outputs, labels: Mapping[str, np.ndarray]) -> torch.Tensor:
    """Σ of the part's per-label cross-entropies in this micro-batch (labels -100 skipped), float32."""
    logits = getattr(outputs, part.logits_key)
    target = labels[part.label_key]
    check_part_labels(part, target, logits)
    target = torch.as_tensor(target, dtype=torch.long, device=logits.device)
    return F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
    )


def micro_batch_loss(task: str, outputs, labels: Mapping[str, np.ndarray], counts: Mapping[str, np.ndarray]) -> torch.Tensor:
    """Σ_parts weight × Σ CE / (the part's label count over the whole step): summed over the step's
    micro-batches (and replicas) this is the step's loss, and its gradient the full batch's."""
    total = None
    for part in LOSS_PARTS[task]:
        term = part.weight * cross_entropy_sum(part, outputs, labels) / float(counts[part.count_key][0])
        total = term if total is None else total + term
    return total
