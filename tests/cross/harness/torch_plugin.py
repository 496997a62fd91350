"""The PyTorch plug-ins: albert_torch, and HF transformers' PyTorch ALBERT as the reference.

Both are torch.nn.Modules with HF's parameter names, so one set of helpers serves both: canonical
name = parameter name, with `albert.` in front for the bare encoder. Tied parameters are one
Parameter object (named once by named_parameters), so their gradient already sums both uses.
AdamW is torch.optim.AdamW (optax's definition); LAMB is albert_torch.training's `OptaxLamb`, as torch has none.
"""

from __future__ import annotations

import numpy as np
import torch

from albert_core.cli.runners import HFRunner, TorchRunner
from albert_core.schema import BASE_PREFIX, Head
from albert_torch.training import OptaxLamb

from .cases import OptimizerSpec
from .plugin import Evaluation, check_complete


def make_optimizer(params, spec: OptimizerSpec) -> torch.optim.Optimizer:
    betas = (spec.b1, spec.b2)
    if spec.name == "adamw":
        return torch.optim.AdamW(params, lr=spec.learning_rate, betas=betas, eps=spec.eps, weight_decay=spec.weight_decay)
    if spec.name == "lamb":
        return OptaxLamb(params, lr=spec.learning_rate, betas=betas, eps=spec.eps, weight_decay=spec.weight_decay)
    raise ValueError(spec.name)


def canonical_parameters(model, head: Head) -> dict[str, torch.nn.Parameter]:
    prefix = BASE_PREFIX if Head(head) is Head.BASE else ""
    return {prefix + name: p for name, p in model.named_parameters()}


class _TorchTraining:
    """load / evaluate / step for any torch model with HF's parameter names (mixed into both runners)."""

    def load(self, config, head, state):
        model = super().load(config, head, state)
        model.albert_config, model.albert_head = config, Head(head)  # HF's own .config is transformers'
        return model

    def evaluate(self, model, inputs, labels):
        outputs = self.forward(model, inputs, labels)  # attentions need the eager path: its own call
        model.zero_grad(set_to_none=True)
        out = model(**self.tensors({**inputs, **labels}))  # the default (SDPA) path, as users train
        loss = out.loss if labels else out.last_hidden_state.square().mean() + out.pooler_output.sum()
        loss.backward()
        params = canonical_parameters(model, model.albert_head)
        # A parameter the loss does not reach (the absolute position table under relative position
        # embeddings) has grad None in torch and zeros in JAX and TF: the same gradient.
        grads = {name: np.zeros(tuple(p.shape), np.float32) if p.grad is None else p.grad.detach().numpy().copy() for name, p in params.items()}
        model.zero_grad(set_to_none=True)
        return Evaluation(outputs, check_complete(self.name, grads, model.albert_config, model.albert_head, "gradients"))

    def step(self, model, grads, spec: OptimizerSpec):
        params = canonical_parameters(model, model.albert_head)
        before = {name: p.detach().clone() for name, p in params.items()}
        for name, p in params.items():
            p.grad = torch.from_numpy(np.asarray(grads[name])).to(p.dtype)
        make_optimizer(list(params.values()), spec).step()
        after = {name: p.detach().numpy().copy() for name, p in params.items()}
        with torch.no_grad():  # leave the model as loaded
            for name, p in params.items():
                p.copy_(before[name])
                p.grad = None
        return check_complete(self.name, after, model.albert_config, model.albert_head, "stepped parameters")

    def forward_bf16(self, config, head, state, inputs, labels):
        """torch's mixed precision: fp32 parameters, bf16 autocast (matmuls in bf16)."""
        model = self.load(config, head, state)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.forward(model, inputs, labels)


class TorchPlugin(_TorchTraining, TorchRunner):
    pass


class HFPlugin(_TorchTraining, HFRunner):
    def forward_bf16(self, config, head, state, inputs, labels):
        raise NotImplementedError("HF is the fp32 reference; bf16 is measured per backend")
