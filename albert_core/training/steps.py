"""Group a data stream's micro-batches into optimizer steps (the same grouping in every backend)."""

from __future__ import annotations

import itertools
from typing import Iterable, Iterator

import numpy as np

from .objective import add_loss_counts


def training_steps(stream: Iterable[dict[str, np.ndarray]], task: str, grad_accum_steps: int) -> Iterator[list[dict[str, np.ndarray]]]:
    """Yield lists of `grad_accum_steps` micro-batches, each with its step's `<part>_count` columns.

    Step k is made of micro-batches k×A ... k×A + A − 1 of the stream: after `stream.seek(k × A)`
    the next step is step k, which is how a resumed run finds its data position.
    """
    iterator = iter(stream)
    while True:
        group = list(itertools.islice(iterator, grad_accum_steps))
        if len(group) < grad_accum_steps:
            return
        yield add_loss_counts(task, group)
