"""albert_torch's rows of `albert bench`: `run_row(spec) -> RowResult` (albert_core.bench.spec).

One row = one model, variant, precision and shape, measured in this process:

- impl "albert": this project's models; impl "hf": HF transformers' PyTorch ALBERT. Both hold the
  seeded canonical state of albert_core.bench.rows (the one albert_tf's and albert_flax's rows hold)
  and get its ids and labels, so they compute the same function on the same inputs.
- inference: AlbertModel in eval mode, `model(input_ids=ids, attention_mask=mask)` under
  `torch.inference_mode()` (the README's call, without gradients). training: AlbertForMaskedLM in
  train mode, 15% of each row's positions labelled, one call = forward with `labels=`, backward,
  `torch.optim.AdamW` step (lr 1e-4) and `zero_grad`, the step albert_torch.training takes.
- variants: "sdpa" (the default), "eager" attention, "sdpa+compile" (`torch.compile(model)`),
  "sdpa+checkpointing" (`model.gradient_checkpointing_enable()`, training only), "sdpa+onednn"
  (`model.enable_onednn_inference()`, float32 CPU inference only).
- precision: fp32; bf16 / fp16 inference casts the model (`from_pretrained(dtype=...)` in
  docs/torch.md); bf16 / fp16 training keeps float32 parameters and AdamW state and runs the forward
  under `torch.autocast` (fp16 with a GradScaler), as albert_torch.training does.

The calls and the memory window follow albert_core.bench.memory's rule (rows.measure). A row that
cannot run here (no GPU, fp16 on CPU, transformers missing, a variant that means nothing for the
suite, ...) comes back as RowResult(error=...); run_row does not raise.
"""

from __future__ import annotations

import contextlib
import statistics
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from albert_core.bench import rows
from albert_core.bench.rows import LEARNING_RATE, load_config, random_state, row_head, row_inputs
from albert_core.bench.shapes import Gemm, distinct_products, gemms_for
from albert_core.bench.spec import RowResult, RowSpec
from albert_core.config import AlbertConfig
from albert_core.schema import Head, tensor_specs

from .onednn import OneDNNLinear

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
FLOOR_SEED = 2
FLOOR_WARMUP, FLOOR_REPEATS = 2, 5


@dataclass(frozen=True)
class Variant:
    attention: str  # "sdpa" or "eager"
    compile: bool = False  # torch.compile(model)
    checkpointing: bool = False  # model.gradient_checkpointing_enable()
    onednn: bool = False  # model.enable_onednn_inference()


VARIANT_OPTIONS = {
    "sdpa": Variant("sdpa"),
    "eager": Variant("eager"),
    "sdpa+compile": Variant("sdpa", compile=True),
    "sdpa+checkpointing": Variant("sdpa", checkpointing=True),
    "sdpa+onednn": Variant("sdpa", onednn=True),
}


def cannot_run(spec: RowSpec) -> str | None:
    """Why this row cannot run in this process (None: it can)."""
    if spec.backend != "torch":
        return f"albert_torch.bench runs torch rows, got backend {spec.backend!r}"
    if spec.device not in ("cpu", "gpu"):
        return f"RowSpec.device must be 'cpu' or 'gpu', got {spec.device!r}"
    if spec.device == "gpu" and not torch.cuda.is_available():
        return f"no CUDA GPU visible to torch {torch.__version__}"
    if spec.precision == "fp16" and spec.device == "cpu":
        return "fp16 rows run on GPU only (on CPU the fast low precision is bf16)"
    if spec.precision == "bf16" and spec.device == "gpu" and not torch.cuda.is_bf16_supported():
        return f"this GPU ({torch.cuda.get_device_name()}) has no bfloat16 support"
    if spec.suite == "inference" and VARIANT_OPTIONS[spec.variant].checkpointing:
        return "gradient checkpointing is a training variant: without gradients there is nothing to recompute (the row would be the sdpa one)"
    if VARIANT_OPTIONS[spec.variant].onednn and (spec.suite != "inference" or spec.device != "cpu" or spec.precision != "fp32"):
        return "the oneDNN packed linear serves gradient-free float32 CPU forwards only (elsewhere the row would be the sdpa one)"
    return None


def torch_device(spec: RowSpec) -> torch.device:
    return torch.device("cuda" if spec.device == "gpu" else "cpu")


# ----- models and inputs --------------------------------------------------------------------------
def make_batch(spec: RowSpec, config: AlbertConfig, device: torch.device) -> dict[str, torch.Tensor]:
    """rows.row_inputs as int64 tensors on `device`."""
    inputs = row_inputs(config, spec.suite, spec.batch, spec.seq)
    return {name: torch.from_numpy(array).long().to(device) for name, array in inputs.items()}


def build_model(spec: RowSpec, config: AlbertConfig) -> torch.nn.Module:
    """The row's model in float32 on the CPU holding rows.random_state, before any variant switch:
    ours (AlbertModel / AlbertForMaskedLM) or HF transformers' class of the same name."""
    import albert_torch

    variant = VARIANT_OPTIONS[spec.variant]
    head = row_head(spec.suite)
    cls = albert_torch.MODEL_FOR_HEAD[head]
    state = random_state(config, head)
    if spec.impl == "hf":
        return hf_model_with_state(config, head, cls.__name__, variant.attention, state, cls.canonical_prefix)
    with torch.device("meta"):  # as from_pretrained: no random init of tensors about to be replaced
        model = cls(config, attn_implementation=variant.attention)
    model.load_canonical_state(state)
    return model


def hf_model_with_state(config: AlbertConfig, head: Head, class_name: str, attention: str, state, prefix: str) -> torch.nn.Module:
    """HF transformers' `class_name` with `attention`, holding the canonical `state` (float32)."""
    # The bench runner starts torch rows with USE_TF=0 USE_FLAX=0 (albert_core.bench.runner); a
    # library call must not change the caller's environment (it would hide HF's TF classes).
    try:
        import transformers
    except ImportError as exc:
        raise RuntimeError(f"the hf rows need HF transformers, which is not importable here ({exc})") from exc
    if head is Head.MASKED_LM and config.mlm_layer_norm_eps not in (None, config.layer_norm_eps):
        raise ValueError(f"HF transformers cannot represent mlm_layer_norm_eps={config.mlm_layer_norm_eps} (it uses layer_norm_eps)")
    model = getattr(transformers, class_name)(transformers.AlbertConfig(**config.to_dict(), attn_implementation=attention))
    # Canonical names minus our prefix are HF's (HF's bare AlbertModel has no `albert.`); the state
    # holds no tied tensors (the MLM decoder): tie_weights makes them.
    weights = {name[len(prefix) :]: torch.from_numpy(value) for name, value in state.items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    tied = {s.name for s in tensor_specs(config, head) if s.tied_to is not None}
    missing = [k for k in missing if prefix + k not in tied]
    if missing or unexpected:
        raise RuntimeError(f"HF {class_name} did not take the state: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    return model


def synchronizer(device: torch.device) -> Callable[[], None]:
    """What a timed call ends with so the clock sees finished work (CPU ops are synchronous)."""
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def inference_call(model, batch, sync) -> Callable[[], torch.Tensor]:
    def call():
        with torch.inference_mode():
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        sync()
        return out

    return call


def training_call(model, batch, precision: str, device: torch.device, sync) -> Callable[[], torch.Tensor]:
    """One optimizer step in albert_torch.training's idiom (AdamW; autocast for bf16/fp16, with a
    GradScaler for fp16). `model` is what the user calls (maybe compiled); the optimizer holds the
    parameters, shared with the compiled wrapper."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    autocast = contextlib.nullcontext if precision == "fp32" else (lambda: torch.autocast(device.type, dtype=DTYPES[precision]))
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None

    def call():
        with autocast():
            loss = model(**batch).loss
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        optimizer.zero_grad(set_to_none=True)
        sync()
        return loss.detach()

    return call


# ----- memory -------------------------------------------------------------------------------------
class CudaWindow:
    """A GPU row's memory window: torch's caching allocator (what tensors hold, not what it reserved)."""

    peak_name = "torch.cuda.max_memory_allocated"
    level_name = "memory_allocated"

    def start(self) -> float:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated() / 2**20

    def peak(self) -> float:
        return torch.cuda.max_memory_allocated() / 2**20


# ----- the GEMM floor -----------------------------------------------------------------------------
@torch.no_grad()  # OneDNNLinear packs only without autograd
def gemm_floor_ms(gemms: list[Gemm], dtype: torch.dtype, device: torch.device, onednn: bool = False) -> float:
    """Σ count × median ms of each distinct product, torch.matmul at `dtype` on `device`; with
    `onednn`, the 2-D products (the linear layers') through OneDNNLinear's packed path as the row's."""
    sync = synchronizer(device)
    # On a GPU one product takes microseconds: time several between synchronisations.
    inner = 10 if device.type == "cuda" else 1
    generator = torch.Generator().manual_seed(FLOOR_SEED)
    total = 0.0
    for (batch, m, k, n), count in distinct_products(gemms).items():
        lead = (batch,) if batch > 1 else ()
        a = torch.randn(*lead, m, k, generator=generator).to(device, dtype)
        b = torch.randn(*lead, k, n, generator=generator).to(device, dtype)
        product = lambda a, b=b: torch.matmul(a, b)  # noqa: E731
        if onednn and batch == 1:
            product = OneDNNLinear(k, n, bias=False, device="meta")
            product.weight = nn.Parameter(b.T.contiguous(), requires_grad=False)
        for _ in range(FLOOR_WARMUP):
            product(a)
        sync()
        samples = []
        for _ in range(FLOOR_REPEATS):
            start = time.perf_counter()
            for _ in range(inner):
                product(a)
            sync()
            samples.append((time.perf_counter() - start) * 1e3 / inner)
        total += count * statistics.median(samples)
        del a, b
    return total


# ----- torch.compile bookkeeping ------------------------------------------------------------------
def compile_counters() -> dict[str, int]:
    """Dynamo's process-wide counts: graphs compiled, inductor FX-graph cache hits and misses."""
    from torch._dynamo.utils import counters

    return {
        "graphs": counters["stats"]["unique_graphs"],
        "cache hits": counters["inductor"]["fxgraph_cache_hit"],
        "cache misses": counters["inductor"]["fxgraph_cache_miss"],
    }


def counter_changes(counters: Callable[[], dict[str, int]], before: dict[str, int]) -> dict[str, int]:
    return {name: value - before[name] for name, value in counters().items()}


# ----- one row ------------------------------------------------------------------------------------
def versions(spec: RowSpec) -> dict[str, str]:
    found = {"torch": torch.__version__}
    if spec.impl == "hf":
        try:
            import transformers

            found["transformers"] = transformers.__version__
        except ImportError:
            pass
    if spec.device == "gpu" and torch.cuda.is_available():
        found["cuda"] = str(torch.version.cuda)
        found["gpu"] = torch.cuda.get_device_name()
    return found


def run_row(spec: RowSpec) -> RowResult:
    """Measure one torch row; a row that cannot run returns RowResult(error=...) instead of raising."""
    problem = cannot_run(spec)
    if problem is not None:
        return RowResult(spec, versions=versions(spec), error=problem)
    try:
        return _measure(spec)
    except Exception as exc:  # the orchestrator needs a result line for every row, whatever failed
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return RowResult(
            spec,
            versions=versions(spec),
            error=f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})",
        )


def _measure(spec: RowSpec) -> RowResult:
    config = load_config(spec.model)
    device = torch_device(spec)
    variant = VARIANT_OPTIONS[spec.variant]
    dtype = DTYPES[spec.precision]
    sync = synchronizer(device)
    torch.manual_seed(rows.DROPOUT_SEED)
    model = build_model(spec, config).to(device)
    batch = make_batch(spec, config, device)
    notes = []
    reference = None  # low-precision inference: the same weights' float32 last_hidden_state
    onednn_linears = False  # the model's linears are OneDNNLinear (variant, or the AMD default)
    if spec.suite == "inference":
        model.eval()
        notes.append("eval mode, torch.inference_mode()")
        if variant.onednn:
            model.enable_onednn_inference()
            notes.append("model.enable_onednn_inference(): linear layers through oneDNN on pre-packed weights")
        onednn_linears = any(isinstance(m, OneDNNLinear) for m in model.modules())
        if onednn_linears and not variant.onednn:
            notes.append("linear layers through oneDNN on pre-packed weights (on by default on this AMD CPU: albert_torch.onednn)")
        if spec.precision != "fp32":
            reference = inference_call(model, batch, sync)().float()
            model.to(dtype)
            notes.append(f"weights and activations {dtype} (model.to({dtype}), as from_pretrained(dtype=...))")
    else:
        model.train()
        if variant.checkpointing:
            model.gradient_checkpointing_enable()
        if spec.precision != "fp32":
            scaler = " and a GradScaler" if spec.precision == "fp16" else ""
            notes.append(f"float32 parameters and AdamW state, forward under torch.autocast({dtype}){scaler}, as albert_torch.training")
    runnable = torch.compile(model) if variant.compile else model
    # OneDNNLinear's packed path serves eager gradient-free float32 CPU calls (compiled ones trace nn.Linear).
    runs_onednn = onednn_linears and spec.precision == "fp32" and device.type == "cpu" and not variant.compile
    if spec.suite == "inference":
        call = inference_call(runnable, batch, sync)
    else:
        call = training_call(runnable, batch, spec.precision, device, sync)

    # Dynamo's counts during the first call, and from its end to the last timed call (compiled rows only).
    counters = compile_counters if variant.compile else dict
    compiles: dict[str, dict[str, int]] = {}

    def first_call():
        before = counters()
        call()
        compiles["first"], compiles["after first"] = counter_changes(counters, before), counters()

    window = CudaWindow() if device.type == "cuda" else None
    measured = rows.measure(call, spec, compiles=variant.compile, window=window, first_call=first_call)
    notes.append(measured.note)
    if variant.compile:
        first, later = compiles["first"], counter_changes(counters, compiles["after first"])
        # Inductor's on-disk cache (on by default) makes a repeated row compile faster: say which it was.
        notes.append(
            "torch.compile(model), default mode; compile_s: the first call minus a timed call's median "
            f"({first['graphs']} graphs, inductor FX-graph cache {first['cache hits']} hits / {first['cache misses']} misses)"
        )
        if later["graphs"]:
            notes.append(f"WARNING: {later['graphs']} graphs were compiled during the warm-up and timed calls")
    max_abs_error = None
    if reference is not None:
        max_abs_error = float((call().float() - reference).abs().max())
        uncompiled = ", uncompiled" if variant.compile else ""
        notes.append(f"max_abs_error: last_hidden_state against the same model's float32 one{uncompiled}")
    floor_ms = gemm_floor_ms(gemms_for(spec.suite, config, spec.batch, spec.seq), dtype, device, onednn=runs_onednn)
    if runs_onednn:
        notes.append("floor: the row's linear-layer GEMMs through OneDNNLinear's packed path, its bmm shapes torch.matmul, float32")
    else:
        notes.append(f"floor: torch.matmul of the row's GEMM/bmm shapes in {dtype}, eager (torch.compile calls the same aten GEMMs)")
    if device.type == "cuda":
        notes.append(f"float32 matmul precision {torch.get_float32_matmul_precision()!r}")
    return RowResult(
        spec,
        times_ms=measured.times_ms,
        floor_ms=floor_ms,
        peak_mib=measured.peak_mib,
        baseline_mib=measured.baseline_mib,
        max_abs_error=max_abs_error,
        compile_s=measured.compile_s,
        versions=versions(spec),
        notes="; ".join(notes),
    )
