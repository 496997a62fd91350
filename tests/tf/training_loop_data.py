"""Tiny, fixed data for the training-loop tests: random micro-batches of every task behind
albert_core's BatchList (the stream interface: a cycle of fixed micro-batches; and an eval set);
plus the tiny config."""

from __future__ import annotations

import numpy as np

from albert_core import AlbertConfig
from albert_core.data.batches import BatchList

TINY = dict(
    vocab_size=64,
    embedding_size=16,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=37,
    max_position_embeddings=32,
)
SEQ = 16
CHOICES = 3


def tiny_config(task: str = "pretrain", **overrides) -> AlbertConfig:
    extra = {"num_labels": 2} if task == "qa" else {"num_labels": 3}
    return AlbertConfig(**{**TINY, **extra, **overrides})


def micro_batch(task: str, rows: int, rng: np.random.Generator, config: AlbertConfig) -> dict[str, np.ndarray]:
    """Random inputs and labels of `task`; the second half of each row's last quarter is padding."""
    shape = (rows, CHOICES, SEQ) if task == "choice" else (rows, SEQ)
    ids = rng.integers(5, config.vocab_size, shape).astype(np.int32)
    mask = np.ones(shape, np.int32)
    mask[..., SEQ - rng.integers(0, SEQ // 4) :] = 0
    ids[mask == 0] = config.pad_token_id
    types = np.zeros(shape, np.int32)
    types[..., SEQ // 2 :] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "meta_row": np.arange(rows, dtype=np.int64)}
    if task == "pretrain":
        # Uneven MLM label counts per micro-batch (1 to 5 per row), so normalisation matters.
        labels = np.full(shape, -100, np.int32)
        for r in range(rows):
            chosen = rng.choice(SEQ // 2, size=rng.integers(1, 6), replace=False)
            labels[r, chosen] = ids[r, chosen]
        batch.update(labels=labels, sentence_order_label=rng.integers(0, 2, rows).astype(np.int32))
    elif task == "classify":
        batch["labels"] = rng.integers(0, config.num_labels, rows).astype(np.int32)
    elif task == "tag":
        batch["labels"] = np.where(rng.random(shape) < 0.6, rng.integers(0, config.num_labels, shape), -100).astype(np.int32)
    elif task == "choice":
        batch["labels"] = rng.integers(0, CHOICES, rows).astype(np.int32)
    elif task == "qa":
        batch["start_positions"] = rng.integers(0, SEQ // 2, rows).astype(np.int32)
        batch["end_positions"] = rng.integers(SEQ // 2, SEQ, rows).astype(np.int32)
    return batch


def random_stream(task: str, config: AlbertConfig, rows: int = 4, count: int = 8, seed: int = 0) -> BatchList:
    """A training stream cycling `count` fixed random micro-batches of `rows` rows."""
    rng = np.random.default_rng(seed)
    return BatchList(micro_batch(task, rows, rng, config) for _ in range(count))


def eval_set(task: str, config: AlbertConfig, rows: int = 3, count: int = 2, seed: int = 7) -> BatchList:
    rng = np.random.default_rng(seed)
    return BatchList(micro_batch(task, rows, rng, config) for _ in range(count))


def concatenated(stream: BatchList, group: int) -> BatchList:
    """The same rows as `stream`, `group` micro-batches joined into one."""
    batches = stream.batches
    return BatchList({k: np.concatenate([b[k] for b in batches[i : i + group]]) for k in batches[0]} for i in range(0, len(batches), group))
