"""Periodic evaluation of the torch loop, with dropout off and no gradients: the loss over the eval
set as the training loss defines it (Σ_parts weight × mean per-label cross-entropy), and the task's
metrics from albert_core.data.metrics.Evaluator (MLM / SOP accuracy, accuracy, entity F1, SQuAD EM / F1)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Callable, ContextManager

import torch

from albert_core.training import LOSS_PARTS, EvalLoss, make_evaluator, model_inputs_and_labels

from ..weights import tensor_to_numpy
from .objective import cross_entropy_sum
from .tensors import to_device


def numpy_outputs(outputs) -> dict:
    """The model's output tensors as numpy, by field name (the loss left out: the loop computes its own)."""
    return {
        field.name: tensor_to_numpy(value)
        for field in dataclasses.fields(outputs)
        if field.name != "loss" and isinstance(value := getattr(outputs, field.name), torch.Tensor)
    }


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    task: str,
    eval_source,
    max_batches: int | None,
    autocast: Callable[[], ContextManager],
) -> dict[str, float]:
    """{"loss", and the Evaluator's metrics} over the first `max_batches` micro-batches of
    eval_source.eval_batches() (all of them when None)."""
    parts = LOSS_PARTS[task]
    loss = EvalLoss(task)
    evaluator = make_evaluator(task, eval_source, model.config)
    was_training = model.training
    model.eval()
    try:
        for batch in itertools.islice(eval_source.eval_batches(), max_batches):
            inputs, labels, _ = model_inputs_and_labels(task, batch)
            with autocast():
                outputs = model(**to_device(inputs, model.device))
            for part in parts:
                loss.add(part.name, float(cross_entropy_sum(part, outputs, labels)), part.count(labels[part.label_key]))
            if evaluator is not None:
                evaluator.update(batch, numpy_outputs(outputs))
    finally:
        model.train(was_training)
    metrics = evaluator.result() if evaluator is not None else {}
    metrics["loss"] = loss.value()
    return metrics
