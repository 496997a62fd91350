"""The contract's loss of one micro-batch, on TensorFlow tensors (albert_core.training.objective says why
it is normalised this way): Σ_parts weight × Σ(per-label cross-entropy) / <part>_count, in float32.

Summed over the step's micro-batches and replicas, the gradients of these losses are the full
batch's gradient, whatever the split.
"""

from __future__ import annotations

from typing import Mapping

import tensorflow as tf

from albert_core.training import LOSS_PARTS
from albert_core.training.objective import IGNORE_INDEX


def summed_cross_entropy(logits, labels):
    """Σ of the cross-entropies of the labels that are not IGNORE_INDEX. logits [..., C], labels [...]."""
    logits = tf.cast(logits, tf.float32)
    logits = tf.reshape(logits, [-1, tf.shape(logits)[-1]])
    labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
    keep = tf.not_equal(labels, IGNORE_INDEX)
    per_label = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.where(keep, labels, 0), logits=logits)
    return tf.reduce_sum(tf.where(keep, per_label, 0.0))


def micro_batch_loss(task: str, outputs: Mapping, labels: Mapping, counts: Mapping):
    """This micro-batch's share of the step's loss (a float32 scalar)."""
    total = tf.constant(0.0, tf.float32)
    for part in LOSS_PARTS[task]:
        summed = summed_cross_entropy(outputs[part.logits_key], labels[part.label_key])
        # Every row of the count column holds the step's label count of the part.
        total += part.weight * summed / tf.cast(counts[part.count_key][0], tf.float32)
    return total
