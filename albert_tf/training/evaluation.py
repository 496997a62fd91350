"""Periodic evaluation: the model in inference mode over the eval set, the contract's loss over the
whole set (Σ_parts weight × Σ cross-entropies / label count) and the task's metrics from
albert_core's Evaluator (MLM / SOP accuracy, accuracy, entity F1, SQuAD EM / F1)."""

from __future__ import annotations

import itertools

import numpy as np
import tensorflow as tf

from albert_core.training import LOSS_PARTS, EvalLoss, make_evaluator, model_inputs_and_labels

from .objective import summed_cross_entropy


class Evaluation:
    def __init__(self, model, task: str, eval_source, max_batches: int | None, jit_compile: bool = True):
        self.config = model.config
        self.task = task
        self.source = eval_source
        self.max_batches = max_batches
        # XLA, as for training; eval batches of another shape (the last, shorter one) retrace once.
        self.forward = tf.function(lambda inputs: model(inputs, training=False), jit_compile=jit_compile, reduce_retracing=True)

    def run(self) -> dict[str, float]:
        parts = LOSS_PARTS[self.task]
        loss = EvalLoss(self.task)
        evaluator = make_evaluator(self.task, self.source, self.config)
        for batch in itertools.islice(self.source.eval_batches(), self.max_batches):
            inputs, labels, _ = model_inputs_and_labels(self.task, batch)
            outputs = {k: np.asarray(v) for k, v in self.forward(inputs).items()}
            for part in parts:
                loss.add(part.name, float(summed_cross_entropy(outputs[part.logits_key], labels[part.label_key])), part.count(labels[part.label_key]))
            if evaluator is not None:
                evaluator.update(batch, outputs)
        if not loss.labelled:
            raise ValueError("the eval source yielded no labelled batches")
        metrics = evaluator.result() if evaluator is not None else {}
        metrics["loss"] = loss.value()
        return metrics
