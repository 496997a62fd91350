"""What "the same numbers" means, as code: DESIGN.md section 5's tolerances, the inputs every
backend runs, and the comparison of two backends' outputs.

`albert verify` and the cross-framework test harness (tests/cross/harness) both judge by this one
module, so a tolerance changes in one place. numpy only: no framework is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from ..config import AlbertConfig
from ..schema import Head

# fp32, same weights and inputs, any two backends (DESIGN.md section 5).
OUTPUT_ATOL = 1e-5  # max |Δ| on hidden states, attentions, pooled output and logits
LOSS_RTOL = 1e-5  # |Δ loss| <= LOSS_RTOL × |loss|
GRAD_RTOL = 1e-4  # max |Δ grad| <= GRAD_RTOL × max(the tensor's max |grad|, the model's max |grad|)
STEP_LR_FRACTION = 1e-2  # after one optimizer step: max |Δ param| <= STEP_LR_FRACTION × lr ...
STEP_GRAD_FLOOR = 1e-3  # ... on elements whose |grad| > STEP_GRAD_FLOOR × the tensor's max |grad|

IGNORE_INDEX = -100  # label value that contributes no loss (MLM, token classification)

# Output fields every backend names alike (DESIGN.md section 3), in display order.
TENSOR_FIELDS = (
    "last_hidden_state",
    "pooler_output",
    "logits",
    "prediction_logits",
    "sop_logits",
    "start_logits",
    "end_logits",
)
SEQUENCE_FIELDS = ("hidden_states", "attentions")  # tuples, flattened to "hidden_states[i]"
LOSS = "loss"


def make_inputs(
    config: AlbertConfig, head: Head | str, batch: int = 2, seq_len: int = 16, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(inputs, labels) as int64 numpy arrays under HF's argument names, the same for every backend.

    Row 1 is padded (its last quarter: pad ids, attention_mask 0) and the second half of every row
    is segment 1, so padding and token_type_ids are exercised; labels give every head a loss.
    Multiple choice gets two choices per row: [batch, 2, seq_len].
    """
    head = Head(head)
    if seq_len > config.max_position_embeddings:
        raise ValueError(f"seq_len {seq_len} exceeds max_position_embeddings {config.max_position_embeddings}")
    rng = np.random.default_rng(seed)
    low = min(5, config.vocab_size - 1)  # skip the special ids of ALBERT's vocabulary when there is room
    ids = rng.integers(low, config.vocab_size, (batch, seq_len))
    mask = np.ones((batch, seq_len), np.int64)
    pad = seq_len // 4
    if batch > 1 and pad:
        mask[1, seq_len - pad :] = 0
        ids[1, seq_len - pad :] = config.pad_token_id if config.pad_token_id is not None else 0
    types = np.zeros((batch, seq_len), np.int64)
    if config.type_vocab_size > 1:
        types[:, seq_len // 2 :] = 1
    inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    labels: dict[str, np.ndarray] = {}
    if head in (Head.PRETRAINING, Head.MASKED_LM):
        mlm = np.full((batch, seq_len), IGNORE_INDEX)
        mlm[:, 1::3] = ids[:, 1::3]
        mlm[mask == 0] = IGNORE_INDEX
        labels["labels"] = mlm
        if head is Head.PRETRAINING:
            labels["sentence_order_label"] = np.arange(batch) % 2
    elif head is Head.SEQUENCE_CLASSIFICATION:
        if config.num_labels == 1 or config.problem_type == "regression":
            labels["labels"] = rng.normal(size=(batch,) if config.num_labels == 1 else (batch, config.num_labels)).astype(np.float32)
        elif config.problem_type == "multi_label_classification":
            labels["labels"] = (rng.random((batch, config.num_labels)) > 0.5).astype(np.float32)
        else:
            labels["labels"] = np.arange(batch) % config.num_labels
    elif head is Head.TOKEN_CLASSIFICATION:
        tags = rng.integers(0, config.num_labels, (batch, seq_len))
        tags[mask == 0] = IGNORE_INDEX
        labels["labels"] = tags
    elif head is Head.QUESTION_ANSWERING:
        labels["start_positions"] = np.minimum(np.arange(batch) + 1, seq_len - 1)
        labels["end_positions"] = np.minimum(np.arange(batch) + 3, seq_len - 1)
    elif head is Head.MULTIPLE_CHOICE:
        inputs = {k: np.stack([v, np.roll(v, 1, axis=1)], axis=1) for k, v in inputs.items()}
        inputs["input_ids"][:, 1, 0] = low  # the two choices differ even where a row is constant
        labels["labels"] = np.arange(batch) % 2
    return inputs, labels


def named_outputs(get: Callable[[str], Any], to_numpy: Callable[[Any], np.ndarray]) -> dict[str, np.ndarray]:
    """{output name: float32 numpy} of one call's outputs, whatever the framework's container.

    `get(field)` returns a field's value (None when absent), `to_numpy` turns one framework tensor
    into numpy. Tuples become "hidden_states[0]", "hidden_states[1]"...
    """
    out: dict[str, np.ndarray] = {}
    for name in (LOSS, *TENSOR_FIELDS):
        value = get(name)
        if value is not None:
            out[name] = np.asarray(to_numpy(value), np.float32)
    for name in SEQUENCE_FIELDS:
        for i, value in enumerate(get(name) or ()):
            out[f"{name}[{i}]"] = np.asarray(to_numpy(value), np.float32)
    return out


@dataclass(frozen=True)
class Delta:
    """One output of one pair of backends: its max |Δ| against the bound it must meet."""

    output: str
    max_abs: float
    bound: float
    note: str = ""

    @property
    def passed(self) -> bool:
        return not self.note and self.max_abs <= self.bound


def output_bound(name: str, reference: np.ndarray, atol: float = OUTPUT_ATOL, loss_rtol: float = LOSS_RTOL) -> float:
    """The tolerance of one output: relative for the loss, absolute for every tensor."""
    return loss_rtol * float(np.abs(reference)) if name == LOSS else atol


def compare_outputs(
    a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], atol: float = OUTPUT_ATOL, loss_rtol: float = LOSS_RTOL
) -> list[Delta]:
    """Every output of `a` and `b` (named_outputs dicts) with its max |Δ|; `b` is the reference for
    the loss's relative bound. An output only one side has, or of another shape, fails with a note."""
    deltas = []
    for name in list(a) + [n for n in b if n not in a]:
        if name not in a or name not in b:
            deltas.append(Delta(name, float("nan"), 0.0, note=f"only {'first' if name in a else 'second'} has it"))
            continue
        x, y = np.asarray(a[name], np.float64), np.asarray(b[name], np.float64)
        if x.shape != y.shape:
            deltas.append(Delta(name, float("nan"), 0.0, note=f"shapes {list(x.shape)} vs {list(y.shape)}"))
            continue
        diff = np.abs(x - y)
        # NaN anywhere is a failure, never a silent pass of `max <= bound`.
        max_abs = float(diff.max()) if diff.size and np.isfinite(diff).all() else (float("nan") if diff.size else 0.0)
        note = "" if np.isfinite(max_abs) else "NaN or Inf"
        deltas.append(Delta(name, max_abs, output_bound(name, y, atol, loss_rtol), note))
    return deltas
