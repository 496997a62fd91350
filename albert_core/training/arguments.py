"""`TrainingArguments`: every knob of a training run, the same for the three backends.

A run's arguments are saved in each checkpoint (trainer_state.json) so a resumed run can say when
it is asked to continue with different settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import AlbertError

# task name -> the head it trains (albert_core.schema.Head values)
TASKS = {
    "pretrain": "pretraining",
    "classify": "sequence_classification",
    "tag": "token_classification",
    "choice": "multiple_choice",
    "qa": "question_answering",
}
OPTIMIZERS = ("adamw", "lamb")
PRECISIONS = ("fp32", "bf16", "fp16")


class TrainingArgumentError(AlbertError):
    """A training argument out of its range, named."""


@dataclass
class TrainingArguments:
    output_dir: str
    task: str = "pretrain"
    # Optimizer (optax's definitions of adamw and lamb in all three backends; see tests/cross/harness/cases.py).
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    adam_b1: float = 0.9
    adam_b2: float = 0.999
    adam_eps: float = 1e-6
    # Schedule: linear warmup from 0 over `warmup_steps`, then linear decay to 0 at `max_steps`.
    warmup_steps: int = 0
    max_steps: int = 1000
    # Batching: `batch_size` rows per micro-batch (over all replicas), `grad_accum_steps` micro-batches per step.
    batch_size: int = 8
    grad_accum_steps: int = 1
    max_grad_norm: float | None = 1.0  # global-norm clipping of the step's gradient; None = off
    precision: str = "fp32"  # compute dtype; parameters and optimizer state stay float32
    seed: int = 0
    dropout: bool = True  # False switches dropout off (parity runs)
    # Cadence, in optimizer steps.
    log_every: int = 10
    eval_every: int = 200
    save_every: int = 200
    keep_checkpoints: int = 2
    eval_batches: int | None = None  # evaluate on this many eval micro-batches (None = the whole eval set)
    progress: bool = True  # tqdm bar
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific settings (max_seq_length, doc_stride, ...)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise TrainingArgumentError(f"task must be one of {sorted(TASKS)}, got {self.task!r}")
        if self.optimizer not in OPTIMIZERS:
            raise TrainingArgumentError(f"optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.precision not in PRECISIONS:
            raise TrainingArgumentError(f"precision must be one of {list(PRECISIONS)}, got {self.precision!r}")
        for name in ("max_steps", "batch_size", "grad_accum_steps", "log_every", "eval_every", "save_every", "keep_checkpoints"):
            if int(getattr(self, name)) < 1:
                raise TrainingArgumentError(f"{name} must be ≥ 1, got {getattr(self, name)!r}")
        if not 0 <= self.warmup_steps <= self.max_steps:
            raise TrainingArgumentError(f"warmup_steps must be in [0, max_steps={self.max_steps}], got {self.warmup_steps}")
        if self.learning_rate <= 0:
            raise TrainingArgumentError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise TrainingArgumentError(f"max_grad_norm must be > 0 or None, got {self.max_grad_norm}")

    @property
    def head(self) -> str:
        return TASKS[self.task]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainingArguments":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TrainingArgumentError(f"unknown training arguments {unknown}")
        return cls(**values)
