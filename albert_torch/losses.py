"""The heads' losses, with HF transformers' semantics (same reductions, same ignore rules)."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from albert_core.config import AlbertConfig
from albert_core.inputs import InputError

IGNORE_INDEX = -100  # label value that contributes no loss (MLM, token classification)


def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the positions whose label is not -100 (MLM, token classification)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), ignore_index=IGNORE_INDEX)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of [batch, classes] logits against [batch] class ids (SOP, multiple choice)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1))


def problem_type(config: AlbertConfig, labels: torch.Tensor) -> str:
    """HF's rule when config.problem_type is unset: 1 label → regression; integer labels → single-label;
    otherwise multi-label. Unlike HF, the config is not modified by the first call."""
    if config.problem_type is not None:
        return config.problem_type
    if config.num_labels == 1:
        return "regression"
    if labels.dtype in (torch.long, torch.int):
        return "single_label_classification"
    return "multi_label_classification"


def sequence_classification_loss(config: AlbertConfig, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    kind = problem_type(config, labels)
    logits = logits.float()
    if kind == "regression":
        labels = labels.to(logits.dtype)
        if config.num_labels == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze())
        return F.mse_loss(logits, labels)
    if kind == "single_label_classification":
        return F.cross_entropy(logits.view(-1, config.num_labels), labels.view(-1))
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


def check_span_positions(name: str, positions: torch.Tensor, batch: int) -> torch.Tensor:
    """[batch] or [batch, 1] positions → [batch]; InputError naming the argument otherwise."""
    if positions.dim() > 1:
        positions = positions.squeeze(-1)
    if tuple(positions.shape) != (batch,):
        raise InputError(f"{name} must have shape [{batch}] (or [{batch}, 1]), got {list(positions.shape)}")
    return positions


def span_loss(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    start_positions: torch.Tensor,
    end_positions: torch.Tensor,
) -> torch.Tensor:
    """Mean of the start and end cross-entropies. Positions outside [0, seq) are clamped to seq and
    then ignored, as HF does (a span truncated out of the window contributes nothing)."""
    batch, seq = start_logits.shape
    start_positions = check_span_positions("start_positions", start_positions, batch).clamp(0, seq)
    end_positions = check_span_positions("end_positions", end_positions, batch).clamp(0, seq)
    start_loss = F.cross_entropy(start_logits.float(), start_positions, ignore_index=seq)
    end_loss = F.cross_entropy(end_logits.float(), end_positions, ignore_index=seq)
    return (start_loss + end_loss) / 2


def pretraining_loss(
    prediction_logits: torch.Tensor,
    sop_logits: torch.Tensor,
    labels: Optional[torch.Tensor],
    sentence_order_label: Optional[torch.Tensor],
) -> Optional[torch.Tensor]:
    """MLM + SOP. HF returns a loss only when both label sets are given; here either part alone
    gives its own loss (the sum of the parts given), which is the same number whenever HF has one."""
    parts = []
    if labels is not None:
        parts.append(token_loss(prediction_logits, labels))
    if sentence_order_label is not None:
        parts.append(classification_loss(sop_logits, sentence_order_label))
    return sum(parts[1:], parts[0]) if parts else None
