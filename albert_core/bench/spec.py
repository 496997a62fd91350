"""One benchmark row (`RowSpec`) and its measurement (`RowResult`), both plain JSON-able data.

A row is one implementation at one shape and precision: e.g. albert_torch's default (sdpa) forward
at batch 8 x seq 128 in bf16, or HF transformers' TF eager training step at 4 x 512. A child
process receives the spec as JSON, builds the model with random weights, times it, and prints
the result as one JSON line (albert_core.bench.child).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SUITES = ("inference", "training")
BACKENDS = ("torch", "tf", "flax")
IMPLS = ("albert", "hf")  # this project's model, or HF transformers' model in the same framework
PRECISIONS = ("fp32", "bf16", "fp16")

# Each backend's variants: the first of each list is the default path, the call the README shows.
VARIANTS = {
    ("torch", "albert"): ("sdpa", "eager", "sdpa+compile", "sdpa+checkpointing", "sdpa+onednn"),
    ("torch", "hf"): ("sdpa", "eager", "sdpa+compile"),
    ("tf", "albert"): ("xla", "eager"),
    ("tf", "hf"): ("eager", "function", "xla"),
    ("flax", "albert"): ("jit", "jit+remat"),
    ("flax", "hf"): ("jit",),
}


@dataclass(frozen=True)
class RowSpec:
    suite: str  # "inference": AlbertModel forward, eval, no grad; "training": AlbertForMaskedLM step with AdamW
    backend: str
    impl: str
    variant: str
    precision: str
    batch: int
    seq: int
    model: str = "albert-base-v2"  # a preset name (albert_core.presets)
    warmup: int = 5
    iters: int = 10
    device: str = "cpu"  # "cpu" or "gpu"

    def __post_init__(self) -> None:
        for name, allowed in (("suite", SUITES), ("backend", BACKENDS), ("impl", IMPLS), ("precision", PRECISIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"RowSpec.{name} must be one of {list(allowed)}, got {getattr(self, name)!r}")
        if self.variant not in VARIANTS[(self.backend, self.impl)]:
            raise ValueError(
                f"RowSpec.variant {self.variant!r} is not one of {self.backend}/{self.impl}'s: {list(VARIANTS[(self.backend, self.impl)])}"
            )
        for name in ("batch", "seq", "iters"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"RowSpec.{name} must be ≥ 1, got {getattr(self, name)!r}")

    @property
    def is_default(self) -> bool:
        """The backend's README path (albert impl, first variant)."""
        return self.impl == "albert" and self.variant == VARIANTS[(self.backend, self.impl)][0]

    @property
    def label(self) -> str:
        who = f"albert_{self.backend}" if self.impl == "albert" else f"HF {self.backend}"
        return f"{who} {self.variant} {self.precision}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RowSpec":
        return cls(**data)


@dataclass
class RowResult:
    """What one child measured. Times in ms over `iters` calls after `warmup` (one call = one batch:
    a forward for inference, forward + backward + optimizer update for training)."""

    spec: RowSpec
    times_ms: list[float] = field(default_factory=list)
    floor_ms: float | None = None  # the row's GEMM/bmm shapes (shapes.py) timed in the same process and precision
    peak_mib: float | None = None  # CPU: peak RSS over warm-up + timed calls minus the post-load RSS; GPU: the allocator's peak
    baseline_mib: float | None = None  # CPU: the post-load RSS (model, inputs, optimizer state built)
    max_abs_error: float | None = None  # low-precision rows: max |output - the same model's fp32 output| (inference)
    compile_s: float | None = None  # jit/XLA/torch.compile: the first call's time beyond a warm call
    versions: dict[str, str] = field(default_factory=dict)  # framework (and transformers) versions in the child
    notes: str = ""  # anything the reader must know about this row (e.g. what the memory figure includes)
    error: str | None = None  # the row could not run: why (e.g. bf16 unsupported on this device)

    @property
    def median_ms(self) -> float | None:
        if not self.times_ms:
            return None
        ordered = sorted(self.times_ms)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    @property
    def min_ms(self) -> float | None:
        return min(self.times_ms) if self.times_ms else None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["spec"] = self.spec.to_dict()
        data["median_ms"], data["min_ms"] = self.median_ms, self.min_ms
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RowResult":
        data = {k: v for k, v in data.items() if k not in ("median_ms", "min_ms")}
        return cls(**{**data, "spec": RowSpec.from_dict(data["spec"])})
