"""Backend runners: load a canonical state into one backend's model and run it, numpy in and out.

    runner = get_runner("flax")              # imports nothing yet; says what is missing, if anything
    model = runner.load(config, head, state)  # the backend's own model class, fp32, eval mode
    outputs = runner.forward(model, inputs, labels)   # {"logits": ..., "hidden_states[0]": ...}

One class per backend, each importing its framework inside its methods, so `albert verify`
imports only the backends it is asked for. "hf" runs Hugging Face transformers' PyTorch classes,
the live reference. The cross-framework test harness (tests/cross/harness) extends these classes
with gradients and optimizer steps, so a backend is called the same way by the CLI and the tests.

Every runner asks its framework for full fp32 matmuls (no TF32 on GPUs): parity is judged at
the highest precision (DESIGN.md section 5).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Mapping

import numpy as np

from ..config import AlbertConfig
from ..errors import ConfigError, MissingDependencyError
from ..schema import ARCHITECTURES, BASE_PREFIX, Head, tensor_specs
from .parity import named_outputs


class Runner:
    """One backend. Subclasses set `name`, `requires` and implement load / forward."""

    name: str = ""
    description: str = ""
    requires: tuple[tuple[str, str], ...] = ()  # (module, pip package)

    @classmethod
    def missing(cls) -> list[str]:
        """The pip packages this backend needs that are not installed."""
        return [package for module, package in cls.requires if importlib.util.find_spec(module) is None]

    @classmethod
    def available(cls) -> bool:
        return not cls.missing()

    def load(self, config: AlbertConfig, head: Head, state: Mapping[str, np.ndarray]) -> Any:
        raise NotImplementedError

    def forward(self, model: Any, inputs: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Eval-mode outputs with hidden states and attentions (and the loss when labels are given)."""
        raise NotImplementedError


class TorchRunner(Runner):
    name = "torch"
    description = "albert_torch (PyTorch)"
    requires = (("torch", "torch"), ("albert_torch", "albert[torch]"))

    def model_class(self, head: Head):
        import albert_torch

        return albert_torch.MODEL_FOR_HEAD[head]

    def load(self, config, head, state):
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        with torch.device("meta"):  # no random init: every tensor comes from the state
            model = self.model_class(head)(config)
        model.load_canonical_state(state)
        return model.eval()

    @staticmethod
    def to_numpy(tensor) -> np.ndarray:
        return tensor.detach().float().cpu().numpy()

    @staticmethod
    def tensors(values: Mapping[str, np.ndarray], device=None) -> dict:
        import torch

        return {k: torch.from_numpy(np.asarray(v)).to(device) for k, v in values.items()}

    def call(self, model, inputs, labels):
        """The model's output object (autograd on, as the caller's context says)."""
        device = next(model.parameters()).device
        batch = self.tensors({**inputs, **labels}, device)
        return model(**batch, output_hidden_states=True, output_attentions=True)

    def forward(self, model, inputs, labels):
        import torch

        with torch.no_grad():
            out = self.call(model, inputs, labels)
        return named_outputs(lambda f: getattr(out, f, None), self.to_numpy)


class HFRunner(TorchRunner):
    """Hugging Face transformers' PyTorch ALBERT with eager attention: the reference."""

    name = "hf"
    description = "HF transformers (PyTorch)"
    requires = (("torch", "torch"), ("transformers", "transformers"))

    def load(self, config, head, state):
        # transformers imports TF and JAX when it sees them unless told not to (slow, +550 MiB);
        # this only takes effect if it was not imported yet in this process.
        os.environ.setdefault("USE_TF", "0")
        os.environ.setdefault("USE_FLAX", "0")
        import torch
        import transformers

        if config.mlm_layer_norm_eps not in (None, config.layer_norm_eps):
            raise ConfigError(
                f"HF transformers cannot represent mlm_layer_norm_eps={config.mlm_layer_norm_eps} "
                f"(its MLM LayerNorm uses layer_norm_eps={config.layer_norm_eps}); verify without --reference hf"
            )
        torch.backends.cuda.matmul.allow_tf32 = False
        hf_config = transformers.AlbertConfig(**config.to_dict(), attn_implementation="eager")
        model = getattr(transformers, ARCHITECTURES[head])(hf_config)
        prefix = self.prefix(head)
        tied = {spec.name for spec in tensor_specs(config, head) if spec.tied_to is not None}
        weights = {name[len(prefix):]: torch.from_numpy(np.array(value, np.float32)) for name, value in state.items() if name not in tied}
        missing, unexpected = model.load_state_dict(weights, strict=False)
        missing = [k for k in missing if prefix + k not in tied]
        if missing or unexpected:
            raise AssertionError(f"HF {ARCHITECTURES[head]} did not take the state: missing {missing}, unexpected {unexpected}")
        model.tie_weights()
        return model.eval()

    @staticmethod
    def prefix(head: Head) -> str:
        """What HF's parameter names lack against canonical ones (its bare AlbertModel has no `albert.`)."""
        return BASE_PREFIX if Head(head) is Head.BASE else ""


class TFRunner(Runner):
    name = "tf"
    description = "albert_tf (TensorFlow / Keras 3)"
    requires = (("tensorflow", "tensorflow"), ("keras", "keras"), ("albert_tf", "albert[tf]"))

    def load(self, config, head, state):
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        import albert_tf

        tf.config.experimental.enable_tensor_float_32_execution(False)
        model = albert_tf.MODEL_FOR_HEAD[head](config)
        model.load_canonical_state(state)
        return model

    @staticmethod
    def to_numpy(tensor) -> np.ndarray:
        import tensorflow as tf

        return tf.cast(tensor, tf.float32).numpy()

    def call(self, model, inputs, labels, training: bool = False):
        return model({**inputs, **labels}, training=training, output_hidden_states=True, output_attentions=True)

    def forward(self, model, inputs, labels):
        out = self.call(model, inputs, labels)
        return named_outputs(out.get, self.to_numpy)


class FlaxRunner(Runner):
    name = "flax"
    description = "albert_flax (JAX / Flax)"
    requires = (("jax", "jax"), ("flax", "flax"), ("albert_flax", "albert[flax]"))

    def load(self, config, head, state, dtype=None):
        import albert_flax

        cls = getattr(albert_flax, ARCHITECTURES[head])
        kwargs = {} if dtype is None else {"dtype": dtype}
        model = cls(config, _do_init=False, precision="highest", **kwargs)
        model.load_state_dict(state)
        return model

    @staticmethod
    def to_numpy(array) -> np.ndarray:
        return np.asarray(array).astype(np.float32)

    def forward(self, model, inputs, labels):
        out = model(**inputs, **labels, output_hidden_states=True, output_attentions=True)
        return named_outputs(lambda f: getattr(out, f, None), self.to_numpy)


RUNNERS: dict[str, type[Runner]] = {cls.name: cls for cls in (TorchRunner, TFRunner, FlaxRunner, HFRunner)}
BACKENDS = ("torch", "tf", "flax")  # the project's own backends; "hf" is the reference


def get_runner(name: str) -> Runner:
    """The runner of backend `name`, after checking its packages are installed (nothing imported)."""
    if name not in RUNNERS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(RUNNERS)}")
    cls = RUNNERS[name]
    missing = cls.missing()
    if missing:
        raise MissingDependencyError(missing[0], f"the {name} backend ({cls.description})")
    return cls()


def installed_backends() -> list[str]:
    """The project's backends whose packages are installed, in the standard order."""
    return [name for name in BACKENDS if RUNNERS[name].available()]
