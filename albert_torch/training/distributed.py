"""Data parallelism with torch DDP: who this process is, its share of each batch, and collectives.

Launched with torchrun (or torch.distributed.run), every process sees WORLD_SIZE, RANK and
LOCAL_RANK; without them the run is one process and every collective below is the identity.
Each process reads the same micro-batches and takes its contiguous share of their rows, so the
loss normalisation (label counts of the whole step, see albert_core.training.objective) is
unchanged by the split; DDP averages gradients over processes, which the loop undoes by scaling
its loss by the world size. Only the first process writes logs and checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
import torch.distributed as dist

from albert_core.training.arguments import TrainingArgumentError


@dataclass
class Replicas:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_process_group: bool = False  # this run started the process group, so it ends it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.world_size:
            raise TrainingArgumentError(
                f"batch_size {batch_size} (rows per micro-batch over all processes) must be a multiple of the "
                f"{self.world_size} processes, so every process takes the same number of rows"
            )

    def shard(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """This process's contiguous share of the rows of every column."""
        if not self.distributed:
            return dict(batch)
        out = {}
        for key, column in batch.items():
            rows = column.shape[0]
            if rows % self.world_size:
                raise TrainingArgumentError(f"micro-batch column {key!r} has {rows} rows, not a multiple of {self.world_size} processes")
            share = rows // self.world_size
            out[key] = column[self.rank * share : (self.rank + 1) * share]
        return out

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            value = value.clone()
            dist.all_reduce(value, op=dist.ReduceOp.SUM)
        return value

    def gather(self, obj: Any) -> list[Any]:
        """Every process's `obj`, in rank order (on every process)."""
        if not self.distributed:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: Any) -> Any:
        """The first process's `obj`, on every process."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        if self.owns_process_group and dist.is_initialized():
            dist.destroy_process_group()


def setup() -> Replicas:
    """Join the process group torchrun describes (gloo on CPU, nccl on CUDA), or run alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    owns = False
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo", device_id=device if device.type == "cuda" else None)
        owns = True
    if dist.is_initialized():
        world_size, rank = dist.get_world_size(), dist.get_rank()
    return Replicas(world_size, rank, local_rank, device, owns)


def wrap(model: torch.nn.Module, replicas: Replicas) -> torch.nn.Module:
    """The model DDP-wrapped when there are several processes (it broadcasts the first one's weights)."""
    if not replicas.distributed:
        return model
    # Under relative position embeddings the absolute position table takes no part in the loss;
    # DDP must then look for parameters without gradients or it waits for them forever.
    find_unused = model.config.position_embedding_type != "absolute"
    device_ids = [replicas.device.index] if replicas.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=find_unused)
