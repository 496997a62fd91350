"""What every backend's bench row shares, framework-free: the model's config, its seeded weights and
inputs, and the order of a row's calls and memory readings.

albert_torch.bench, albert_tf.bench and albert_flax.bench each build their model and one call from
these and hand the call to `measure`, so a row of one backend measures what the same row of another
measures: the same weights (albert and hf rows of every backend hold `random_state`), the same ids
and MLM labels (`row_inputs`), the same memory window and the same compile figure.
"""

from __future__ import annotations

import ctypes
import gc
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from albert_core.checkpoint.state import initial_value
from albert_core.config import AlbertConfig
from albert_core.presets import PRESETS, preset_config
from albert_core.schema import Head, tensor_specs

from .memory import MemoryWindow, RssWindow
from .spec import RowSpec
from .timing import time_calls

WEIGHTS_SEED = 0  # the canonical state of every row
INPUTS_SEED = 1  # ids and MLM labels of every row
DROPOUT_SEED = 0  # the frameworks' own RNGs (dropout), where a row seeds them
LEARNING_RATE = 1e-4  # AdamW of every training row
MASKED_FRACTION = 0.15  # of each row's positions carry an MLM label
IGNORE_INDEX = -100
FIRST_ID = 5  # random ids skip the special tokens (pad 0, unk, [CLS], [SEP], [MASK])


class RowError(Exception):
    """A row that cannot run here (device, precision, model, a feature HF lacks): its RowResult.error."""


def load_config(model: str) -> AlbertConfig:
    """RowSpec.model: a preset name (albert-base-v2 or albert/albert-base-v2), or a config.json or a
    folder holding one. Never the hub: a benchmark row must not download or wait on the network."""
    path = Path(model).expanduser()
    if path.exists():
        try:
            return AlbertConfig.from_pretrained(path)
        except FileNotFoundError as exc:  # a folder without config.json
            raise RowError(f"RowSpec.model {model!r}: {exc}") from None
    if model.split("/")[-1] in PRESETS and not model.startswith((".", "/", "~")):  # a path-like name is a path
        return preset_config(model)
    raise RowError(f"RowSpec.model {model!r} is neither a preset ({', '.join(PRESETS)}) nor an existing config.json or folder")


def row_head(suite: str) -> Head:
    """Inference times AlbertModel, training AlbertForMaskedLM."""
    return Head.BASE if suite == "inference" else Head.MASKED_LM


def random_state(config: AlbertConfig, head: Head, seed: int = WEIGHTS_SEED) -> dict[str, np.ndarray]:
    """A complete canonical state for `head` (tied tensors left to the model), drawn as HF
    initialises (albert_core's initial_value) from `seed` alone."""
    rng = np.random.default_rng(seed)
    return {s.name: initial_value(s, config, rng) for s in tensor_specs(config, head) if s.tied_to is None}


def row_inputs(config: AlbertConfig, suite: str, batch: int, seq: int, seed: int = INPUTS_SEED) -> dict[str, np.ndarray]:
    """int32 random ids above the special tokens and an all-ones mask; training adds MLM labels: the
    ids at round(15% × seq) (at least 1) random positions of every row, -100 elsewhere."""
    if config.vocab_size <= FIRST_ID:
        raise RowError(f"vocab_size {config.vocab_size} leaves no ids above the special tokens (< {FIRST_ID})")
    rng = np.random.default_rng(seed)
    ids = rng.integers(FIRST_ID, config.vocab_size, (batch, seq)).astype(np.int32)
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    if suite == "training":
        count = max(1, round(MASKED_FRACTION * seq))
        positions = np.argsort(rng.random((batch, seq)), axis=1)[:, :count]
        labels = np.full_like(ids, IGNORE_INDEX)
        np.put_along_axis(labels, positions, np.take_along_axis(ids, positions, axis=1), axis=1)
        inputs["labels"] = labels
    return inputs


def release_free_heap() -> bool:
    """Collect garbage and hand the C heap's free pages back to the OS (glibc malloc_trim), so the
    baseline holds no freed memory that the measured calls would reuse unseen. False: not glibc."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    libc.malloc_trim(0)
    return True


@dataclass
class Measured:
    times_ms: list[float]
    first_s: float  # the untimed first call
    compile_s: float | None  # first call - median timed call, for rows whose first call compiles
    baseline_mib: float
    peak_mib: float  # the window's peak above the baseline
    note: str  # what the memory figure is


def measure(
    call: Callable[[], object],
    spec: RowSpec,
    compiles: bool,
    window: MemoryWindow | None = None,
    first_call: Callable[[], object] | None = None,
) -> Measured:
    """The memory rule of every row (albert_core.bench.memory): the first call (`first_call`, by
    default `call`) runs untimed before the baseline; then gc + malloc_trim, the baseline, and
    spec.warmup + spec.iters calls inside the peak window. `call` must block until its work is done."""
    window = window or RssWindow()
    start = time.perf_counter()
    (first_call or call)()
    first_s = time.perf_counter() - start
    trimmed = release_free_heap()
    baseline = window.start()
    times = time_calls(call, spec.warmup, spec.iters)
    peak = window.peak() - baseline
    compile_s = max(0.0, first_s - statistics.median(times) / 1e3) if compiles else None
    note = (
        f"memory: {window.peak_name} over warm-up + timed calls minus {window.level_name} after the untimed first call "
        "(model, inputs, optimizer state and compiled program in the baseline"
        + ("; free heap returned by malloc_trim first)" if trimmed else "; no malloc_trim here (not glibc): freed heap may hide part of the peak)")
    )
    return Measured(times, first_s, compile_s, baseline, peak, note)
