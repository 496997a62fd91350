"""The train state (a pytree: step, params, optax state, fp16 loss scale) and its optimizer folder.

A checkpoint's weights are canonical (albert_core writes them); what only this backend can use,
the optax state and the loss scale, goes to `<checkpoint>/optimizer/train_state.msgpack` with
flax.serialization, restored onto the structure a fresh optimizer builds (so a checkpoint of a
different optimizer or model shape fails with a clear error, not a silent mix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import flax.serialization
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from albert_core.atomic import atomic_write_bytes
from albert_core.training.checkpoints import ResumeError

from .distributed import to_host

STATE_FILE = "train_state.msgpack"


@flax.struct.dataclass
class LossScale:
    """Dynamic loss scaling for float16 compute, with torch.amp.GradScaler's policy: scale the loss
    so small gradients survive float16; a step whose gradients overflow is skipped and the scale
    halved; after `GROWTH_INTERVAL` good steps in a row the scale doubles."""

    scale: jax.Array
    good_steps: jax.Array

    INITIAL = 2.0**15
    GROWTH_INTERVAL = 2000

    @classmethod
    def create(cls) -> "LossScale":
        return cls(scale=jnp.asarray(cls.INITIAL, jnp.float32), good_steps=jnp.asarray(0, jnp.int32))

    def adjust(self, finite: jax.Array) -> "LossScale":
        grow = finite & (self.good_steps + 1 >= self.GROWTH_INTERVAL)
        scale = jnp.where(finite, jnp.where(grow, self.scale * 2, self.scale), self.scale / 2)
        good_steps = jnp.where(finite & ~grow, self.good_steps + 1, 0)
        return LossScale(scale=scale, good_steps=good_steps)


@flax.struct.dataclass
class TrainState:
    step: jax.Array  # optimizer steps taken (int32): the data step, and the dropout key's index
    params: Any  # float32 parameter tree of the head's module
    opt_state: Any  # optax state of the chain (optimizer.make_optimizer)
    loss_scale: Optional[LossScale] = None  # float16 runs only

    @classmethod
    def create(cls, params, tx, step: int = 0, float16: bool = False) -> "TrainState":
        return cls(
            step=jnp.asarray(step, jnp.int32),
            params=params,
            opt_state=tx.init(params),
            loss_scale=LossScale.create() if float16 else None,
        )


def write_optimizer_state(folder: Path, state: TrainState) -> None:
    """What resuming in this backend needs beyond the canonical weights and trainer_state.json."""
    payload = {"opt_state": to_host(state.opt_state), "loss_scale": to_host(state.loss_scale)}
    atomic_write_bytes(Path(folder) / STATE_FILE, flax.serialization.to_bytes(payload))


def read_optimizer_state(folder: Path, state: TrainState) -> TrainState:
    """`state` with the optax state and loss scale read from `folder` (a checkpoint's optimizer/)."""
    path = Path(folder) / STATE_FILE
    target = {"opt_state": to_host(state.opt_state), "loss_scale": to_host(state.loss_scale)}
    try:
        restored = flax.serialization.from_bytes(target, path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResumeError(
            f"{path}: cannot restore the optimizer state ({exc}); was it written with another optimizer, "
            f"precision or model shape? Start a new output_dir, or delete the checkpoints to restart"
        ) from exc
    # from_bytes fills the target's structure without comparing shapes: compare them here.
    want = jax.tree_util.tree_map(np.shape, target)
    got = jax.tree_util.tree_map(np.shape, restored)
    if want != got:
        raise ResumeError(f"{path}: the optimizer state's shapes do not fit this model and optimizer")
    return state.replace(opt_state=restored["opt_state"], loss_scale=restored["loss_scale"])
