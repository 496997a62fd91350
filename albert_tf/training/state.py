"""What a resumed run restores besides the weights: the optimizer's variables and the dropout RNG.

- Optimizer: every Keras optimizer variable (iteration count, Adam moments; the loss scale under
  fp16) in <checkpoint>/optimizer/optimizer.npz, keyed by the variable's path. Paths are stable
  across processes because the model and optimizer have fixed names (loop.py). The npz also holds
  the schedule offset (the step at which this optimizer started; 0 unless the run began from
  another backend's checkpoint).
- RNG: Keras draws dropout masks from stateless ops seeded by each Dropout layer's SeedGenerator,
  whose whole state is a 2-integer variable; the list of those states, in the model's layer order,
  goes into trainer_state.json (`rng`).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from albert_core.training.checkpoints import ResumeError

OPTIMIZER_FILE = "optimizer.npz"
_OFFSET_KEY = "__schedule_offset__"


def write_optimizer_state(optimizer: keras.optimizers.Optimizer, folder: Path, schedule_offset: int) -> None:
    arrays = {v.path: np.asarray(v.numpy()) for v in optimizer.variables}
    arrays[_OFFSET_KEY] = np.asarray(schedule_offset, np.int64)
    # The caller writes `folder` inside an atomic folder swap, so a plain write is crash-safe here.
    with open(folder / OPTIMIZER_FILE, "wb") as handle:
        np.savez(handle, **arrays)


def read_optimizer_state(optimizer: keras.optimizers.Optimizer, folder: Path) -> int:
    """Assign the saved variables to the (built) `optimizer`; return the schedule offset."""
    path = folder / OPTIMIZER_FILE
    try:
        saved = dict(np.load(path))
    except (OSError, ValueError) as exc:
        raise ResumeError(f"{path}: not a readable optimizer state ({exc})") from exc
    offset = int(saved.pop(_OFFSET_KEY, 0))
    variables = {v.path: v for v in optimizer.variables}
    if set(saved) != set(variables):
        missing, unexpected = sorted(set(variables) - set(saved)), sorted(set(saved) - set(variables))
        raise ResumeError(
            f"{path} does not match this run's optimizer (was the optimizer or precision changed?): "
            f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}"
        )
    for name, variable in variables.items():
        if tuple(saved[name].shape) != tuple(variable.shape):
            raise ResumeError(f"{path}: {name} has shape {list(saved[name].shape)}, this run's optimizer {list(variable.shape)}")
        variable.assign(saved[name])
    return offset


def _seed_states(model: keras.Model) -> list:
    return [v for v in model.non_trainable_variables if v.name == "seed_generator_state"]


def rng_state(model: keras.Model) -> dict:
    return {"seed_generators": [np.asarray(v.numpy()).tolist() for v in _seed_states(model)]}


def restore_rng_state(model: keras.Model, rng: dict) -> None:
    states, saved = _seed_states(model), rng.get("seed_generators", [])
    if len(saved) != len(states):
        raise ResumeError(f"the checkpoint's RNG state has {len(saved)} seed generators, this model {len(states)}")
    for variable, value in zip(states, saved):
        variable.assign(np.asarray(value, dtype=variable.dtype))
