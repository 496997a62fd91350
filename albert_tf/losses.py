"""HF's losses for each head, in float32 whatever the compute dtype (mixed precision stays stable).

Each function takes logits and labels as tensors and returns a scalar mean, with PyTorch's
conventions: cross-entropy ignores label -100 and averages over the rest (a batch where every
label is ignored gives NaN, as torch.nn.CrossEntropyLoss does, and as albert_torch / albert_flax);
QA clamps positions to [0, seq] and ignores `seq`; sequence classification picks MSE /
cross-entropy / BCE by problem type.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops

IGNORE_INDEX = -100


def cross_entropy(logits, labels, ignore_index: int = IGNORE_INDEX):
    """Mean cross-entropy over the labels that are not ignore_index. logits [..., C], labels [...]."""
    logits = ops.cast(logits, "float32")
    labels = ops.cast(labels, "int32")
    num_classes = ops.shape(logits)[-1]
    logits = ops.reshape(logits, (-1, num_classes))
    labels = ops.reshape(labels, (-1,))
    keep = ops.not_equal(labels, ignore_index)
    safe_labels = ops.where(keep, labels, 0)
    per_item = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe_labels, logits=logits)
    weights = ops.cast(keep, "float32")
    return ops.sum(per_item * weights) / ops.sum(weights)


def mse(predictions, targets):
    predictions = ops.cast(predictions, "float32")
    return ops.mean(ops.square(predictions - ops.cast(targets, "float32")))


def binary_cross_entropy(logits, targets):
    logits = ops.cast(logits, "float32")
    return ops.mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=ops.cast(targets, "float32"), logits=logits))


def sequence_classification_loss(logits, labels, problem_type: str | None, num_labels: int):
    """HF's rule: problem_type if set, else regression for 1 label, CE for int labels, else BCE."""
    if problem_type is None:
        if num_labels == 1:
            problem_type = "regression"
        elif labels.dtype.is_integer:
            problem_type = "single_label_classification"
        else:
            problem_type = "multi_label_classification"
    if problem_type == "regression":
        if num_labels == 1:
            return mse(ops.reshape(logits, (-1,)), ops.reshape(labels, (-1,)))
        return mse(logits, labels)
    if problem_type == "single_label_classification":
        return cross_entropy(logits, labels)
    return binary_cross_entropy(logits, labels)


def span_loss(start_logits, end_logits, start_positions, end_positions):
    """Extractive QA: mean of start and end cross-entropies; positions outside [0, seq) are ignored."""
    seq = ops.shape(start_logits)[-1]

    def one(logits, positions):
        positions = ops.reshape(ops.cast(positions, "int32"), (-1,))
        positions = ops.clip(positions, 0, seq)
        return cross_entropy(logits, positions, ignore_index=seq)

    return (one(start_logits, start_positions) + one(end_logits, end_positions)) / 2.0
