"""The Keras callbacks a run's `fit` carries. `fit` runs one epoch of the remaining steps, so the
global step after batch b is start_step + b + 1. Only the chief process gets the writing ones."""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np

from albert_core.training import MetricsLog


def scalar(value) -> float:
    """A value of the train step's logs (shape [1]) as a float."""
    return float(np.asarray(value).reshape(-1)[0])


class StepCallback(keras.callbacks.Callback):
    def __init__(self, start_step: int):
        super().__init__()
        self.start_step = start_step

    def global_step(self, batch: int) -> int:
        return self.start_step + batch + 1


class TrainLog(StepCallback):
    """Keeps each step's loss, learning rate and pre-clip gradient norm; writes a "train" record
    every `every` steps."""

    def __init__(self, start_step: int, every: int, log: MetricsLog | None):
        super().__init__(start_step)
        self.every = every
        self.log = log
        self.last: dict[str, float] = {}

    def on_train_batch_end(self, batch, logs=None):
        self.last = {k: scalar(logs[k]) for k in ("loss", "learning_rate", "grad_norm")}
        step = self.global_step(batch)
        if self.log is not None and step % self.every == 0:
            self.log.log(step, "train", **self.last)


class EverySteps(StepCallback):
    """Calls `action(step)` after every step that is a multiple of `every`."""

    def __init__(self, start_step: int, every: int, action: Callable[[int], None]):
        super().__init__(start_step)
        self.every = every
        self.action = action

    def on_train_batch_end(self, batch, logs=None):
        step = self.global_step(batch)
        if step % self.every == 0:
            self.action(step)


class ProgressBar(StepCallback):
    """A tqdm bar over the run's steps, showing the last step's loss (no bar without tqdm)."""

    def __init__(self, start_step: int, total: int):
        super().__init__(start_step)
        self.total = total
        self.bar = None

    def on_train_begin(self, logs=None):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=self.total, initial=self.start_step, unit="step", dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{scalar(logs['loss']):.4f}")

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
