"""Input and label checks, run before the graph so they also protect XLA-compiled calls.

XLA drops tf.debugging assertions (and clamps out-of-range gathers silently), so the checks live
outside compiled code:
- eager calls: the shared numpy checks of albert_core.inputs, on the concrete values;
- fit / evaluate / predict / *_on_batch: the same checks on numpy data before Keras compiles a
  step; tf.data pipelines get `graph_checks` mapped over them (tf.data runs them as ordinary ops);
- the exported SavedModel: `graph_checks` run in the (not compiled) serving wrapper.
Inside a tf.function of your own only static shapes can be checked.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import tensorflow as tf

from albert_core.config import AlbertConfig
from albert_core.inputs import InputError, check_labels, check_model_inputs

INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "head_mask", "inputs_embeds")


def collect_inputs(inputs: Any, kwargs: Mapping[str, Any], label_keys: tuple[str, ...]) -> dict[str, Any]:
    """Merge the dict (or bare input_ids tensor) and keyword arguments into one {name: value} dict."""
    if inputs is None:
        features = {}
    elif isinstance(inputs, Mapping):
        features = dict(inputs)
    elif isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], Mapping):
        raise InputError("pass the inputs as one dict, not a list of dicts")
    else:
        features = {"input_ids": inputs}
    for key, value in kwargs.items():
        if key in features and value is not None:
            raise InputError(f"{key!r} was given both in the inputs dict and as a keyword argument")
        if value is not None or key not in features:
            features[key] = value
    allowed = INPUT_KEYS + label_keys
    unknown = sorted(k for k in features if k not in allowed)
    if unknown:
        raise InputError(f"unknown input(s) {unknown}; this model takes {list(allowed)}")
    return {k: v for k, v in features.items() if v is not None}


def _concrete(value):
    """A numpy view of an eager tensor or array (free on CPU); None for symbolic tensors."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple, int, float)):
        return np.asarray(value)
    if tf.is_tensor(value) and hasattr(value, "numpy") and tf.executing_eagerly():
        return value.numpy()
    return None


def check_features(config: AlbertConfig, features: Mapping[str, Any], multiple_choice: bool) -> tuple[int, ...] | None:
    """Validate the model inputs when their values are known; return their [batch(, choices), seq] shape."""
    arrays = {k: _concrete(features.get(k)) for k in INPUT_KEYS}
    if any(arrays[k] is None and features.get(k) is not None for k in INPUT_KEYS):
        return None  # symbolic (inside a tf.function): values unknown, shapes checked by the ops
    return check_model_inputs(config, **arrays, multiple_choice=multiple_choice)


def check_label_values(task: str, config: AlbertConfig, labels: Mapping[str, Any], input_shape: tuple[int, ...]) -> None:
    """Validate the labels of one head (keys as in the model's call) against the input shape."""
    values = {k: _concrete(v) for k, v in labels.items()}
    if any(v is None for v in values.values()):
        return
    batch = input_shape[0]
    if task == "pretraining":
        if "labels" in values:
            check_labels("pretraining", values["labels"], config, input_shape)
        if "sentence_order_label" in values:
            check_labels("sentence_order", values["sentence_order_label"], config, input_shape)
    elif task == "question_answering":
        if len(values) == 1:
            missing = "end_positions" if "start_positions" in values else "start_positions"
            raise InputError(f"AlbertForQuestionAnswering needs both start_positions and end_positions; {missing} is missing")
        for name, value in values.items():
            if value.shape not in ((batch,), (batch, 1)):
                raise InputError(f"{name} must have shape [{batch}] or [{batch}, 1], got {list(value.shape)}")
            if not np.issubdtype(value.dtype, np.integer):
                raise InputError(f"{name} must be integers, got dtype {value.dtype}")
    elif task == "multiple_choice":
        check_labels(task, values["labels"], config, input_shape, num_choices=input_shape[1])
    else:
        check_labels(task, values["labels"], config, input_shape)


def _in_range(values: tf.Tensor, high: int, message: str) -> list:
    """Assertions that every value lies in [0, high)."""
    return [
        tf.debugging.assert_non_negative(values, message=message),
        tf.debugging.assert_less(values, tf.cast(high, values.dtype), message=message),
    ]


def graph_checks(config: AlbertConfig, features: Mapping[str, tf.Tensor]) -> list:
    """tf.debugging assertions on id ranges and shapes, for tf.data pipelines and the serving wrapper.

    They run in ordinary TF graphs (not under XLA, which ignores them) and raise
    InvalidArgumentError whose message names the input and the allowed range.
    """
    ops = []
    ids = features.get("input_ids")
    if ids is not None:
        ops += _in_range(ids, config.vocab_size, f"input_ids contain an id outside the vocabulary [0, {config.vocab_size})")
        limit = config.max_position_embeddings
        ops.append(tf.debugging.assert_less_equal(tf.shape(ids)[-1], limit, message=f"sequence length exceeds max_position_embeddings ({limit})"))
        for name in ("attention_mask", "token_type_ids"):
            if features.get(name) is not None:
                message = f"{name} must have the same shape as input_ids"
                ops.append(tf.debugging.assert_equal(tf.shape(features[name]), tf.shape(ids), message=message))
    if features.get("token_type_ids") is not None:
        ops += _in_range(features["token_type_ids"], config.type_vocab_size, f"token_type_ids must lie in [0, {config.type_vocab_size})")
    return ops
