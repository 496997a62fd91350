"""Tiny configs, inputs and labels for the albert_tf tests."""

import numpy as np

from albert_core import AlbertConfig

TINY = dict(
    vocab_size=99,
    embedding_size=16,
    hidden_size=32,
    num_hidden_layers=3,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=40,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    classifier_dropout_prob=0.0,
)


def tiny_config(**overrides) -> AlbertConfig:
    return AlbertConfig(**{**TINY, **overrides})


def tiny_inputs(config: AlbertConfig, batch=2, seq=7, choices=None, seed=0, padded=True) -> dict:
    """int32 input_ids / attention_mask / token_type_ids; row 1 padded (pad_token_id, mask 0)."""
    rng = np.random.default_rng(seed)
    shape = (batch, seq) if choices is None else (batch, choices, seq)
    ids = rng.integers(1, config.vocab_size, shape).astype("int32")
    mask = np.ones(shape, "int32")
    types = np.zeros(shape, "int32")
    types[..., seq // 2 :] = 1
    if padded:
        mask[1, ..., seq - 3 :] = 0
        ids[1, ..., seq - 3 :] = config.pad_token_id
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def tiny_labels(model, config: AlbertConfig, inputs: dict, seed=0) -> dict:
    """Valid labels for the model's head, named as its call takes them."""
    rng = np.random.default_rng(seed)
    ids = inputs["input_ids"]
    batch, seq = ids.shape[0], ids.shape[-1]
    head = model.head.value
    if head in ("pretraining", "masked_lm"):
        labels = np.where(rng.random(ids.shape) < 0.3, ids, -100).astype("int32")
        labels[0, 0] = ids[0, 0]  # at least one label that counts
        out = {"labels": labels}
        if head == "pretraining":
            out["sentence_order_label"] = rng.integers(0, 2, batch).astype("int32")
        return out
    if head == "sequence_classification":
        return {"labels": rng.integers(0, config.num_labels, batch).astype("int32")}
    if head == "token_classification":
        return {"labels": rng.integers(0, config.num_labels, (batch, seq)).astype("int32")}
    if head == "multiple_choice":
        return {"labels": rng.integers(0, ids.shape[1], batch).astype("int32")}
    if head == "question_answering":
        return {
            "start_positions": rng.integers(0, seq, batch).astype("int32"),
            "end_positions": rng.integers(0, seq, batch).astype("int32"),
        }
    return {}
