"""ParallelStream: micro-batches built by N worker processes, taken from them in turn.

A pretraining stream spends its time in Python (tokenising documents, masking examples): about
3,000 examples/s on one core, far below what a GPU step consumes. `ParallelStream` runs N streams,
each pickled into its own process, and interleaves their micro-batches round-robin: batch p of
the parallel stream is batch p // N of worker p mod N. So the result is the same bit for bit for
the same N streams, and `seek(p)` is exact: each worker seeks to its own share of p.

`PretrainingStream.for_workers(n)` makes the N streams (worker 0 keeps the seed, so one worker
gives exactly the in-process stream). Processes are started with "spawn" (safe beside CUDA, JAX
and TensorFlow threads in the parent) when iteration begins and stopped when the iterator is
closed or garbage-collected; a parent killed outright leaves them to stop by themselves. An error
in a worker is raised in the parent with its traceback.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Iterator, Sequence

import numpy as np

from .errors import DataError, check_position

QUEUE_BATCHES = 4  # micro-batches each worker may run ahead of the consumer
POLL_SECONDS = 1.0  # how often a waiting consumer (worker) checks that its worker (parent) is alive


def _produce(stream, position: int, out) -> None:
    """Worker process: put the stream's micro-batches from `position` on `out` until the parent is
    gone. A parent killed outright (SIGKILL, or SIGTERM, which runs no cleanup) cannot stop its
    workers, so a worker waiting on a full queue checks every POLL_SECONDS that its parent lives."""
    parent = multiprocessing.parent_process()
    try:
        stream.seek(position)
        for batch in stream:
            while True:
                try:
                    out.put(("batch", batch), timeout=POLL_SECONDS)
                    break
                except queue.Full:
                    if parent is not None and not parent.is_alive():
                        return
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        out.put(("error", traceback.format_exc()))


class ParallelStream:
    """The stream interface (batch_size, position, seek, endless iteration) over worker processes."""

    def __init__(self, streams: Sequence):
        self.streams = list(streams)
        if not self.streams:
            raise DataError("ParallelStream needs at least one stream")
        sizes = {stream.batch_size for stream in self.streams}
        if len(sizes) != 1:
            raise DataError(f"ParallelStream's streams must share one batch_size, got {sorted(sizes)}")
        self.batch_size = sizes.pop()
        self.position = 0

    @property
    def workers(self) -> int:
        return len(self.streams)

    def seek(self, position: int) -> None:
        """Continue as if `position` micro-batches had been read (takes effect at the next iter)."""
        self.position = check_position(position)

    def worker_positions(self, position: int) -> list[int]:
        """How many of its micro-batches each worker has given after `position` in all."""
        n = self.workers
        return [position // n + (1 if w < position % n else 0) for w in range(n)]

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        context = multiprocessing.get_context("spawn")
        queues = [context.Queue(maxsize=QUEUE_BATCHES) for _ in self.streams]
        processes = [
            context.Process(target=_produce, args=(stream, start, out), name=f"albert-data-{w}", daemon=True)
            for w, (stream, start, out) in enumerate(zip(self.streams, self.worker_positions(self.position), queues))
        ]
        for process in processes:
            process.start()
        try:
            while True:
                w = self.position % self.workers
                batch = self._next_from(w, queues[w], processes[w])
                self.position += 1
                yield batch
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process, out in zip(processes, queues):
                process.join(timeout=5)
                out.cancel_join_thread()  # never block on batches nobody will read
                out.close()

    def _next_from(self, w: int, out, process) -> dict[str, np.ndarray]:
        while True:
            try:
                kind, value = out.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not process.is_alive():
                    raise DataError(f"data worker {w} (process {process.pid}) stopped with exit code {process.exitcode} and no error report") from None
                continue
            if kind == "error":
                raise DataError(f"data worker {w} of {self.workers} failed:\n{value}")
            return value
