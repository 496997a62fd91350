"""Model outputs: pytree dataclasses with the class and field names every albert backend uses.

They are JAX pytrees (flax.struct.dataclass), so they pass through jit, grad and tree_map; fields a
call did not ask for are None. `out.logits`, `out["logits"]`, `out[0]` and `out.to_tuple()` (the
non-None fields in order, as HF's ModelOutput) all work.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import flax.struct
import jax

Array = jax.Array


class _Output:
    def to_tuple(self) -> tuple:
        return tuple(v for v in (getattr(self, f.name) for f in dataclasses.fields(self)) if v is not None)

    def keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self))

    def __getitem__(self, key):
        # HF outputs index like a tuple of the non-None fields, or by field name.
        if isinstance(key, str):
            if key not in self.keys():
                raise KeyError(f"{type(self).__name__} has no field {key!r}; fields: {', '.join(self.keys())}")
            return getattr(self, key)
        return self.to_tuple()[key]


@flax.struct.dataclass
class AlbertModelOutput(_Output):
    last_hidden_state: Array = None
    pooler_output: Optional[Array] = None
    hidden_states: Optional[tuple[Array, ...]] = None  # num_hidden_layers + 1 entries
    attentions: Optional[tuple[Array, ...]] = None  # num_hidden_layers * inner_group_num entries


@flax.struct.dataclass
class AlbertForPreTrainingOutput(_Output):
    loss: Optional[Array] = None
    prediction_logits: Array = None
    sop_logits: Array = None
    hidden_states: Optional[tuple[Array, ...]] = None
    attentions: Optional[tuple[Array, ...]] = None


@flax.struct.dataclass
class AlbertClassifierOutput(_Output):
    """Masked LM, sequence / token classification and multiple choice: a loss and `logits`."""

    loss: Optional[Array] = None
    logits: Array = None
    hidden_states: Optional[tuple[Array, ...]] = None
    attentions: Optional[tuple[Array, ...]] = None


@flax.struct.dataclass
class AlbertQuestionAnsweringOutput(_Output):
    loss: Optional[Array] = None
    start_logits: Array = None
    end_logits: Array = None
    hidden_states: Optional[tuple[Array, ...]] = None
    attentions: Optional[tuple[Array, ...]] = None
