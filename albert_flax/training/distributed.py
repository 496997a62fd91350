"""Data parallelism with jax.sharding: one 'data' mesh axis over every device of every process.

Parameters and optimizer state are replicated; each micro-batch is split by rows across the
devices (NamedSharding(mesh, P(None, 'data')) on the stacked [accumulation, rows, ...] arrays).
The jitted step is written for the global batch: XLA inserts the all-reduce of the gradients, and
since each micro-batch's loss is divided by the global label count, the result is the full batch's
gradient whatever the device count.

Several hosts: every process runs the same command; `initialize_from_environment` calls
`jax.distributed.initialize` when JAX_COORDINATOR_ADDRESS (with JAX_NUM_PROCESSES and
JAX_PROCESS_ID) or JAX_NUM_PROCESSES alone (cluster auto-detection: SLURM, Open MPI) is set. Every
process reads the same global micro-batches from its own copy of the data stream (the stream is
deterministic) and places only the rows of its own devices; process 0 writes logs and checkpoints.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from albert_core.training.arguments import TrainingArgumentError


def initialize_from_environment() -> bool:
    """Join a multi-process run when the launch environment asks for one; True when distributed."""
    if jax.distributed.is_initialized():
        return True
    env = os.environ
    if "JAX_COORDINATOR_ADDRESS" not in env and "JAX_NUM_PROCESSES" not in env:
        return False
    kwargs = {}
    if "JAX_NUM_PROCESSES" in env:
        kwargs["num_processes"] = int(env["JAX_NUM_PROCESSES"])
    if "JAX_PROCESS_ID" in env:
        kwargs["process_id"] = int(env["JAX_PROCESS_ID"])
    jax.distributed.initialize(**kwargs)  # the coordinator address is read from JAX_COORDINATOR_ADDRESS
    return True


def to_host(tree):
    """Numpy copies of a tree's replicated device values (any process reads its own replica)."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x.addressable_data(0)) if isinstance(x, jax.Array) else x, tree)


class DataParallel:
    """The mesh of a run and the moves between host numpy trees and global device arrays."""

    def __init__(self, devices: Sequence[Any] | None = None):
        devices = jax.devices() if devices is None else list(devices)
        self.mesh = Mesh(np.asarray(devices), ("data",))
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.by_rows = NamedSharding(self.mesh, PartitionSpec(None, "data"))  # [accumulation, rows, ...]
        self.eval_rows = NamedSharding(self.mesh, PartitionSpec("data"))  # [rows, ...]

    @property
    def size(self) -> int:
        return self.mesh.size

    @property
    def is_chief(self) -> bool:
        """The process that writes logs and checkpoints."""
        return jax.process_index() == 0

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.size:
            raise TrainingArgumentError(
                f"batch_size {batch_size} (rows per micro-batch, all devices together) must be divisible by the "
                f"{self.size} devices of the data-parallel mesh"
            )

    @staticmethod
    def _place(tree, sharding: NamedSharding):
        # From the same host array on every process, each process fills only its own devices' shards.
        def place(value):
            value = np.asarray(value)
            return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])

        return jax.tree_util.tree_map(place, tree)

    def replicate(self, tree):
        return self._place(tree, self.replicated)

    def shard_step(self, stacked: dict[str, np.ndarray]):
        """A step's stacked micro-batches, split by rows across the devices."""
        return self._place(stacked, self.by_rows)

    def shard_eval(self, batch: dict[str, np.ndarray]):
        """An eval micro-batch: split by rows when they divide evenly (a last partial batch is replicated)."""
        rows = next(iter(batch.values())).shape[0]
        return self._place(batch, self.eval_rows if rows % self.size == 0 else self.replicated)

