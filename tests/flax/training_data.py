"""Tiny random micro-batches for every task (albert_core.data.BatchList makes them a stream or an
eval set), and the persistent compilation cache the training tests share."""

from __future__ import annotations

import numpy as np
import pytest

from albert_core import AlbertConfig

SEQ = 16
CHOICES = 3


def tiny_training_config(**changes) -> AlbertConfig:
    base = dict(
        vocab_size=64,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=48,
        max_position_embeddings=SEQ,
        num_labels=3,
    )
    return AlbertConfig(**{**base, **changes})


def _inputs(rng: np.random.Generator, config: AlbertConfig, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Ids with a padded tail of random length per row, its mask, and segment ids A/B."""
    ids = rng.integers(5, config.vocab_size, shape)
    lengths = rng.integers(SEQ // 2, SEQ + 1, shape[:-1])
    mask = (np.arange(SEQ) < lengths[..., None]).astype(np.int64)
    ids = np.where(mask == 1, ids, config.pad_token_id)
    token_type = (np.arange(SEQ) >= SEQ // 2).astype(np.int64) * mask
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.broadcast_to(token_type, shape).copy()}


def random_batch(task: str, config: AlbertConfig, rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One micro-batch of `task` with random labels (MLM: a random number of masked positions per row)."""
    shape = (rows, CHOICES, SEQ) if task == "choice" else (rows, SEQ)
    batch = _inputs(rng, config, shape)
    batch["meta_example_id"] = np.arange(rows)  # the loop must drop meta_* columns
    if task == "pretrain":
        chosen = (rng.random((rows, SEQ)) < rng.uniform(0.05, 0.4)) & (batch["attention_mask"] == 1)
        batch["labels"] = np.where(chosen, rng.integers(0, config.vocab_size, (rows, SEQ)), -100)
        batch["sentence_order_label"] = rng.integers(0, 2, rows)
    elif task == "classify":
        batch["labels"] = rng.integers(0, config.num_labels, rows)
    elif task == "tag":
        batch["labels"] = np.where(batch["attention_mask"] == 1, rng.integers(0, config.num_labels, (rows, SEQ)), -100)
    elif task == "choice":
        batch["labels"] = rng.integers(0, CHOICES, rows)
    elif task == "qa":
        batch["start_positions"] = rng.integers(0, SEQ // 2, rows)
        batch["end_positions"] = batch["start_positions"] + rng.integers(0, SEQ // 2, rows)
    else:
        raise ValueError(task)
    return batch


def random_batches(task: str, config: AlbertConfig, count: int, rows: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [random_batch(task, config, rows, rng) for _ in range(count)]


def concatenate(batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([b[key] for b in batches]) for key in batches[0]}


@pytest.fixture(scope="session", autouse=False)
def compilation_cache(tmp_path_factory):
    """A persistent XLA cache for the session: the training tests compile the same tiny train step
    in several runs (and subprocesses, through the returned environment); each compile costs seconds."""
    import jax

    folder = str(tmp_path_factory.mktemp("jax-cache"))
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return {"JAX_COMPILATION_CACHE_DIR": folder, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5"}
