"""The optimizers, schedule and gradient clipping of the torch loop, with optax's definitions.

AdamW is torch.optim.AdamW (the same update as optax.adamw: weight decay lr × wd × p beside Adam's
bias-corrected step). torch has no LAMB, so `OptaxLamb` is optax.lamb written as a torch optimizer.
Weight decay applies only where albert_core.training.decays_weight says so, decided by each
parameter's canonical name; the learning rate follows albert_core's schedule through a LambdaLR.
"""

from __future__ import annotations

import functools
from typing import Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR

from albert_core.training import TrainingArguments, decays_weight
from albert_core.training.schedule import learning_rate_factor


class OptaxLamb(torch.optim.Optimizer):
    """LAMB exactly as optax.lamb: Adam's bias-corrected update, plus weight_decay × p, scaled by the
    trust ratio ||p|| / ||update|| (1 where either norm is 0), times the learning rate."""

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-6, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            (b1, b2), eps, lr, wd = group["betas"], group["eps"], group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t = state["step"]
                state["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                state["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                update = (state["m"] / (1 - b1**t)) / ((state["v"] / (1 - b2**t)).sqrt() + eps) + wd * p
                p_norm, u_norm = p.norm(), update.norm()
                ratio = torch.where((p_norm > 0) & (u_norm > 0), p_norm / u_norm, torch.ones_like(p_norm))
                p.sub_(lr * ratio * update)
        return None


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: the parameters that decay (matrices, embeddings) and those that do not (biases,
    LayerNorm), by canonical name. Tied parameters are one Parameter, listed once."""
    prefix = getattr(model, "canonical_prefix", "")
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (decay if decays_weight(prefix + name) else no_decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def make_optimizer(model: torch.nn.Module, args: TrainingArguments) -> torch.optim.Optimizer:
    groups = parameter_groups(model, args.weight_decay)
    betas = (args.adam_b1, args.adam_b2)
    if args.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=args.learning_rate, betas=betas, eps=args.adam_eps)
    return OptaxLamb(groups, lr=args.learning_rate, betas=betas, eps=args.adam_eps)


def make_schedule(optimizer: torch.optim.Optimizer, args: TrainingArguments, step: int = 0) -> LambdaLR:
    """albert_core's warmup + linear decay as a LambdaLR, positioned so the next update uses step `step`.

    Every group's peak (`initial_lr`) is the current `args.learning_rate`, also after a resume that
    loaded an optimizer state, so a run continued with new schedule knobs follows the new schedule.
    """
    for group in optimizer.param_groups:
        group["initial_lr"] = args.learning_rate
    factor = functools.partial(learning_rate_factor, warmup_steps=args.warmup_steps, max_steps=args.max_steps)
    # last_epoch = step - 1: LambdaLR's constructor takes one step, to `step`, and sets each lr.
    return LambdaLR(optimizer, factor, last_epoch=step - 1)


def clip_gradients(parameters: Iterable[torch.nn.Parameter], max_norm: float | None) -> float:
    """Clip the gradients' global norm to `max_norm` (None: leave them); return the norm before clipping."""
    parameters = [p for p in parameters if p.grad is not None]
    if max_norm is None:
        return float(torch.nn.utils.get_total_norm([p.grad for p in parameters]))
    return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))
