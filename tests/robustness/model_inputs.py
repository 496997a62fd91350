"""The bad model inputs every backend must refuse, framework-neutral (numpy), with the message
each must give. A backend test converts the arrays to its own tensors and calls its models.

Every case must raise ValueError (albert_core.inputs.InputError) whose message matches, before
any kernel runs: no IndexError from an embedding lookup, no shape error from deep inside a
matmul, no silent clamping of an out-of-range id.
"""

from __future__ import annotations

import numpy as np

from albert_core.config import AlbertConfig
from albert_core.schema import ARCHITECTURES, Head

CONFIG = dict(
    vocab_size=50, embedding_size=8, hidden_size=16, num_attention_heads=2, intermediate_size=20,
    num_hidden_layers=2, max_position_embeddings=12, num_labels=3,
)


def config() -> AlbertConfig:
    return AlbertConfig(**CONFIG)


def _ids(*shape: int) -> np.ndarray:
    return (np.arange(int(np.prod(shape))).reshape(shape) % 49 + 1).astype(np.int64)


# (case id, encoder inputs, regex the ValueError's message must match)
ENCODER_CASES = [
    ("id >= vocab", dict(input_ids=np.array([[1, 2, 50]])), r"input_ids contain 50, outside the vocabulary \[0, 50\)"),
    ("id < 0", dict(input_ids=np.array([[1, -1, 3]])), r"input_ids contain -1"),
    ("huge id", dict(input_ids=np.array([[1, 2**40]])), r"outside the vocabulary"),
    ("seq > max_position_embeddings", dict(input_ids=_ids(2, 13)), r"sequence length 13 exceeds max_position_embeddings \(12\)"),
    ("float ids", dict(input_ids=_ids(2, 5).astype(np.float32)), r"input_ids must be integers"),
    ("bool ids", dict(input_ids=np.ones((2, 5), dtype=bool)), r"input_ids must be integers"),
    ("batch of 0", dict(input_ids=np.zeros((0, 5), dtype=np.int64)), r"empty input"),
    ("seq of 0", dict(input_ids=np.zeros((2, 0), dtype=np.int64)), r"empty input"),
    ("1-d ids", dict(input_ids=_ids(5)), r"input_ids must have shape \[batch, seq\], got \[5\]"),
    ("3-d ids", dict(input_ids=_ids(2, 3, 4)), r"input_ids must have shape \[batch, seq\]"),
    ("mask shape", dict(input_ids=_ids(2, 5), attention_mask=np.ones((2, 4), dtype=np.int64)), r"attention_mask has shape \[2, 4\] but the input has shape \[2, 5\]"),
    ("mask transposed", dict(input_ids=_ids(2, 5), attention_mask=np.ones((5, 2), dtype=np.int64)), r"attention_mask has shape \[5, 2\]"),
    ("type ids shape", dict(input_ids=_ids(2, 5), token_type_ids=np.zeros((3, 5), dtype=np.int64)), r"token_type_ids has shape \[3, 5\]"),
    ("type id >= type_vocab", dict(input_ids=_ids(2, 5), token_type_ids=np.full((2, 5), 2)), r"token_type_ids must lie in \[0, 2\)"),
    ("type id < 0", dict(input_ids=_ids(2, 5), token_type_ids=np.full((2, 5), -1)), r"token_type_ids must lie in \[0, 2\)"),
    ("position id out of range", dict(input_ids=_ids(2, 5), position_ids=np.full((2, 5), 12)), r"position_ids must lie in \[0, 12\)"),
    ("ids and embeds", dict(input_ids=_ids(2, 5), inputs_embeds=np.zeros((2, 5, 8), np.float32)), r"exactly one of input_ids and inputs_embeds"),
    ("neither ids nor embeds", dict(), r"exactly one of input_ids and inputs_embeds"),
    ("embeds width", dict(inputs_embeds=np.zeros((2, 5, 7), np.float32)), r"embedding_size=8"),
    ("head_mask shape", dict(input_ids=_ids(2, 5), head_mask=np.ones(3, np.float32)), r"head_mask must have shape \[2\] or \[num_hidden_layers=2, 2\]"),
]

# (case id, head, labels kwargs, regex), for inputs _ids(2, 5)
LABEL_CASES = [
    ("mlm label >= vocab", "masked_lm", dict(labels=np.full((2, 5), 50)), r"labels for masked_lm must lie in \[0, 50\)"),
    ("mlm label < -100", "masked_lm", dict(labels=np.full((2, 5), -101)), r"labels for masked_lm must lie in \[0, 50\)"),
    ("mlm label shape", "masked_lm", dict(labels=np.zeros((2, 4), np.int64)), r"labels for masked_lm must have shape \[2, 5\], got \[2, 4\]"),
    ("class label >= num_labels", "sequence_classification", dict(labels=np.array([0, 3])), r"must lie in \[0, 3\), got \[0, 3\]"),
    ("class label < 0", "sequence_classification", dict(labels=np.array([-1, 0])), r"must lie in \[0, 3\)"),
    ("class label count", "sequence_classification", dict(labels=np.array([0, 1, 2])), r"must have shape \[2\], got \[3\]"),
    ("token label >= num_labels", "token_classification", dict(labels=np.full((2, 5), 3)), r"token_classification must lie in \[0, 3\)"),
    ("sop label", "pretraining", dict(sentence_order_label=np.array([0, 2])), r"sentence_order must lie in \[0, 2\)"),
]

def encoder_cases(backend: str):
    """The encoder cases every backend must refuse (all of them, for every backend)."""
    return list(ENCODER_CASES)


def edge_inputs(cfg: AlbertConfig) -> dict[str, dict[str, np.ndarray]]:
    """Valid inputs at the edges, which must give finite outputs of the right shape."""
    full = _ids(2, cfg.max_position_embeddings)
    return {
        "seq == max_position_embeddings": dict(input_ids=full),
        "seq of 1": dict(input_ids=_ids(3, 1)),
        "batch of 1": dict(input_ids=_ids(1, 4)),
        "int32 ids": dict(input_ids=_ids(2, 5).astype(np.int32)),
        "a fully masked row": dict(input_ids=_ids(2, 5), attention_mask=np.array([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]])),
        "largest ids": dict(input_ids=np.full((2, 5), cfg.vocab_size - 1), token_type_ids=np.ones((2, 5), np.int64)),
    }


def head_classes(package) -> dict[str, type]:
    """{head name: the backend's class for it} for the heads LABEL_CASES use; every backend
    names its classes as HF does (schema.ARCHITECTURES)."""
    return {head: getattr(package, ARCHITECTURES[Head(head)]) for head in {case[1] for case in LABEL_CASES}}
