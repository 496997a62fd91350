"""The TensorFlow rows of `albert bench`: `run_row(spec) -> RowResult` (albert_core.bench's contract).

Two implementations, each holding albert_core.bench.rows' seeded canonical state and inputs (the
same as every backend's rows, so a row of one and the same row of another run the same model):

- impl "albert", this project's Keras 3 models (albert_tf):
    inference "xla"   `model.predict_on_batch({"input_ids", "attention_mask"})`: the README's call
                      (Keras' predict step, XLA-compiled, inputs checked, numpy out)
    inference "eager" `model({"input_ids", "attention_mask"}, training=False)`: the plain Keras call
    training  "xla"   `model.compile(optimizer=keras.optimizers.AdamW(1e-4))` then
                      `model.train_on_batch(x, labels)`: docs/tf.md's fit idiom, XLA-compiled step
    training  "eager" the same with `compile(..., run_eagerly=True)`: no tf.function at all
- impl "hf", HF transformers' TFAlbertModel / TFAlbertForMaskedLM (tf_keras), loaded with
  `from_pretrained` from a tf_model.h5 of the same canonical state:
    "eager"    the plain model call / `train_on_batch` with `run_eagerly=True`
    "function" the call under `tf.function` / `train_on_batch` (tf_keras' graph step, jit_compile=False)
    "xla"      the call under `tf.function(jit_compile=True)` / `train_on_batch` with jit_compile=True

Low precision is each side's Keras mixed-precision policy, the path docs/tf.md gives users:
`mixed_bfloat16` (`mixed_float16` on GPU, where compile wraps the optimizer in a loss-scale
optimizer), set globally while the model is built and run, and restored afterwards.

Memory and compile time follow albert_core.bench.memory's rule (rows.measure): the first call
(tracing, XLA compilation, the optimizer's variables) runs before the baseline, then the warm-up
and timed calls in the window. On CPU the window is the RSS peak; on GPU TensorFlow's allocator
peak (tf.config.experimental.get_memory_info).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, Callable

import numpy as np

from albert_core.bench import rows
from albert_core.bench.rows import LEARNING_RATE, RowError, load_config, random_state, row_head, row_inputs
from albert_core.bench.shapes import Gemm, distinct_products, gemms_for
from albert_core.bench.spec import RowResult, RowSpec
from albert_core.config import AlbertConfig
from albert_core.schema import Head

from ._backend import require_tensorflow_backend

keras, tf = require_tensorflow_backend()

FLOOR_WARMUP, FLOOR_REPEATS, FLOOR_INNER = 2, 5, 8
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
FLOOR_DTYPES = {"fp32": tf.float32, "bf16": tf.bfloat16, "fp16": tf.float16}
# Which matmul the floor times, per row: the framework's own primitive, compiled as the row is.
FLOOR_MODES = {("albert", "xla"): "xla", ("albert", "eager"): "eager", ("hf", "eager"): "eager", ("hf", "function"): "function", ("hf", "xla"): "xla"}


# ----- device and precision ----------------------------------------------------------------------------
def _device_name(spec: RowSpec) -> str:
    """'/GPU:0' or '/CPU:0' for the row; RowError when the device or its precision is missing."""
    gpus = tf.config.list_physical_devices("GPU")
    if spec.device == "cpu":
        if gpus:
            with contextlib.suppress(RuntimeError):  # too late once TF has started: tf.device still pins the ops
                tf.config.set_visible_devices([], "GPU")
        if spec.precision == "fp16":
            raise RowError("fp16 runs on GPU only; on CPU use bf16")
        return "/CPU:0"
    if spec.device != "gpu":
        raise RowError(f"RowSpec.device must be 'cpu' or 'gpu', got {spec.device!r}")
    if not gpus:
        raise RowError("no GPU visible to TensorFlow (tensorflow-cpu, or no CUDA device)")
    if spec.precision == "bf16":
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        if capability is not None and tuple(capability) < (8, 0):
            raise RowError(f"bf16 needs a GPU of compute capability ≥ 8.0; this one is {capability[0]}.{capability[1]}")
    return "/GPU:0"


@contextlib.contextmanager
def _global_policy(mixed_precision, name: str):
    """Keras' (or tf_keras') global dtype policy set to `name` inside the block, restored after."""
    previous = mixed_precision.global_policy()
    mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        mixed_precision.set_global_policy(previous)


def _cpu_bf16_flags() -> str:
    """The CPU's native bf16 features (AMX, AVX-512 BF16) from /proc/cpuinfo, for the notes."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    found = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    return ", ".join(found) or "none (TensorFlow emulates bf16 matmuls)"


class TfGpuWindow:
    """A GPU row's memory window: TensorFlow's allocator on GPU:0."""

    peak_name = "TensorFlow's GPU allocator peak"
    level_name = "its current figure"

    def start(self) -> float:
        tf.config.experimental.reset_memory_stats("GPU:0")
        return tf.config.experimental.get_memory_info("GPU:0")["current"] / 2**20

    def peak(self) -> float:
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20


# ----- the rows' calls ------------------------------------------------------------------------------------
@dataclass
class PreparedRow:
    """One row, built: `call()` runs one timed call and returns its output (inference: the
    last_hidden_state; training: the step's loss). `compiles`: its first call traces or compiles."""

    call: Callable[[], Any]
    compiles: bool
    description: str


def _as_float32(value) -> np.ndarray:
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value).astype(np.float32)


def albert_model(spec: RowSpec, config: AlbertConfig, state: dict):
    import albert_tf

    keras.utils.set_random_seed(rows.DROPOUT_SEED)  # dropout seeds; the weights come from `state`
    cls = albert_tf.AlbertModel if row_head(spec.suite) is Head.BASE else albert_tf.AlbertForMaskedLM
    model = cls(config)
    model.load_canonical_state(state)
    return model


def prepare_albert(spec: RowSpec, config: AlbertConfig, state: dict, inputs: dict) -> PreparedRow:
    """albert_tf's row (call inside the row's dtype policy and device scope)."""
    features = {k: inputs[k] for k in ("input_ids", "attention_mask")}
    model = albert_model(spec, config, state)
    if spec.suite == "inference":
        if spec.variant == "xla":
            return PreparedRow(
                lambda: model.predict_on_batch(features)["last_hidden_state"], True, "AlbertModel.predict_on_batch (Keras predict step, XLA)"
            )
        return PreparedRow(lambda: model(features, training=False)["last_hidden_state"], False, "AlbertModel plain call, training=False (eager)")
    eager = spec.variant == "eager"
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=LEARNING_RATE), **({"run_eagerly": True} if eager else {}))
    model.optimizer.build(model.trainable_variables)  # Adam's moments exist before the memory baseline
    labels = inputs["labels"]
    how = f"run_eagerly={model.run_eagerly}, jit_compile={model.jit_compile}"  # as Keras resolved them
    return PreparedRow(
        lambda: model.train_on_batch(features, labels), not eager, f"AlbertForMaskedLM compile(AdamW(1e-4)) + train_on_batch ({how})"
    )


def _hf_modules():
    """transformers (TF classes) and tf_keras, imported now; RowError if this process hid TF from it."""
    if "transformers" not in sys.modules:
        # Its TF classes only: importing torch and JAX would add ≈ 550 MiB to the row's baseline.
        os.environ.setdefault("USE_TORCH", "0")
        os.environ.setdefault("USE_FLAX", "0")
    import tf_keras
    import transformers

    if not transformers.is_tf_available():
        raise RowError("transformers was imported with USE_TF=0 in this process: its TF classes are unavailable")
    return transformers, tf_keras


def hf_model(spec: RowSpec, config: AlbertConfig, state: dict):
    """HF's TF class of the row holding `state`: written as tf_model.h5 (albert_core's writer) and
    loaded by from_pretrained, the way HF's TF users load weights."""
    from albert_core.checkpoint.hf_tf_h5 import TF_H5_NAME, write_hf_tf_h5

    transformers, _ = _hf_modules()
    if config.position_embedding_type != "absolute":
        raise RowError(f"HF's TF ALBERT has no {config.position_embedding_type!r} position embeddings")
    head = row_head(spec.suite)
    name = "TFAlbertModel" if head is Head.BASE else "TFAlbertForMaskedLM"
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # no "all layers were used" lines around the row's JSON
    try:
        with tempfile.TemporaryDirectory(prefix="albert-bench-hf-") as folder:
            config.save_pretrained(folder)
            write_hf_tf_h5(Path(folder) / TF_H5_NAME, state, config, head)
            return getattr(transformers, name).from_pretrained(folder)
    finally:
        transformers.logging.set_verbosity(verbosity)


def prepare_hf(spec: RowSpec, config: AlbertConfig, state: dict, inputs: dict) -> PreparedRow:
    """HF transformers' TF row (call inside the row's tf_keras dtype policy and device scope)."""
    _, tf_keras = _hf_modules()
    tf_keras.utils.set_random_seed(rows.DROPOUT_SEED)
    model = hf_model(spec, config, state)
    if spec.suite == "inference":
        ids, mask = (tf.constant(inputs[k]) for k in ("input_ids", "attention_mask"))

        def forward(ids, mask):
            return model(input_ids=ids, attention_mask=mask, training=False).last_hidden_state

        if spec.variant == "eager":
            return PreparedRow(lambda: forward(ids, mask), False, "TFAlbertModel plain call, training=False (eager)")
        compiled = tf.function(forward, jit_compile=spec.variant == "xla")
        return PreparedRow(lambda: compiled(ids, mask), True, f"TFAlbertModel call under tf.function(jit_compile={spec.variant == 'xla'})")
    options = {"run_eagerly": True} if spec.variant == "eager" else {"jit_compile": spec.variant == "xla"}
    model.compile(optimizer=tf_keras.optimizers.AdamW(learning_rate=LEARNING_RATE), **options)
    model.optimizer.build(model.trainable_variables)
    data = dict(inputs)  # labels inside x: HF's own loss (its dummy-loss compile)
    how = f"run_eagerly={model.run_eagerly}, jit_compile={model.jit_compile}"
    return PreparedRow(lambda: model.train_on_batch(data), spec.variant != "eager", f"TFAlbertForMaskedLM compile(tf_keras AdamW(1e-4)) + train_on_batch ({how})")


def _policy_scope(spec: RowSpec):
    """The row's dtype policy in the mixed-precision module its implementation builds with."""
    if spec.impl == "albert":
        return _global_policy(keras.mixed_precision, POLICIES[spec.precision])
    return _global_policy(_hf_modules()[1].mixed_precision, POLICIES[spec.precision])


def prepare_row(spec: RowSpec, config: AlbertConfig, state: dict, inputs: dict) -> PreparedRow:
    return (prepare_albert if spec.impl == "albert" else prepare_hf)(spec, config, state, inputs)


def fp32_reference(spec: RowSpec, config: AlbertConfig, state: dict, inputs: dict) -> np.ndarray:
    """The same implementation's fp32 last_hidden_state of the same weights and inputs (plain call)."""
    fp32 = RowSpec(**{**spec.to_dict(), "precision": "fp32", "variant": "eager"})
    with _policy_scope(fp32):
        row = prepare_row(fp32, config, state, inputs)
        return _as_float32(row.call())


# ----- measuring ----------------------------------------------------------------------------------------
def _repeated_matmul(mode: str, count: int):
    """`count` products a @ b back to back in one call: eager, tf.function or XLA. Compiled, they run
    in a while loop whose left operand alternates between two copies, so the product is neither
    hoisted out of the loop nor merged across iterations, and one call's dispatch cost (≈ 0.25 ms
    here, as much as a small attention bmm) is shared by `count` products, as in the model's own program."""
    if mode == "eager":
        return lambda a0, a1, b: tf.matmul(a0, b)

    def products(a0, a1, b):
        def body(i, x, y, c):
            return i + 1, y, x, tf.matmul(x, b)

        c = tf.zeros((*a0.shape[:-1], b.shape[-1]), a0.dtype)
        return tf.while_loop(lambda i, *_: i < count, body, (tf.constant(0), a0, a1, c))[-1]

    return tf.function(products, jit_compile=mode == "xla")


def floor_ms(gemms: list[Gemm], precision: str, mode: str) -> float:
    """Σ count × median time of one product, for each distinct GEMM/bmm shape, run with tf.matmul
    eagerly, under tf.function, or under tf.function(jit_compile=True), as the row runs (call it
    in the row's device scope). Eager products are timed one per call (eager dispatch is part of
    an eager row too); compiled ones FLOOR_INNER per call."""
    dtype, total = FLOOR_DTYPES[precision], 0.0
    inner = 1 if mode == "eager" else FLOOR_INNER
    for (batch, m, k, n), count in distinct_products(gemms).items():
        lead = (batch,) if batch > 1 else ()
        a0 = tf.cast(tf.random.stateless_normal((*lead, m, k), seed=(1, 2)), dtype)
        a1 = tf.cast(tf.random.stateless_normal((*lead, m, k), seed=(5, 6)), dtype)
        b = tf.cast(tf.random.stateless_normal((*lead, k, n), seed=(3, 4)), dtype)
        matmul = _repeated_matmul(mode, inner)
        times = []
        for repeat in range(FLOOR_WARMUP + FLOOR_REPEATS):
            start = time.perf_counter()
            matmul(a0, a1, b)
            tf.test.experimental.sync_devices()
            if repeat >= FLOOR_WARMUP:
                times.append((time.perf_counter() - start) * 1e3 / inner)
        total += count * median(times)
    return total


def _versions(impl: str) -> dict[str, str]:
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__}
    if impl == "hf" and "transformers" in sys.modules:
        import tf_keras
        import transformers

        versions.update(transformers=transformers.__version__, tf_keras=tf_keras.__version__)
    return versions


def _notes(spec: RowSpec, row: PreparedRow, measured: rows.Measured, device: str) -> str:
    """What the reader of the row must know: the exact call, what the memory figure holds, the
    precision path and how the floor was timed."""
    notes = [f"call: {row.description}", measured.note]
    if spec.precision != "fp32":
        module = "keras" if spec.impl == "albert" else "tf_keras"
        notes.append(f"precision: {module}.mixed_precision global policy {POLICIES[spec.precision]} (float32 variables)")
        if device == "/CPU:0":
            notes.append(f"CPU bf16 features: {_cpu_bf16_flags()}")
    if spec.impl == "hf":
        notes.append("weights: the canonical state written as tf_model.h5, loaded by from_pretrained")
    mode = FLOOR_MODES[(spec.impl, spec.variant)]
    per_call = "1 product" if mode == "eager" else f"{FLOOR_INNER} products in a while loop"
    notes.append(f"floor: tf.matmul ({mode}, {per_call} per call), median of {FLOOR_REPEATS} calls after {FLOOR_WARMUP} warm-up, per shape")
    return "; ".join(notes)


def _measure_row(spec: RowSpec) -> RowResult:
    if spec.backend != "tf":
        raise RowError(f"albert_tf.bench runs tf rows; this spec is for backend {spec.backend!r}")
    device = _device_name(spec)
    config = load_config(spec.model)
    state = random_state(config, row_head(spec.suite))
    inputs = row_inputs(config, spec.suite, spec.batch, spec.seq)
    with tf.device(device):
        reference = None
        if spec.suite == "inference" and spec.precision != "fp32":
            reference = fp32_reference(spec, config, state, inputs)
        with _policy_scope(spec):
            row = prepare_row(spec, config, state, inputs)
            outputs = []

            def call():
                outputs[:] = [row.call()]
                tf.test.experimental.sync_devices()

            window = TfGpuWindow() if device.startswith("/GPU") else None
            measured = rows.measure(call, spec, compiles=row.compiles, window=window)
            max_abs_error = None
            if reference is not None:
                max_abs_error = float(np.max(np.abs(_as_float32(outputs[0]) - reference)))
            floor = floor_ms(gemms_for(spec.suite, config, spec.batch, spec.seq), spec.precision, FLOOR_MODES[(spec.impl, spec.variant)])
    return RowResult(
        spec,
        times_ms=measured.times_ms,
        floor_ms=floor,
        peak_mib=measured.peak_mib,
        baseline_mib=measured.baseline_mib,
        max_abs_error=max_abs_error,
        compile_s=measured.compile_s,
        versions=_versions(spec.impl),
        notes=_notes(spec, row, measured, device),
    )


def run_row(spec: RowSpec) -> RowResult:
    """Measure one tf row. A row that cannot run here (device, precision, a model feature HF lacks,
    out of memory) comes back with RowResult.error saying why; anything else is a bug and raises
    (albert_core.bench.child reports it with its traceback)."""
    try:
        return _measure_row(spec)
    except RowError as exc:
        return RowResult(spec, versions=_versions(spec.impl), error=str(exc))
    except (tf.errors.ResourceExhaustedError, MemoryError) as exc:
        return RowResult(spec, versions=_versions(spec.impl), error=f"out of memory: {type(exc).__name__}: {str(exc)[:500]}")
