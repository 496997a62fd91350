"""The heads' losses, computed with optax, with PyTorch's (HF's) reductions and conventions.

All losses are float32 means; labels equal to `ignore_index` do not count (a batch where every
label is ignored gives NaN, as torch.nn.CrossEntropyLoss does). Shape and dtype decisions happen
at trace time (they are static under jit), so a wrong label shape fails before anything runs.
"""

from __future__ import annotations

import jax.numpy as jnp
import optax

from albert_core.config import AlbertConfig
from albert_core.inputs import InputError

IGNORE_INDEX = -100


def cross_entropy_sum(logits, labels, ignore_index: int = IGNORE_INDEX):
    """(Σ of the float32 softmax cross-entropies of the labels that are not `ignore_index`, their count)."""
    logits = logits.reshape(-1, logits.shape[-1]).astype(jnp.float32)
    labels = labels.reshape(-1)
    valid = labels != ignore_index
    per_label = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.where(valid, labels, 0))
    return jnp.sum(jnp.where(valid, per_label, 0.0)), jnp.sum(valid)


def cross_entropy(logits, labels, ignore_index: int = IGNORE_INDEX):
    """Mean softmax cross-entropy over the labels that are not `ignore_index` (torch semantics)."""
    total, count = cross_entropy_sum(logits, labels, ignore_index)
    return total / count


def sequence_classification_loss(logits, labels, config: AlbertConfig):
    """HF's choice: regression (MSE), single-label (cross-entropy) or multi-label (BCE) loss.

    config.problem_type decides when set; otherwise num_labels == 1 means regression, integer
    labels single-label and float labels multi-label classification, as HF decides.
    """
    problem = config.problem_type
    if problem is None:
        if config.num_labels == 1:
            problem = "regression"
        elif jnp.issubdtype(labels.dtype, jnp.integer):
            problem = "single_label_classification"
        else:
            problem = "multi_label_classification"
    logits = logits.astype(jnp.float32)
    if problem == "regression":
        labels = labels.astype(jnp.float32)
        if config.num_labels == 1:
            return jnp.mean((logits.reshape(-1) - labels.reshape(-1)) ** 2)
        return jnp.mean((logits - labels) ** 2)
    if problem == "single_label_classification":
        return cross_entropy(logits, labels)
    if labels.shape != logits.shape:
        raise InputError(
            f"float labels select multi-label classification, which needs labels of shape "
            f"{list(logits.shape)} (batch, num_labels); got {list(labels.shape)} (pass integer class ids "
            f"for single-label classification)"
        )
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels.astype(jnp.float32)))


def span_loss(start_logits, end_logits, start_positions, end_positions):
    """Extractive QA loss: mean of start and end cross-entropies, as HF.

    Positions are clamped to [0, seq] and seq is ignored, so a span that truncation cut off (a
    position past the end) adds no loss.
    """
    seq = start_logits.shape[-1]

    def one(logits, positions):
        positions = jnp.clip(positions.reshape(-1), 0, seq)
        return cross_entropy(logits, positions, ignore_index=seq)

    return (one(start_logits, start_positions) + one(end_logits, end_positions)) / 2
