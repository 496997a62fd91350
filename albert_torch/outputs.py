"""Named outputs of the models: plain dataclasses with HF's field names.

Each is registered as a pytree node so `torch.export`, `torch.compile` and ONNX export see through
it. `to_tuple()` (and `return_dict=False`) give HF's tuple order: the fields that are not None.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import torch

Tensor = torch.Tensor


class _Output:
    def to_tuple(self) -> tuple:
        return tuple(v for v in (getattr(self, f.name) for f in dataclasses.fields(self)) if v is not None)

    def __getitem__(self, key):
        # HF outputs index like a tuple of the non-None fields, or by field name.
        return getattr(self, key) if isinstance(key, str) else self.to_tuple()[key]


@dataclass
class AlbertModelOutput(_Output):
    last_hidden_state: Tensor = None
    pooler_output: Optional[Tensor] = None
    hidden_states: Optional[tuple[Tensor, ...]] = None
    attentions: Optional[tuple[Tensor, ...]] = None


@dataclass
class AlbertForPreTrainingOutput(_Output):
    loss: Optional[Tensor] = None
    prediction_logits: Tensor = None
    sop_logits: Tensor = None
    hidden_states: Optional[tuple[Tensor, ...]] = None
    attentions: Optional[tuple[Tensor, ...]] = None


@dataclass
class AlbertClassifierOutput(_Output):
    """Masked LM, sequence / token classification and multiple choice: a loss and `logits`."""

    loss: Optional[Tensor] = None
    logits: Tensor = None
    hidden_states: Optional[tuple[Tensor, ...]] = None
    attentions: Optional[tuple[Tensor, ...]] = None


@dataclass
class AlbertQuestionAnsweringOutput(_Output):
    loss: Optional[Tensor] = None
    start_logits: Tensor = None
    end_logits: Tensor = None
    hidden_states: Optional[tuple[Tensor, ...]] = None
    attentions: Optional[tuple[Tensor, ...]] = None


for _cls in (AlbertModelOutput, AlbertForPreTrainingOutput, AlbertClassifierOutput, AlbertQuestionAnsweringOutput):
    torch.export.register_dataclass(_cls, serialized_type_name=f"albert_torch.outputs.{_cls.__name__}")
