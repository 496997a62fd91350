"""The interface every backend plug-in implements (torch, tf, flax, and HF transformers' PyTorch).

A plug-in extends the backend's `albert verify` runner (albert_core/cli/runners.py: `load`,
`forward`), so the CLI and the tests call a backend the same way, and adds what training parity
needs. Everything crosses the interface as numpy under canonical (HF PyTorch) names and layouts:

    model = plugin.load(config, head, state)                 # fp32, eval mode (dropout off)
    ev = plugin.evaluate(model, inputs, labels)              # Evaluation: outputs + gradients
    new_state = plugin.step(model, ev.grads, optimizer)      # one AdamW / LAMB step (optax's definition)
    outputs = plugin.forward_bf16(config, head, state, inputs, labels)   # the backend's bf16 mode

`evaluate`'s outputs are `forward`'s (hidden states and attentions included, loss when labels are
given); its gradients are of the loss, or for the bare encoder (no labels) of `base_objective`.
`step` starts from the loaded parameters and leaves the model as it found them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from albert_core.config import AlbertConfig
from albert_core.schema import Head, tensor_specs


@dataclass
class Evaluation:
    outputs: dict[str, np.ndarray]  # named_outputs: "loss", "logits", "hidden_states[0]", ...
    grads: dict[str, np.ndarray]  # canonical name -> gradient, one entry per trained tensor


# What the bare encoder backpropagates (it has no loss): mean(last_hidden_state²) + sum(pooler_output).
BASE_OBJECTIVE = "mean(last_hidden_state**2) + sum(pooler_output)"


def trained_names(config: AlbertConfig, head: Head) -> list[str]:
    """The canonical names a gradient / optimizer step is reported for: every tensor of the head
    but the tied copies (a tied tensor is trained as the tensor it is tied to)."""
    return [spec.name for spec in tensor_specs(config, head) if spec.tied_to is None]


def check_complete(backend: str, got: dict, config: AlbertConfig, head: Head, what: str) -> dict:
    """`got` keyed by exactly `trained_names`, or AssertionError naming the difference."""
    want = trained_names(config, head)
    missing = [n for n in want if n not in got]
    extra = [n for n in got if n not in want]
    if missing or extra:
        raise AssertionError(f"{backend}: {what} missing {missing}, unexpected {extra}")
    return {n: got[n] for n in want}
