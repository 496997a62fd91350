"""From the data stream to what `fit` reads: one element per optimizer step, split by replica.

albert_core.training.training_steps groups the stream's micro-batches into steps (and adds the
`<part>_count` columns); each step becomes a dict of arrays [rows, grad_accum_steps, ...] holding
the model inputs, labels and counts (meta_* columns dropped). With R replicas, replica r gets rows
[r × rows/R, (r + 1) × rows/R) of every micro-batch: each worker's dataset yields, per step, the
slices of its own replicas in order, and tf.distribute hands consecutive elements to consecutive
local replicas (`distribute_datasets_from_function`). Every worker reads the same stream (same
seed, same position) and keeps only its rows, so no sharding policy is involved.

Shapes are fixed by the first step (XLA compiles once); a later step with other keys or shapes
is an error naming them.
"""

from __future__ import annotations

import threading
from typing import Iterator

import numpy as np
import tensorflow as tf

from albert_core.training import model_inputs_and_labels, training_steps
from albert_core.training.arguments import TrainingArgumentError


def step_arrays(task: str, micro_batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One step's micro-batches (with count columns) as {key: array [rows, micro-batches, ...]}."""
    merged = []
    for batch in micro_batches:
        inputs, labels, counts = model_inputs_and_labels(task, batch)
        merged.append({**inputs, **labels, **counts})
    return {key: np.stack([m[key] for m in merged], axis=1) for key in merged[0]}


def _check_same_layout(step: int, arrays: dict, signature: dict) -> None:
    got = {k: (tuple(v.shape), v.dtype) for k, v in arrays.items()}
    want = {k: (tuple(s.shape), s.dtype.as_numpy_dtype) for k, s in signature.items()}
    if got != want:
        raise ValueError(
            f"training step {step}: micro-batches must keep the first step's keys, shapes and dtypes "
            f"(fixed for the compiled step); expected {want}, got {got}"
        )


class _StepFeed:
    """The stream's steps for tf.data, from the run's start position. Restartable: each new iteration
    of the dataset seeks the stream back to the start, and any older iteration stops at its next
    step. (Under a strategy, Keras' fit draws one batch from a first iterator to build the model,
    then iterates afresh; that first iterator's prefetching must not consume the run's data.)"""

    def __init__(self, stream, task: str, grad_accum_steps: int):
        self.stream, self.task, self.grad_accum_steps = stream, task, grad_accum_steps
        self.start = stream.position
        self.lock = threading.Lock()
        self.generation = 0
        self.first = next(self.steps(), None)  # for the shapes; the stream is rewound by each iteration

    def steps(self) -> Iterator[dict[str, np.ndarray]]:
        with self.lock:
            self.generation += 1
            mine = self.generation
            self.stream.seek(self.start)
            groups = training_steps(self.stream, self.task, self.grad_accum_steps)
        while True:
            with self.lock:
                if self.generation != mine:
                    return
                group = next(groups, None)
            if group is None:
                return
            yield step_arrays(self.task, group)


def replica_datasets(strategy: tf.distribute.Strategy, stream, task: str, grad_accum_steps: int):
    """A distributed dataset of the steps of `stream` from its current position, for `fit`."""
    feed = _StepFeed(stream, task, grad_accum_steps)
    first = feed.first
    if first is None:
        raise ValueError("the training stream yielded fewer micro-batches than one optimizer step")
    rows = next(iter(first.values())).shape[0]
    replicas = strategy.num_replicas_in_sync
    if rows % replicas:
        raise TrainingArgumentError(f"batch_size {rows} does not split evenly over {replicas} replicas")
    per_replica = rows // replicas
    signature = {k: tf.TensorSpec((per_replica, *v.shape[1:]), tf.as_dtype(v.dtype)) for k, v in first.items()}
    full_signature = {k: tf.TensorSpec(v.shape, tf.as_dtype(v.dtype)) for k, v in first.items()}

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        local = context.num_replicas_in_sync // context.num_input_pipelines
        mine = range(context.input_pipeline_id * local, (context.input_pipeline_id + 1) * local)

        def pieces():
            for index, arrays in enumerate(feed.steps()):
                _check_same_layout(index, arrays, full_signature)
                for r in mine:
                    yield {k: v[r * per_replica : (r + 1) * per_replica] for k, v in arrays.items()}

        return tf.data.Dataset.from_generator(pieces, output_signature=signature).prefetch(2 * local)

    return strategy.distribute_datasets_from_function(dataset_fn)
