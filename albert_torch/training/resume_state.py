"""What a torch run saves beside its canonical weights to continue exactly where it stopped.

RNG: the dropout masks come from torch's global generators (CPU, and CUDA on a GPU); their states
go into trainer_state.json as lists of byte values, one entry per process (each process draws its
own masks). Optimizer: the optimizer's state_dict (moments, step counts) and the fp16 GradScaler's
scale, as torch files in the checkpoint's optimizer/ folder. The learning-rate schedule needs no
state: it is a function of the step (see optim.make_schedule).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

OPTIMIZER_FILE = "optimizer.pt"
SCALER_FILE = "grad_scaler.pt"


def rng_state() -> dict[str, list[int]]:
    """This process's generator states, JSON-able."""
    state = {"torch_cpu": torch.get_rng_state().tolist()}
    if torch.cuda.is_available():
        state["torch_cuda"] = torch.cuda.get_rng_state().tolist()
    return state


def set_rng_state(state: dict[str, list[int]]) -> None:
    torch.set_rng_state(torch.tensor(state["torch_cpu"], dtype=torch.uint8))
    if torch.cuda.is_available() and "torch_cuda" in state:
        torch.cuda.set_rng_state(torch.tensor(state["torch_cuda"], dtype=torch.uint8))


def seed_dropout(seed: int, rank: int, step: int) -> None:
    """A fresh dropout stream, different per process and per starting step, reproducible from the seed."""
    mixed = np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)[0]
    torch.manual_seed(int(mixed))


def run_rng_state(per_process: list[dict[str, list[int]]]) -> dict[str, Any]:
    """The checkpoint's `rng` field: every process's state, in rank order."""
    return {"world_size": len(per_process), "processes": per_process}


def restore_run_rng(rng: dict[str, Any], rank: int, world_size: int) -> bool:
    """Put back this process's generator state; False when the checkpoint has none for this layout."""
    processes = rng.get("processes") or []
    if rng.get("world_size") != world_size or len(processes) != world_size:
        return False
    set_rng_state(processes[rank])
    return True


def write_optimizer_state(folder: Path, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None) -> None:
    torch.save(optimizer.state_dict(), folder / OPTIMIZER_FILE)
    if scaler is not None:
        torch.save(scaler.state_dict(), folder / SCALER_FILE)


def read_optimizer_state(folder: Path, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None, device: torch.device) -> None:
    """Load the saved moments into `optimizer`, keeping its hyper-parameters (the current run's arguments)."""
    hyper = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    optimizer.load_state_dict(torch.load(folder / OPTIMIZER_FILE, map_location=device, weights_only=True))
    for group, values in zip(optimizer.param_groups, hyper):
        group.update(values)
    if scaler is not None and (folder / SCALER_FILE).is_file():
        scaler.load_state_dict(torch.load(folder / SCALER_FILE, weights_only=True))
