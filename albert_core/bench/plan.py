"""Which rows an `albert bench` run measures: the seed's two tables for every backend and variant.

Full plan, per installed backend (and HF transformers' model in the same framework when
transformers is installed), every variant of spec.VARIANTS, fp32 and bf16 (fp16 too on GPU):
- training: batch {2, 4, 8} x seq {256, 512};
- inference: batch {4, 8, 16} x seq {128, 256, 512} (training-only variants, gradient
  checkpointing and remat, are not planned here: they change nothing without a backward);
plus the framework-free tool rows (tokenizer throughput, checkpoint load/convert).
`quick=True` is a one-minute subset: each backend's default path and HF's default path,
inference fp32 at batch 2 x seq 128, 2 warm-up + 3 timed calls, and the tokenizer on 300 texts.

Filters narrow either plan. A backend or impl named explicitly is planned even when its packages
are missing (its rows then report what to install); left to the default, a missing one is skipped
and `Plan.skipped` says so. `batches` / `seqs` replace the seed's grid (e.g. a tiny smoke run).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import ConfigError
from .spec import BACKENDS, IMPLS, PRECISIONS, SUITES, VARIANTS, RowSpec
from .tools import TOOLS, ToolSpec

TRAINING_SHAPES = tuple((b, s) for b in (2, 4, 8) for s in (256, 512))
INFERENCE_SHAPES = tuple((b, s) for b in (4, 8, 16) for s in (128, 256, 512))
QUICK_SHAPE = (2, 128)
# Variants that only change the backward pass: meaningless for an inference row.
TRAINING_ONLY = frozenset({"sdpa+checkpointing", "jit+remat"})
# Variants that only change a gradient-free float32 CPU forward (elsewhere the row is the default one).
FP32_CPU_INFERENCE_ONLY = frozenset({"sdpa+onednn"})
ALL_SUITES = SUITES + TOOLS  # what --suites may name
# (warm-up calls, timed calls): on CPU the 5 + 10; on GPU the seed's 100 timed iterations.
ITERATIONS = {"cpu": (5, 10), "gpu": (10, 100)}
QUICK_ITERATIONS = (2, 3)
TOKENIZER_TEXTS, QUICK_TOKENIZER_TEXTS = 4000, 300

DEVICE_NODES = Path("/dev")  # where an NVIDIA (nvidia0...) or ROCm (kfd) device node would be
# Per framework: a snippet that prints "gpu" when that framework sees an accelerator.
_GPU_PROBES = {
    "torch": "import torch; print('gpu' if torch.cuda.is_available() else 'cpu')",
    "jax": "import jax; print('gpu' if any(d.platform in ('gpu', 'cuda', 'rocm') for d in jax.devices()) else 'cpu')",
    "tensorflow": "import tensorflow as tf; print('gpu' if tf.config.list_physical_devices('GPU') else 'cpu')",
}


@dataclass
class Plan:
    rows: list[RowSpec]
    tools: list[ToolSpec]
    device: str
    skipped: list[str] = field(default_factory=list)  # what the defaults left out, and why

    def __len__(self) -> int:
        return len(self.rows) + len(self.tools)


def installed_backends() -> list[str]:
    from ..cli.runners import installed_backends as installed

    return installed()


def hf_installed() -> bool:
    return importlib.util.find_spec("transformers") is not None


def detect_device() -> str:
    """"gpu" when an installed framework sees one, else "cpu". Without an NVIDIA or ROCm device node
    there is nothing to see, and no framework is imported; otherwise each installed framework is
    asked in a child process (this process imports none)."""
    nodes = [p for pattern in ("nvidia[0-9]*", "kfd") for p in DEVICE_NODES.glob(pattern)]
    if not nodes and not shutil.which("nvidia-smi"):
        return "cpu"
    for module, probe in _GPU_PROBES.items():
        if importlib.util.find_spec(module) is None:
            continue
        try:
            out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            continue
        if out.returncode == 0 and out.stdout.strip().endswith("gpu"):
            return "gpu"
    return "cpu"


def resolve_model(model: str) -> str:
    """A preset name as given, or a config.json / model folder as an absolute path (the child runs
    elsewhere in the tree); anything else is refused here, before any row starts."""
    from ..presets import PRESETS

    if model.split("/")[-1] in PRESETS and not Path(model).exists():
        return model.split("/")[-1]
    path = Path(model)
    if path.is_file() or (path.is_dir() and (path / "config.json").is_file()):
        return str(path.resolve())
    raise ConfigError(f"--model {model!r} is neither a preset ({', '.join(PRESETS)}) nor a config.json file or a folder holding one")


def _choose(name: str, given: Iterable | None, allowed: Sequence, default: Sequence) -> tuple:
    if given is None:
        return tuple(default)
    given = tuple(given)
    unknown = [g for g in given if g not in allowed]
    if unknown:
        raise ConfigError(f"--{name}: unknown {', '.join(map(str, unknown))}; known: {', '.join(map(str, allowed))}")
    return given


def _positive(name: str, values: Iterable[int] | None) -> tuple[int, ...] | None:
    if values is None:
        return None
    values = tuple(int(v) for v in values)
    if not values or min(values) < 1:
        raise ConfigError(f"--{name} must be positive integers, got {list(values)}")
    return values


def build_plan(
    *,
    quick: bool = False,
    device: str = "cpu",
    model: str = "albert-base-v2",
    backends: Iterable[str] | None = None,
    impls: Iterable[str] | None = None,
    suites: Iterable[str] | None = None,
    precisions: Iterable[str] | None = None,
    variants: Iterable[str] | None = None,
    batches: Iterable[int] | None = None,
    seqs: Iterable[int] | None = None,
    warmup: int | None = None,
    iters: int | None = None,
    installed: Sequence[str] | None = None,
    hf: bool | None = None,
) -> Plan:
    """The rows of one run. `installed` / `hf` default to what this environment has (tests pass them)."""
    if device not in ITERATIONS:
        raise ConfigError(f"--device must be one of {list(ITERATIONS)}, got {device!r}")
    installed = list(installed_backends() if installed is None else installed)
    hf = hf_installed() if hf is None else hf
    model = resolve_model(model)
    skipped = []

    chosen_backends = _choose("backends", backends, BACKENDS, [b for b in BACKENDS if b in installed])
    if backends is None:
        skipped += [f"{b} backend: not installed (pip install 'albert[{b}]')" for b in BACKENDS if b not in installed]
    chosen_impls = _choose("impls", impls, IMPLS, IMPLS if hf else ("albert",))
    if impls is None and not hf:
        skipped.append("HF transformers rows: transformers is not installed")
    default_suites = ("inference", "tokenizer") if quick else ALL_SUITES
    chosen_suites = _choose("suites", suites, ALL_SUITES, default_suites)
    default_precisions = ("fp32",) if quick else ("fp32", "bf16", "fp16") if device == "gpu" else ("fp32", "bf16")
    chosen_precisions = _choose("precisions", precisions, PRECISIONS, default_precisions)
    all_variants = sorted({v for names in VARIANTS.values() for v in names})
    chosen_variants = None if variants is None else set(_choose("variants", variants, all_variants, ()))
    batches, seqs = _positive("batches", batches), _positive("seqs", seqs)
    default_warmup, default_iters = QUICK_ITERATIONS if quick else ITERATIONS[device]
    warmup = default_warmup if warmup is None else int(warmup)
    iters = default_iters if iters is None else int(iters)
    if warmup < 0 or iters < 1:
        raise ConfigError(f"--warmup must be ≥ 0 and --iters ≥ 1, got {warmup} and {iters}")

    rows = []
    for suite in (s for s in SUITES if s in chosen_suites):
        grid = [QUICK_SHAPE] if quick else TRAINING_SHAPES if suite == "training" else INFERENCE_SHAPES
        if batches or seqs:
            grid = [(b, s) for b in (batches or sorted({b for b, _ in grid})) for s in (seqs or sorted({s for _, s in grid}))]
        for backend in chosen_backends:
            for impl in chosen_impls:
                names = VARIANTS[(backend, impl)]
                if chosen_variants is not None:
                    names = tuple(v for v in names if v in chosen_variants)
                elif quick:
                    names = names[:1]  # the default path only
                for variant in names:
                    if suite == "inference" and variant in TRAINING_ONLY:
                        continue
                    if variant in FP32_CPU_INFERENCE_ONLY and (suite != "inference" or device != "cpu"):
                        continue
                    for precision in chosen_precisions:
                        if variant in FP32_CPU_INFERENCE_ONLY and precision != "fp32":
                            continue
                        for batch, seq in grid:
                            rows.append(RowSpec(suite, backend, impl, variant, precision, batch, seq, model, warmup, iters, device))
    rows.sort(key=_interleave_key)

    repeats = 3 if quick else 5
    tools = []
    if "tokenizer" in chosen_suites:
        tools.append(ToolSpec("tokenizer", repeats=repeats, texts=QUICK_TOKENIZER_TEXTS if quick else TOKENIZER_TEXTS))
    if "checkpoint" in chosen_suites:
        tools.append(ToolSpec("checkpoint", repeats=1 if quick else 3, model=model))
    if not rows and not tools:
        raise ConfigError("the filters leave no row to run")
    return Plan(rows, tools, device, skipped)


def _interleave_key(spec: RowSpec) -> tuple:
    """Rows that are compared with each other (same suite, shape and precision) run side by side,
    so the machine's drift over minutes falls between comparisons, not inside one."""
    variants = VARIANTS[(spec.backend, spec.impl)]
    return (
        SUITES.index(spec.suite),
        PRECISIONS.index(spec.precision),
        spec.batch,
        spec.seq,
        BACKENDS.index(spec.backend),
        IMPLS.index(spec.impl),
        variants.index(spec.variant),
    )
