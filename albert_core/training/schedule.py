"""The learning-rate schedule every backend uses: HF's `get_linear_schedule_with_warmup`.

`step` counts optimizer updates already applied (0 for the first update), as torch's LambdaLR and
optax's schedules count. lr(step) = peak × step / warmup while step < warmup, then
peak × (max_steps − step) / (max_steps − warmup), never below 0. With warmup 0 the first update
uses the peak rate. Each backend expresses this same formula natively (LambdaLR, an optax schedule,
a keras LearningRateSchedule) and is tested against this function.
"""

from __future__ import annotations


def learning_rate_factor(step: int, warmup_steps: int, max_steps: int) -> float:
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return max(0.0, (max_steps - step) / max(1, max_steps - warmup_steps))


def learning_rate_at(step: int, peak: float, warmup_steps: int, max_steps: int) -> float:
    return peak * learning_rate_factor(step, warmup_steps, max_steps)
