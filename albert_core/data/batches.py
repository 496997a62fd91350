"""BatchList: fixed micro-batches behind the stream interface (held-out sets, tests, replays)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .errors import DataError, check_position


class BatchList:
    """Given micro-batches, as a training stream (cycled forever) and as an eval set.

    `BatchList.take(stream, n)` freezes a stream's first n batches, e.g. a held-out pretraining
    set that is the same at every evaluation.
    """

    def __init__(self, batches: Iterable[dict[str, np.ndarray]]):
        self.batches = list(batches)
        if not self.batches:
            raise DataError("BatchList needs at least one micro-batch")
        self.batch_size = len(self.batches[0]["input_ids"])
        self.position = 0

    @classmethod
    def take(cls, stream, count: int) -> "BatchList":
        iterator = iter(stream)
        return cls(next(iterator) for _ in range(count))

    def seek(self, position: int) -> None:
        self.position = check_position(position)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        while True:
            batch = self.batches[self.position % len(self.batches)]
            self.position += 1
            yield batch

    def eval_batches(self) -> Iterator[dict[str, np.ndarray]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)
