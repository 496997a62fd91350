"""CPU inference through oneDNN with pre-packed weights: `model.enable_onednn_inference()`.

PyTorch's float32 CPU `nn.Linear` calls its BLAS (MKL in the official wheels). On AMD EPYC
hosts MKL's sgemm runs at less than half the machine's rate: albert-base's [1024x768]@[768x3072]
GEMM ran at 185 GFLOP/s through `F.linear`, 454 GFLOP/s through oneDNN with the weight reordered
once into oneDNN's blocked layout (2026-12-04, 2-core EPYC, torch 2.13; docs/benchmarks.md). The
whole albert-base forward at 8 x 128 went from 1,047 to 545 ms, max |Δ| 2.9e-06 on hidden states.

oneDNN ships inside every official CPU build of torch; its packed linear is reached through
`torch.ops.mkldnn._reorder_linear_weight` / `_linear_pointwise`, the ops TorchInductor's
weight-prepacking pass emits (inductor itself picks MKL's packed path for float32, which is the
slow one here). They are private, so `onednn_inference_available()` checks for them and
`enable_onednn_inference` raises a clear error where they are missing.

Where it is on by default: every AlbertPreTrainedModel turns it on when it is built on an AMD x86
CPU whose torch has the ops (`onednn_inference_by_default()`): MKL is the BLAS of the official x86
wheels and takes its slow code path on non-Intel CPUs, which is where the 2x above was measured.
On Intel CPUs MKL ran the same GEMM at 435 GFLOP/s (2026-11-25 host), and on other architectures
torch's BLAS is not MKL, so those keep nn.Linear unless the user calls enable_onednn_inference.

`OneDNNLinear` keeps nn.Linear's parameters (the state dict, save_pretrained and the optimizer
see the same tensors) and uses the packed copy only where it is exact to do so: no autograd
(eval under torch.no_grad / inference_mode), float32, CPU, eager. Anything else (training, bf16
or autocast, CUDA, and tracing: torch.compile, torch.export, ONNX, TorchScript, which should record a plain
linear) runs nn.Linear's own forward. The packed copy is rebuilt when the weight changes (its version
counter moves on every in-place write: optimizer steps, load_state_dict, copy_).
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

import torch
from torch import nn


def onednn_inference_available() -> bool:
    """Whether this torch build has oneDNN and the packed-linear ops."""
    ops = torch.ops.mkldnn
    return bool(torch.backends.mkldnn.is_available()) and all(
        hasattr(ops, name) for name in ("_reorder_linear_weight", "_linear_pointwise")
    )


@functools.cache  # every model built asks; the CPU does not change
def cpu_vendor() -> str:
    """The x86 vendor string of this CPU from /proc/cpuinfo ("AuthenticAMD", "GenuineIntel"), or ""."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""
    for line in cpuinfo.splitlines():
        if line.startswith("vendor_id"):
            return line.partition(":")[2].strip()
    return ""


def onednn_inference_by_default() -> bool:
    """Whether new models turn enable_onednn_inference on themselves: AMD x86 CPUs with MKL as torch's
    BLAS (its sgemm is slow there) and the oneDNN ops present."""
    return (
        platform.machine().lower() in ("x86_64", "amd64")
        and cpu_vendor() == "AuthenticAMD"
        and bool(torch.backends.mkl.is_available())
        and onednn_inference_available()
    )


# The HF activation names oneDNN applies inside its linear, as a post-op on the product's output
# tile (no second pass over the [tokens, intermediate] activation): (attr, algorithm) of
# _linear_pointwise, as TorchInductor's fusion pass names them. albert-base's FFN at 8 x 128: 12.4 ms
# as product then F.gelu, 10.1 ms fused; max |Δ| 2.4e-07 (tanh GELU), 0 (erf GELU).
POST_OPS = {
    "gelu": ("gelu", "none"),
    "gelu_new": ("gelu", "tanh"),
    "gelu_fast": ("gelu", "tanh"),
    "gelu_pytorch_tanh": ("gelu", "tanh"),
    "relu": ("relu", ""),
    "tanh": ("tanh", ""),
}


def _tracing() -> bool:
    """torch.compile / torch.export (dynamo), TorchScript tracing or ONNX export is recording the call."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


class OneDNNLinear(nn.Linear):
    """nn.Linear whose gradient-free float32 CPU forward runs oneDNN on a pre-packed weight."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self._packed: torch.Tensor | None = None
        self._packed_for: tuple | None = None  # (weight version, data pointer) the packed copy was made from

    def __getstate__(self):
        # deepcopy and pickling (torch.save(model)) cannot read a oneDNN-layout tensor; the copy
        # packs its own weight on its first forward.
        state = super().__getstate__()
        return {**state, "_packed": None, "_packed_for": None}

    def _uses_onednn(self, x: torch.Tensor) -> bool:
        return (
            not torch.is_grad_enabled()
            and not _tracing()
            and x.device.type == "cpu"
            and not torch.is_autocast_enabled("cpu")  # autocast runs nn.Linear in bfloat16
            and x.dtype == torch.float32
            and self.weight.dtype == torch.float32
        )

    def packed_weight(self) -> torch.Tensor:
        """The weight in oneDNN's layout, re-packed whenever the weight tensor was written to."""
        source = (self.weight._version, self.weight.data_ptr())
        if self._packed is None or self._packed_for != source:
            with torch.no_grad():
                self._packed = torch.ops.mkldnn._reorder_linear_weight(self.weight.detach(), None)
            self._packed_for = source
        return self._packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._uses_onednn(x):
            return super().forward(x)
        return self._packed_linear(x, "none", "")

    def forward_activated(self, x: torch.Tensor, activation, hidden_act: str) -> torch.Tensor:
        """activation(self(x)), with oneDNN applying the activation inside the product where it can
        (hidden_act in POST_OPS, and the oneDNN path in use)."""
        post_op = POST_OPS.get(hidden_act)
        if post_op is None or not self._uses_onednn(x):
            return activation(self.forward(x))
        return self._packed_linear(x, *post_op)

    def _packed_linear(self, x: torch.Tensor, attr: str, algorithm: str) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.detach()
        return torch.ops.mkldnn._linear_pointwise(x, self.packed_weight(), bias, attr, [], algorithm)

    def _apply(self, fn, recurse=True):
        # .to(), .cuda(), .half() ... make new parameter tensors; drop the packed copy of the old one.
        self._packed, self._packed_for = None, None
        return super()._apply(fn, recurse)


def _sharing_parameters(cls: type[nn.Linear], linear: nn.Linear) -> nn.Linear:
    """A `cls` layer of `linear`'s shape holding `linear`'s own parameters (no copy)."""
    layer = cls(linear.in_features, linear.out_features, bias=linear.bias is not None, device="meta")
    layer.weight, layer.bias = linear.weight, linear.bias
    layer.train(linear.training)
    return layer


def enable_onednn_inference(model: nn.Module) -> nn.Module:
    """Replace every nn.Linear in `model` by a OneDNNLinear sharing its parameters (in place)."""
    if not onednn_inference_available():
        raise RuntimeError(
            f"enable_onednn_inference needs a torch build with oneDNN's packed linear "
            f"(torch.ops.mkldnn._linear_pointwise); torch {torch.__version__} has none"
        )
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear:
                setattr(parent, name, _sharing_parameters(OneDNNLinear, child))
    return model


def disable_onednn_inference(model: nn.Module) -> nn.Module:
    """Put plain nn.Linear layers back (sharing the same parameters)."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, OneDNNLinear):
                setattr(parent, name, _sharing_parameters(nn.Linear, child))
    return model
