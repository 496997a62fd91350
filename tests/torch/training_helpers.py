"""Tiny configs and data streams for the torch training tests (and the scripts they launch).

The streams follow albert_core.data's stream interface (batch_size, position, seek, an endless
iterator of numpy micro-batches with meta_* columns) without depending on it: micro-batch i is a
pure function of (task, seed, i), so a stream sought to i yields what an unbroken one yields there.
"""

from __future__ import annotations

import time

import numpy as np

from albert_core.config import AlbertConfig
from albert_core.data.batches import BatchList

SEQ = 16
CHOICES = 3


def tiny_config(**changes) -> AlbertConfig:
    values = dict(
        vocab_size=64, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=48, max_position_embeddings=32, num_labels=3, hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1, hidden_act="gelu",
    )
    values.update(changes)
    return AlbertConfig(**values)


def config_for(task: str, **changes) -> AlbertConfig:
    return tiny_config(**({"num_labels": 2} if task == "qa" else {}), **changes)


def random_batch(task: str, config: AlbertConfig, rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One micro-batch of `task` with random inputs, labels and a meta column (which loops must drop)."""
    shape = (rows, CHOICES, SEQ) if task == "choice" else (rows, SEQ)
    lengths = rng.integers(SEQ // 2, SEQ + 1, size=shape[:-1])
    attention_mask = (np.arange(SEQ) < lengths[..., None]).astype(np.int64)
    input_ids = np.where(attention_mask == 1, rng.integers(5, config.vocab_size, size=shape), 0).astype(np.int64)
    batch = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": (np.arange(SEQ) >= lengths[..., None] // 2).astype(np.int64) * attention_mask,
        "meta_example_id": np.arange(rows, dtype=np.int64),
    }
    if task in ("pretrain", "tag"):
        # Labels on a random subset of the real tokens: uneven counts per row and per micro-batch.
        chosen = (rng.random(shape) < 0.3) & (attention_mask == 1)
        chosen[:, 1] = True  # at least one label per row
        high = config.vocab_size if task == "pretrain" else config.num_labels
        batch["labels"] = np.where(chosen, rng.integers(0, high, size=shape), -100).astype(np.int64)
    if task == "pretrain":
        batch["sentence_order_label"] = rng.integers(0, 2, size=rows).astype(np.int64)
    elif task == "classify":
        batch["labels"] = rng.integers(0, config.num_labels, size=rows).astype(np.int64)
    elif task == "choice":
        batch["labels"] = rng.integers(0, CHOICES, size=rows).astype(np.int64)
    elif task == "qa":
        start = rng.integers(0, SEQ // 2, size=rows)
        batch["start_positions"] = start.astype(np.int64)
        batch["end_positions"] = (start + rng.integers(0, SEQ // 2, size=rows)).astype(np.int64)
    return batch


class RandomStream:
    """Endless stream: micro-batch i drawn from a generator seeded by (seed, i).

    `delay` seconds of sleep per micro-batch slow a run down enough to kill it mid-way (resume test).
    """

    def __init__(self, task: str, config: AlbertConfig, batch_size: int, seed: int = 0, delay: float = 0.0):
        self.task, self.config, self.batch_size, self.seed, self.delay = task, config, batch_size, seed, delay
        self.position = 0

    def seek(self, position: int) -> None:
        self.position = position

    def batch_at(self, position: int) -> dict[str, np.ndarray]:
        return random_batch(self.task, self.config, self.batch_size, np.random.default_rng([self.seed, position]))

    def __iter__(self):
        while True:
            batch = self.batch_at(self.position)
            self.position += 1
            if self.delay:
                time.sleep(self.delay)
            yield batch


# Fixed micro-batches as a stream and as an eval set: albert_core's BatchList.
ListStream = ListEvalSource = BatchList


def concat(batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([b[key] for b in batches]) for key in batches[0]}
