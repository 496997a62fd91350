"""Periodic evaluation of the torch loop: the loss over an eval set, as the training loss defines it
(Σ_parts weight × mean per-label cross-entropy), with dropout off and no gradients."""

from __future__ import annotations

import itertools
from typing import Callable, ContextManager

import torch

from albert_core.training import LOSS_PARTS, model_inputs_and_labels

from .objective import cross_entropy_sum
from .tensors import to_device


@torch.no_grad()
def evaluate(model: torch.nn.Module, task: str, eval_source, max_batches: int | None, autocast: Callable[[], ContextManager]) -> dict[str, float]:
    """{"loss": ...} over the first `max_batches` micro-batches of eval_source.eval_batches() (all when None)."""
    parts = LOSS_PARTS[task]
    sums = {part.name: 0.0 for part in parts}
    counts = {part.name: 0 for part in parts}
    was_training = model.training
    model.eval()
    try:
        for batch in itertools.islice(eval_source.eval_batches(), max_batches):
            inputs, labels, _ = model_inputs_and_labels(task, batch)
            with autocast():
                outputs = model(**to_device(inputs, model.device))
            for part in parts:
                sums[part.name] += float(cross_entropy_sum(part, outputs, labels))
                counts[part.name] += part.count(labels[part.label_key])
    finally:
        model.train(was_training)
    return {"loss": sum(part.weight * sums[part.name] / max(counts[part.name], 1) for part in parts)}
