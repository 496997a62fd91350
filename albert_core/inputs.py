"""Input checks shared by every backend, on numpy views of the inputs, before any graph runs.

A backend converts its tensors to numpy (or passes shapes) and calls these, so a bad input gives
the same clear ValueError with the numbers in torch, TF and JAX, instead of an index error deep
inside a framework or a CUDA device assert.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .config import AlbertConfig


class InputError(ValueError):
    """A model input (ids, masks, labels) has the wrong shape, dtype or range."""


def _shape(x: Any) -> tuple[int, ...] | None:
    if x is None:
        return None
    shape = getattr(x, "shape", None)
    if shape is None:
        return np.shape(x)
    return tuple(int(d) if d is not None else -1 for d in shape)


def check_model_inputs(
    config: AlbertConfig,
    input_ids: Any = None,
    attention_mask: Any = None,
    token_type_ids: Any = None,
    position_ids: Any = None,
    inputs_embeds: Any = None,
    head_mask: Any = None,
    multiple_choice: bool = False,
) -> tuple[int, ...]:
    """Validate the encoder's inputs; return the [batch(, choices), seq] shape they share.

    Values (not only shapes) are checked for arrays that numpy can read without a device sync
    cost the caller did not already pay: pass numpy arrays, or None to skip a value check.
    """
    if (input_ids is None) == (inputs_embeds is None):
        raise InputError("pass exactly one of input_ids and inputs_embeds")
    rank = 3 if multiple_choice else 2
    if input_ids is not None:
        shape = _shape(input_ids)
        if len(shape) != rank:
            want = "[batch, choices, seq]" if multiple_choice else "[batch, seq]"
            raise InputError(f"input_ids must have shape {want}, got {list(shape)}")
        ids = input_ids if isinstance(input_ids, np.ndarray) else None
        if ids is not None:
            if not np.issubdtype(ids.dtype, np.integer):
                raise InputError(f"input_ids must be integers, got dtype {ids.dtype}")
            if ids.size:
                low, high = int(ids.min()), int(ids.max())
                if low < 0 or high >= config.vocab_size:
                    bad = low if low < 0 else high
                    raise InputError(f"input_ids contain {bad}, outside the vocabulary [0, {config.vocab_size})")
    else:
        embeds_shape = _shape(inputs_embeds)
        if len(embeds_shape) != rank + 1 or embeds_shape[-1] != config.embedding_size:
            raise InputError(
                f"inputs_embeds must have shape [..., seq, embedding_size={config.embedding_size}], "
                f"got {list(embeds_shape)}"
            )
        shape = embeds_shape[:-1]
    if 0 in shape:
        raise InputError(f"empty input: shape {list(shape)}")
    seq_len = shape[-1]
    if seq_len > config.max_position_embeddings:
        raise InputError(
            f"sequence length {seq_len} exceeds max_position_embeddings ({config.max_position_embeddings})"
        )
    for name, value in (
        ("attention_mask", attention_mask),
        ("token_type_ids", token_type_ids),
        ("position_ids", position_ids),
    ):
        other = _shape(value)
        if other is not None and tuple(other) != tuple(shape):
            if name == "position_ids" and len(other) == 1 and other[0] == seq_len:
                continue
            raise InputError(f"{name} has shape {list(other)} but the input has shape {list(shape)}")
    if isinstance(token_type_ids, np.ndarray) and token_type_ids.size:
        if int(token_type_ids.min()) < 0 or int(token_type_ids.max()) >= config.type_vocab_size:
            raise InputError(
                f"token_type_ids must lie in [0, {config.type_vocab_size}), got "
                f"[{int(token_type_ids.min())}, {int(token_type_ids.max())}]"
            )
    if isinstance(position_ids, np.ndarray) and position_ids.size:
        if int(position_ids.min()) < 0 or int(position_ids.max()) >= config.max_position_embeddings:
            raise InputError(
                f"position_ids must lie in [0, {config.max_position_embeddings}), got "
                f"[{int(position_ids.min())}, {int(position_ids.max())}]"
            )
    if head_mask is not None:
        hm = _shape(head_mask)
        heads = config.num_attention_heads
        if tuple(hm) not in ((heads,), (config.num_hidden_layers, heads)):
            raise InputError(
                f"head_mask must have shape [{heads}] or [num_hidden_layers={config.num_hidden_layers}, {heads}], "
                f"got {list(hm)}"
            )
    return tuple(shape)


def check_labels(task: str, labels: Any, config: AlbertConfig, input_shape: tuple[int, ...], num_choices: int = 0):
    """Validate labels for a head's loss. `task` is the Head value; labels may be numpy or None."""
    if labels is None:
        return
    shape = _shape(labels)
    values = labels if isinstance(labels, np.ndarray) else None
    batch = input_shape[0]

    def expect(want: tuple[int, ...]):
        if tuple(shape) != tuple(want):
            raise InputError(f"labels for {task} must have shape {list(want)}, got {list(shape)}")

    def in_range(low: int, high: int, ignore: int | None = None):
        if values is None or not values.size:
            return
        v = values if ignore is None else values[values != ignore]
        if v.size and (int(v.min()) < low or int(v.max()) >= high):
            raise InputError(f"labels for {task} must lie in [{low}, {high}), got [{int(v.min())}, {int(v.max())}]")

    if task in ("masked_lm", "pretraining", "token_classification"):
        expect(input_shape)
        high = config.vocab_size if task != "token_classification" else config.num_labels
        in_range(0, high, ignore=-100)
    elif task == "sequence_classification":
        problem = config.problem_type
        if problem == "multi_label_classification" or (problem is None and len(shape) == 2 and shape[1] == config.num_labels and config.num_labels > 1 and values is not None and np.issubdtype(values.dtype, np.floating)):
            expect((batch, config.num_labels))
        elif problem == "regression" or (problem is None and config.num_labels == 1):
            if tuple(shape) not in ((batch,), (batch, config.num_labels)):
                raise InputError(f"regression labels must have shape [{batch}] or [{batch}, {config.num_labels}], got {list(shape)}")
        else:
            expect((batch,))
            in_range(0, config.num_labels)
    elif task == "multiple_choice":
        expect((batch,))
        in_range(0, num_choices)
    elif task == "sentence_order":
        expect((batch,))
        in_range(0, 2)
    else:
        raise ValueError(f"unknown task {task!r}")


def as_numpy_or_none(x: Any) -> np.ndarray | None:
    """A numpy view of x when that is free (numpy, lists), else None (framework tensors)."""
    if x is None or isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    return None


def check_all(config: AlbertConfig, inputs: Mapping[str, Any], multiple_choice: bool = False) -> tuple[int, ...]:
    return check_model_inputs(
        config,
        **{k: inputs.get(k) for k in ("input_ids", "attention_mask", "token_type_ids", "position_ids", "inputs_embeds", "head_mask")},
        multiple_choice=multiple_choice,
    )
