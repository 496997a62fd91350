"""How a training step's loss is normalised, the same in every backend, every replica layout and
every accumulation setting.

A step's loss is Σ_parts weight × (Σ of the part's per-label cross-entropies) / N_part, where N_part
is the number of labels of that part in the WHOLE step: every micro-batch of the accumulation and
every replica's rows. Each micro-batch carries N_part as a column `<part>_count` (shape [rows], the
same value in every row, so it shards with the rows). A backend computes, for each micro-batch on
each replica, Σ weight × sum(CE) / count and sums the gradients over micro-batches and replicas
(multiplying by the replica count where its engine averages, e.g. DDP, or by the accumulation count
where its optimizer averages, e.g. Keras): the result is the full batch's gradient, whatever the
split. With one micro-batch and one replica this is HF's loss (mean MLM CE + mean SOP CE, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

IGNORE_INDEX = -100
COUNT_SUFFIX = "_count"
META_PREFIX = "meta_"
MODEL_INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class LossPart:
    name: str  # "mlm", "sop", ...; the count column is f"{name}_count"
    label_key: str  # the batch key holding its labels
    per_token: bool  # labels per position ([B, S], -100 = none) or per example ([B])
    weight: float = 1.0
    logits_key: str = "logits"  # the model output it is the cross-entropy of

    @property
    def count_key(self) -> str:
        return self.name + COUNT_SUFFIX

    def count(self, labels: np.ndarray) -> int:
        """How many labels of this part a micro-batch holds."""
        return int(np.sum(labels != IGNORE_INDEX)) if self.per_token else int(labels.shape[0])


LOSS_PARTS: dict[str, tuple[LossPart, ...]] = {
    "pretrain": (
        LossPart("mlm", "labels", per_token=True, logits_key="prediction_logits"),
        LossPart("sop", "sentence_order_label", per_token=False, logits_key="sop_logits"),
    ),
    "mlm": (LossPart("mlm", "labels", per_token=True),),  # AlbertForMaskedLM alone (its `logits`)
    "classify": (LossPart("cls", "labels", per_token=False),),
    "tag": (LossPart("tag", "labels", per_token=True),),
    "choice": (LossPart("choice", "labels", per_token=False),),
    # HF: (start CE + end CE) / 2. Positions always lie in the window (0 = [CLS] when the answer is not there).
    "qa": (
        LossPart("start", "start_positions", per_token=False, weight=0.5, logits_key="start_logits"),
        LossPart("end", "end_positions", per_token=False, weight=0.5, logits_key="end_logits"),
    ),
}


def decays_weight(canonical_name: str) -> bool:
    """Weight decay applies to matrices and embeddings, not to biases or LayerNorm parameters (BERT's
    and HF's examples' rule); every backend decides by the parameter's canonical name."""
    return not (canonical_name.endswith("bias") or "LayerNorm" in canonical_name)


def add_loss_counts(task: str, micro_batches: Sequence[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """The step's micro-batches, each with a `<part>_count` column: the part's label count over the whole step."""
    parts = LOSS_PARTS[task]
    totals = {part.name: sum(part.count(batch[part.label_key]) for batch in micro_batches) for part in parts}
    out = []
    for batch in micro_batches:
        rows = batch["input_ids"].shape[0]
        counts = {part.count_key: np.full([rows], max(totals[part.name], 1), np.float32) for part in parts}
        out.append({**batch, **counts})
    return out


def model_inputs_and_labels(task: str, batch: Mapping[str, np.ndarray]) -> tuple[dict, dict, dict]:
    """Split a micro-batch into (model inputs, labels, loss counts); meta_* columns are dropped."""
    parts = LOSS_PARTS[task]
    label_keys = {part.label_key for part in parts}
    count_keys = {part.count_key for part in parts}
    inputs = {k: v for k, v in batch.items() if k in MODEL_INPUT_KEYS}
    labels = {k: v for k, v in batch.items() if k in label_keys}
    counts = {k: v for k, v in batch.items() if k in count_keys}
    return inputs, labels, counts
