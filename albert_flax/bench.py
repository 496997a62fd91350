"""albert_flax's rows of `albert bench`: `run_row(spec) -> RowResult` (albert_core.bench.spec).

What one timed call is, per suite, impl and variant (weights, ids and MLM labels are
albert_core.bench.rows' seeded ones, the same for both impls and every backend; the attention mask
all ones):

- inference, albert, "jit": the README's call, `AlbertModel(config)(input_ids=ids, attention_mask=mask)`
  on numpy inputs: host checks, then the model's cached `jax.jit` forward (eval, no dropout).
- inference, albert, "jit+remat": the same with `remat=True` (it only changes the backward pass, so
  a forward is expected to match "jit": the row shows that it costs nothing).
- inference, hf, "jit": `jax.jit` of HF's `FlaxAlbertModel(...)(input_ids, attention_mask,
  params=p, train=False)` (HF's Flax models are not jitted until the user does it).
- training, albert: `AlbertForMaskedLM`, one step of the training loop's own compiled step
  (`albert_flax.training.train_step.make_train_step` jitted with the state donated, as `train()`
  runs it): forward, loss, backward, AdamW at lr 1e-4 with the loop's defaults (weight decay 0.01
  except biases and LayerNorm, eps 1e-6, no clipping), dropout on (a no-op where the config's
  rates are 0). "jit+remat" builds the model with `remat=True`.
- training, hf: `FlaxAlbertForMaskedLM` with flax's `TrainState` and the same AdamW, the step
  written as HF's `run_mlm_flax.py` example writes it (`jax.value_and_grad` of the masked
  cross-entropy, `state.apply_gradients`), jitted with the state donated.

Precision (docs/flax.md): bf16 / fp16 set the model's compute `dtype`, parameters stay float32;
matmuls run at the backend's default precision except albert's fp32 training step, which the loop
runs at `precision="highest"` (this matters on GPUs only, where JAX's default is TF32). fp16 runs
on GPUs only, with the loop's dynamic loss scaling for albert's training step.

Memory and compile time follow albert_core.bench.memory's rule (rows.measure): the program is
compiled by one call before the memory baseline; `compile_s` is that call's time beyond a warm
call. The floor (`floor_ms`) times the row's GEMM/bmm shapes as jitted `jnp.matmul`
calls, in this process, at the row's dtype and matmul precision.
"""

from __future__ import annotations

import importlib.metadata
import os
import statistics
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

import albert_flax
from albert_core.bench import rows
from albert_core.bench.rows import IGNORE_INDEX, LEARNING_RATE, RowError, load_config, random_state, row_head, row_inputs
from albert_core.bench.shapes import Gemm, distinct_products, gemms_for
from albert_core.bench.spec import RowResult, RowSpec
from albert_core.bench.timing import time_calls
from albert_core.checkpoint.hf_flax_msgpack import params_tree
from albert_core.config import AlbertConfig
from albert_core.schema import Head
from albert_core.training import TrainingArguments, add_loss_counts

from .training.loop import COMPUTE_DTYPES
from .training.optimizer import weight_decay_mask
from .training.state import TrainState
from .training.train_step import make_train_step

FLOOR_SEED = 2
# albert_core.training's masked-LM-only loss: the mean cross-entropy of AlbertForMaskedLM's `logits`
# over the labels that are not -100 (tests/flax/test_bench.py checks it against the model's own loss).
MLM_TASK = "mlm"


# ----- what every row shares --------------------------------------------------------------------


def select_device(spec: RowSpec) -> jax.Device:
    """The JAX device of the row, or RowError naming what this machine lacks."""
    if spec.device not in ("cpu", "gpu"):
        raise RowError(f"RowSpec.device must be one of ['cpu', 'gpu'], got {spec.device!r}")
    try:
        device = jax.devices(spec.device)[0]  # "gpu": CUDA or ROCm
    except RuntimeError as exc:
        raise RowError(f"no {spec.device} device for JAX here ({exc})") from None
    if spec.precision == "fp16" and device.platform == "cpu":
        raise RowError("fp16 rows run on GPUs only (XLA:CPU has no float16 matmul units); use bf16 on CPU")
    capability = getattr(device, "compute_capability", None)
    if spec.precision == "bf16" and capability is not None and float(capability) < 8.0:
        raise RowError(f"bf16 needs compute capability ≥ 8.0 (Ampere); {device.device_kind} has {capability}")
    return device


def versions(spec: RowSpec) -> dict[str, str]:
    """The installed versions the row ran with (read from package metadata: imports nothing)."""
    found = {}
    for package in ("jax", "jaxlib", "flax", "optax") + (("transformers",) if spec.impl == "hf" else ()):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


# ----- the four workloads -----------------------------------------------------------------------


@dataclass
class Workload:
    """One row's timed call and what checking it needs."""

    call: Callable[[], None]  # one inference forward or training step; blocks until its results exist
    result: Callable[[], np.ndarray]  # float32 numpy: the last call's last_hidden_state, or its step's loss
    matmul_precision: Optional[str]  # what the row's matmuls run at (None: JAX's default); the floor uses it
    reference: Optional[Callable[[], np.ndarray]] = None  # inference: the fp32 last_hidden_state of the same weights and inputs
    notes: list[str] = field(default_factory=list)


def build_workload(spec: RowSpec, config: AlbertConfig) -> Workload:
    """The row's model, inputs (and optimizer state), on JAX's default device."""
    builders = {
        ("inference", "albert"): _albert_inference,
        ("inference", "hf"): _hf_inference,
        ("training", "albert"): _albert_training,
        ("training", "hf"): _hf_training,
    }
    return builders[(spec.suite, spec.impl)](spec, config, row_inputs(config, spec.suite, spec.batch, spec.seq))


def _blocked(value):
    return jax.block_until_ready(value)


def albert_model(spec: RowSpec, config: AlbertConfig, **options):
    """albert_flax's model of the row (AlbertModel / AlbertForMaskedLM) holding rows.random_state."""
    head = row_head(spec.suite)
    cls = albert_flax.AlbertModel if head is Head.BASE else albert_flax.AlbertForMaskedLM
    model = cls(config, dtype=COMPUTE_DTYPES[spec.precision], remat=spec.variant == "jit+remat", _do_init=False, **options)
    model.load_canonical_state(random_state(config, head))
    return model


def _albert_inference(spec: RowSpec, config: AlbertConfig, batch: dict) -> Workload:
    model = albert_model(spec, config)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    last: dict[str, Any] = {}

    def call() -> None:
        last["out"] = _blocked(model(input_ids=ids, attention_mask=mask))

    def reference() -> np.ndarray:
        fp32 = albert_flax.AlbertModel(config, _do_init=False)
        fp32.params = model.params
        with jax.default_matmul_precision("highest"):  # true float32 on GPUs too
            return np.asarray(fp32(input_ids=ids, attention_mask=mask).last_hidden_state, np.float32)

    notes = ["model(input_ids=ids, attention_mask=mask) on numpy inputs (the README's call)"]
    if spec.variant == "jit+remat":
        notes.append("remat=True (it changes only the backward pass)")
    return Workload(call, lambda: np.asarray(last["out"].last_hidden_state, np.float32), None, reference, notes)


def _transformers():
    # Without these, transformers 4.x also imports torch and TensorFlow when installed (+0.5 GiB);
    # they only act if it was not imported yet in this process.
    os.environ.setdefault("USE_TORCH", "0")
    os.environ.setdefault("USE_TF", "0")
    try:
        import transformers
    except ImportError as exc:
        raise RowError(f"the hf rows need HF transformers ({exc}): pip install transformers") from None
    if not transformers.is_flax_available():
        raise RowError("transformers was imported without Flax support (USE_FLAX=0 in this process)")
    return transformers


def _hf_model(class_name: str, config: AlbertConfig, head: Head, precision: str):
    """HF's Flax model of `class_name` and its parameter tree holding the same canonical weights as
    albert's rows (HF's Flax tree is ours, tied copies left out)."""
    transformers = _transformers()
    hf_config = transformers.AlbertConfig(**config.to_dict())
    model = getattr(transformers, class_name)(hf_config, dtype=COMPUTE_DTYPES[precision], _do_init=False)
    params = jax.device_put(params_tree(random_state(config, head), config, head))
    return model, params


def _hf_inference(spec: RowSpec, config: AlbertConfig, batch: dict) -> Workload:
    model, params = _hf_model("FlaxAlbertModel", config, Head.BASE, spec.precision)
    forward = jax.jit(lambda p, i, m: model(input_ids=i, attention_mask=m, params=p, train=False).last_hidden_state)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    last: dict[str, Any] = {}

    def call() -> None:
        last["out"] = _blocked(forward(params, ids, mask))

    def reference() -> np.ndarray:
        fp32, _ = _hf_model("FlaxAlbertModel", config, Head.BASE, "fp32")
        forward32 = jax.jit(lambda p, i, m: fp32(input_ids=i, attention_mask=m, params=p, train=False).last_hidden_state)
        with jax.default_matmul_precision("highest"):  # true float32 on GPUs too
            return np.asarray(forward32(params, ids, mask), np.float32)

    notes = ["jax.jit(FlaxAlbertModel.__call__) with params=, on numpy inputs"]
    if spec.precision != "fp32":
        notes.append(f"HF's dtype={spec.precision} (compute dtype; parameters float32)")
    return Workload(call, lambda: np.asarray(last["out"], np.float32), None, reference, notes)


def adamw(config: AlbertConfig) -> optax.GradientTransformation:
    """AdamW at a constant 1e-4 with the training loop's defaults (TrainingArguments): decay only
    where albert_core's rule says (not biases, not LayerNorm). The rate is a schedule because the
    loop's step reads the rate it used from the optimizer state."""
    args = TrainingArguments(output_dir="unused")
    return optax.adamw(
        optax.constant_schedule(LEARNING_RATE),
        b1=args.adam_b1,
        b2=args.adam_b2,
        eps=args.adam_eps,
        weight_decay=args.weight_decay,
        mask=weight_decay_mask(config, Head.MASKED_LM),
    )


def _albert_training(spec: RowSpec, config: AlbertConfig, batch: dict) -> Workload:
    # The loop's precision policy (albert_flax.training.loop.train): fp32 at the highest matmul precision.
    precision = "highest" if spec.precision == "fp32" else None
    model = albert_model(spec, config, precision=precision)
    tx = adamw(config)
    schedule = optax.constant_schedule(LEARNING_RATE)
    step = jax.jit(make_train_step(model, tx, schedule, MLM_TASK, dropout=True, seed=rows.DROPOUT_SEED), donate_argnums=0)
    (counted,) = add_loss_counts(MLM_TASK, [batch])
    # One micro-batch per step, stacked as the loop stacks the step's micro-batches.
    stacked = jax.device_put({k: np.asarray(v)[None] for k, v in counted.items()})
    # The state's parameters are the model's arrays; each step donates them (model.params is not used again).
    holder = {"state": TrainState.create(model.params, tx, float16=spec.precision == "fp16"), "metrics": None}

    def call() -> None:
        holder["state"], holder["metrics"] = _blocked(step(holder["state"], stacked))

    notes = ["the training loop's jitted step (make_train_step, state donated), AdamW lr 1e-4, no clipping"]
    if spec.variant == "jit+remat":
        notes.append("remat=True: each layer step recomputed in the backward pass")
    if spec.precision == "fp16":
        notes.append("dynamic loss scaling (the loop's)")
    return Workload(call, lambda: np.asarray(holder["metrics"]["loss"], np.float32), precision, None, notes)


def _hf_training(spec: RowSpec, config: AlbertConfig, batch: dict) -> Workload:
    from flax.training import train_state

    model, params = _hf_model("FlaxAlbertForMaskedLM", config, Head.MASKED_LM, spec.precision)
    state = train_state.TrainState.create(apply_fn=model.__call__, params=params, tx=adamw(config))
    labels = jax.device_put(batch["labels"])
    inputs = jax.device_put({"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]})

    def train_step(state, inputs, labels, dropout_rng):
        dropout_rng, next_rng = jax.random.split(dropout_rng)

        def loss_fn(params):
            logits = state.apply_fn(**inputs, params=params, dropout_rng=dropout_rng, train=True)[0]
            valid = labels != IGNORE_INDEX
            per_token = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), jnp.where(valid, labels, 0))
            return jnp.sum(jnp.where(valid, per_token, 0.0)) / jnp.sum(valid)

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        return state.apply_gradients(grads=grads), loss, next_rng

    step = jax.jit(train_step, donate_argnums=0)
    holder = {"state": state, "rng": jax.random.PRNGKey(rows.DROPOUT_SEED), "loss": None}

    def call() -> None:
        holder["state"], holder["loss"], holder["rng"] = _blocked(step(holder["state"], inputs, labels, holder["rng"]))

    notes = ["HF run_mlm_flax-style step: value_and_grad of the masked cross-entropy (float32 logits), "
             "flax TrainState.apply_gradients, jitted with the state donated; AdamW lr 1e-4"]
    if spec.precision == "fp16":
        notes.append("no loss scaling (HF's example has none)")
    return Workload(call, lambda: np.asarray(holder["loss"], np.float32), None, None, notes)


# ----- the floor ---------------------------------------------------------------------------------


def gemm_floor_ms(gemms: list[Gemm], dtype, precision: Optional[str], warmup: int, iters: int) -> float:
    """Σ count × median ms of each distinct product shape, as a jitted jnp.matmul at `dtype` and
    `precision` on random operands (JAX's default device)."""
    matmul = jax.jit(lambda a, b: jnp.matmul(a, b, precision=precision))
    total = 0.0
    key = jax.random.PRNGKey(FLOOR_SEED)
    for (batch, m, k, n), count in distinct_products(gemms).items():
        lead = (batch,) if batch > 1 else ()
        key, left, right = jax.random.split(key, 3)
        a = jax.random.normal(left, lead + (m, k), dtype)
        b = jax.random.normal(right, lead + (k, n), dtype)
        times = time_calls(lambda: _blocked(matmul(a, b)), warmup, iters)
        total += count * statistics.median(times)
        del a, b
    return total


# ----- the row -----------------------------------------------------------------------------------


class XlaGpuWindow:
    """A GPU row's memory window: the XLA allocator's statistics of `device`."""

    peak_name = "the XLA allocator's peak_bytes_in_use (JAX cannot reset it: the process's peak, loading included)"
    level_name = "bytes_in_use"

    def __init__(self, device: jax.Device):
        self.device = device

    def start(self) -> float:
        return self.device.memory_stats()["bytes_in_use"] / 2**20

    def peak(self) -> float:
        return self.device.memory_stats()["peak_bytes_in_use"] / 2**20


def _measure(spec: RowSpec) -> RowResult:
    if spec.backend != "flax":
        raise RowError(f"albert_flax.bench runs the flax rows, got backend {spec.backend!r}")
    device = select_device(spec)
    config = load_config(spec.model)
    result = RowResult(spec, versions=versions(spec))
    with jax.default_device(device):
        work = build_workload(spec, config)
        measured = rows.measure(work.call, spec, compiles=True, window=None if device.platform == "cpu" else XlaGpuWindow(device))
        result.times_ms, result.compile_s = measured.times_ms, measured.compile_s
        result.baseline_mib, result.peak_mib = measured.baseline_mib, measured.peak_mib
        if spec.suite == "inference" and spec.precision != "fp32":
            result.max_abs_error = float(np.max(np.abs(work.result() - work.reference())))
        result.floor_ms = gemm_floor_ms(
            gemms_for(spec.suite, config, spec.batch, spec.seq),
            COMPUTE_DTYPES[spec.precision],
            work.matmul_precision,
            warmup=2,
            iters=max(3, spec.iters),
        )
    precision = work.matmul_precision or "JAX's default"
    if work.matmul_precision is None and spec.precision == "fp32" and device.platform == "gpu":
        precision += " (TF32 passes on this GPU)"
    result.notes = "; ".join(
        work.notes + [measured.note, f"matmul precision: {precision}", f"device: {device.device_kind}"]
    )
    return result


def run_row(spec: RowSpec) -> RowResult:
    """Measure one flax row; a row that cannot run here comes back with `error` set, never raised."""
    try:
        return _measure(spec)
    except RowError as exc:
        return RowResult(spec, versions=versions(spec), error=f"RowError: {exc}")
    except Exception as exc:  # the orchestrator records every row, failed ones with their reason
        # Out of memory, a bad config, an input the model refuses, or a bug: where it happened too.
        where = "".join(traceback.format_exception(exc)[-3:]).strip()
        return RowResult(spec, versions=versions(spec), error=f"{type(exc).__name__}: {exc}\n{where}")
