"""`train`: the Flax training loop (pretraining and the four fine-tuning tasks), single device or
data parallel over every device of every process.

    from albert_flax.training import train
    metrics = train(args, config, train_stream, eval_source=None, init_weights=None)

Per optimizer step: the step's `grad_accum_steps` micro-batches (albert_core.training.training_steps)
are stacked, split by rows over the mesh and fed to one jitted, state-donating step (train_step.py).
Every `log_every` steps a "train" record goes to metrics.jsonl, every `eval_every` steps and at the
end an "eval" record, every `save_every` steps and at the end a checkpoint (canonical weights +
optimizer/train_state.msgpack + trainer_state.json), and at the end the final canonical weights to
output_dir itself. A run started where checkpoints exist continues from the newest one.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Iterable, Mapping, Optional

import jax
import jax.numpy as jnp
import numpy as np

import albert_flax
from albert_core.checkpoint import match_state
from albert_core.config import AlbertConfig
from albert_core.schema import ARCHITECTURES, Head
from albert_core.training import (
    CheckpointDir,
    MetricsLog,
    TrainerState,
    TrainingArguments,
    EvalLoss,
    make_evaluator,
    model_inputs_and_labels,
    plot_loss_curve,
    training_steps,
)
from albert_core.training.arguments import TrainingArgumentError
from albert_core.training.checkpoints import OPTIMIZER_DIR, ResumeError

from ..params import canonical_to_params, initial_state, params_to_canonical
from .distributed import DataParallel, initialize_from_environment, to_host
from .optimizer import make_optimizer, with_schedule_count
from .state import TrainState, read_optimizer_state, write_optimizer_state
from .train_step import make_eval_step, make_train_step

BACKEND = "flax"
COMPUTE_DTYPES = {"fp32": jnp.float32, "bf16": jnp.bfloat16, "fp16": jnp.float16}
# Arguments a resumed run may change without changing the curve it continues.
_FREE_TO_CHANGE = {"output_dir", "max_steps", "log_every", "eval_every", "save_every", "keep_checkpoints", "eval_batches", "progress"}

logger = logging.getLogger(__name__)


def train(
    args: TrainingArguments,
    config: AlbertConfig,
    train_stream,
    eval_source=None,
    init_weights: Optional[Mapping[str, np.ndarray]] = None,
) -> dict[str, float]:
    """Train `args.head`'s model; returns the final metrics ("step", "train_<name>", "eval_<name>")."""
    initialize_from_environment()
    parallel = DataParallel()
    parallel.check_batch_size(train_stream.batch_size)
    head = Head(args.head)
    _check_task_config(args.task, config)
    # fp32 means full float32 matmuls on GPUs/TPUs too (JAX's default there is TF32/bf16 passes).
    model = getattr(albert_flax, ARCHITECTURES[head])(
        config, _do_init=False, dtype=COMPUTE_DTYPES[args.precision], precision="highest" if args.precision == "fp32" else None
    )
    tx, schedule = make_optimizer(args, config)
    log = MetricsLog(args.output_dir)
    checkpoints = CheckpointDir(args.output_dir)

    state, position, seed, last = _starting_state(args, config, head, tx, init_weights, checkpoints)
    step = int(state.step)
    if parallel.is_chief:
        log.truncate_after(step)
    train_stream.seek(position)
    state = parallel.replicate(state)

    train_step = _compile_train_step(make_train_step(model, tx, schedule, args.task, args.dropout, seed), parallel)
    eval_step = jax.jit(make_eval_step(model, args.task), out_shardings=parallel.replicated)
    steps = training_steps(train_stream, args.task, args.grad_accum_steps)
    saved_step = evaluated_step = step if step else None
    bar = _progress(args, step, parallel.is_chief)
    step_metrics = None
    while step < args.max_steps:
        micro_batches = next(steps, None)
        if micro_batches is None:
            logger.warning("the training stream ended after step %d (max_steps %d)", step, args.max_steps)
            break
        state, step_metrics = train_step(state, parallel.shard_step(_stack(args.task, micro_batches)))
        step += 1
        position += args.grad_accum_steps
        bar.update(1)
        if step % args.log_every == 0:
            values = to_host(step_metrics)
            last.update(_prefixed("train", values))
            bar.set_postfix(loss=f"{float(values['loss']):.4f}")
            if parallel.is_chief:
                log.log(step, "train", **values)
        if eval_source is not None and (step % args.eval_every == 0 or step == args.max_steps):
            last.update(_evaluate(eval_step, state.params, eval_source, args, config, parallel, log, step))
            evaluated_step = step
        if step % args.save_every == 0:
            _save(checkpoints, args, config, head, state, step, position, seed, last, parallel)
            saved_step = step
    bar.close()

    if step_metrics is not None:  # the last step's values, logged or not
        last.update(_prefixed("train", to_host(step_metrics)))
    if eval_source is not None and evaluated_step != step:
        last.update(_evaluate(eval_step, state.params, eval_source, args, config, parallel, log, step))
    if saved_step != step:
        _save(checkpoints, args, config, head, state, step, position, seed, last, parallel)
    if parallel.is_chief:
        weights = params_to_canonical(to_host(state.params), config, head)
        checkpoints.save_final(_saved_config(config, head), weights)
        log.write_csv()
        try:
            plot_loss_curve(args.output_dir, title=f"albert_flax {args.task}")
        except ImportError as exc:
            logger.warning("no loss_curve.png: %s", exc)
    return {"step": step, **last}


def _compile_train_step(train_step, parallel: DataParallel):
    """The train step compiled for the mesh: state replicated and donated, batches split by rows."""
    return jax.jit(
        train_step,
        in_shardings=(parallel.replicated, parallel.by_rows),
        out_shardings=(parallel.replicated, parallel.replicated),
        donate_argnums=0,
    )


def _check_task_config(task: str, config: AlbertConfig) -> None:
    """The contract's classification loss is single-label cross-entropy: refuse configs that say otherwise."""
    if task == "classify" and (config.num_labels < 2 or config.problem_type not in (None, "single_label_classification")):
        raise TrainingArgumentError(
            f"task 'classify' trains single-label classification (cross-entropy over num_labels ≥ 2 classes); "
            f"the config has num_labels={config.num_labels}, problem_type={config.problem_type!r}"
        )


def _saved_config(config: AlbertConfig, head: Head) -> AlbertConfig:
    """The config written with the weights names the architecture, so HF's auto classes pick the head."""
    return config.replace(architectures=[ARCHITECTURES[head]])


def _starting_state(args, config, head, tx, init_weights, checkpoints: CheckpointDir):
    """(host TrainState, data position, dropout seed, last metrics) of a new run, or of the newest checkpoint's."""
    float16 = args.precision == "fp16"
    folder = checkpoints.latest()
    if folder is None:
        weights = initial_state(config, head, args.seed) if init_weights is None else init_weights
        params = _params(weights, config, head, args.seed)
        return TrainState.create(params, tx, float16=float16), 0, args.seed, {}
    saved, _, weights = CheckpointDir.load(folder)
    if saved.task != args.task:
        raise ResumeError(f"{folder} is a checkpoint of task {saved.task!r}, this run's task is {args.task!r}: use another output_dir")
    params = _params(weights, config, head, args.seed)
    if saved.backend != BACKEND:
        logger.warning(
            "continuing from the %s backend's checkpoint %s: weights, step and data position carry over, "
            "the optimizer state restarts (the learning-rate schedule continues at step %d)",
            saved.backend, folder, saved.step,
        )
        state = TrainState.create(params, tx, step=saved.step, float16=float16)
        state = state.replace(opt_state=with_schedule_count(state.opt_state, saved.step))
        return state, saved.micro_batches, args.seed, dict(saved.metrics)
    changed = sorted(k for k, v in saved.arguments.items() if k not in _FREE_TO_CHANGE and args.to_dict().get(k) != v)
    if changed:
        logger.warning("resuming %s with changed arguments %s: the curve will differ from an uninterrupted run", folder, changed)
    state = TrainState.create(params, tx, step=saved.step, float16=float16)
    state = read_optimizer_state(folder / OPTIMIZER_DIR, state)
    return state, saved.micro_batches, int(saved.rng.get("seed", args.seed)), dict(saved.metrics)


def _params(weights: Mapping[str, np.ndarray], config: AlbertConfig, head: Head, seed: int):
    """Host parameter tree from canonical weights; head tensors they lack are initialised (seeded)."""
    match = match_state(weights, config, head, seed=seed)
    if match.initialised:
        logger.info("initialised %d head tensor(s) the weights lack: %s", len(match.initialised), ", ".join(match.initialised))
    return to_host(canonical_to_params(match.state, config, head))


def _device_dtype(value: np.ndarray) -> np.ndarray:
    """int32 ids and labels, float32 masks and counts (what the modules take)."""
    value = np.asarray(value)
    if np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_:
        return value.astype(np.int32)
    return value.astype(np.float32)


def _model_batch(task: str, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A micro-batch's model inputs, labels and counts (meta_* and other columns dropped), device dtypes."""
    inputs, labels, counts = model_inputs_and_labels(task, batch)
    return {k: _device_dtype(v) for k, v in {**inputs, **labels, **counts}.items()}


def _stack(task: str, micro_batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The step's micro-batches as one [accumulation, rows, ...] array per key."""
    batches = [_model_batch(task, b) for b in micro_batches]
    return {key: np.stack([b[key] for b in batches]) for key in batches[0]}


def _evaluate(eval_step, params, eval_source, args, config, parallel: DataParallel, log: MetricsLog, step: int) -> dict[str, float]:
    """Run the eval set with dropout off; log and return {"eval_loss", "eval_<metric>"...}: the loss as
    training defines it (Σ_parts weight × mean cross-entropy of the part) and the task's Evaluator metrics."""
    evaluator = make_evaluator(args.task, eval_source, config)
    loss = EvalLoss(args.task)
    batches: Iterable = itertools.islice(eval_source.eval_batches(), args.eval_batches)
    for batch in batches:
        logits, part_sums = to_host(eval_step(params, parallel.shard_eval(_model_batch(args.task, batch))))
        for name, (total, count) in part_sums.items():
            loss.add(name, total, count)
        if evaluator is not None:
            evaluator.update(batch, logits)
    metrics = evaluator.result() if evaluator is not None else {}
    metrics["loss"] = loss.value()
    if parallel.is_chief:
        log.log(step, "eval", **metrics)
    return _prefixed("eval", metrics)


def _save(checkpoints, args, config, head, state, step, position, seed, last, parallel: DataParallel) -> None:
    if not parallel.is_chief:
        return
    host_state = to_host(state)
    trainer_state = TrainerState(
        step=step,
        micro_batches=position,
        backend=BACKEND,
        task=args.task,
        arguments=args.to_dict(),
        rng={"seed": seed, "dropout_key": "fold_in(fold_in(PRNGKey(seed), step), micro_batch)"},
        metrics=dict(last),
    )
    checkpoints.save(
        trainer_state,
        _saved_config(config, head),
        params_to_canonical(host_state.params, config, head),
        write_optimizer=lambda folder: write_optimizer_state(folder, host_state),
        keep=args.keep_checkpoints,
    )


def _prefixed(prefix: str, values: Mapping[str, Any]) -> dict[str, float]:
    return {f"{prefix}_{k}": float(v) for k, v in values.items()}


def _progress(args: TrainingArguments, step: int, chief: bool):
    from tqdm.auto import tqdm

    return tqdm(total=args.max_steps, initial=step, disable=not (args.progress and chief), desc=f"albert_flax {args.task}", unit="step")
