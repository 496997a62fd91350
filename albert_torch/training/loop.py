"""The torch training loop: `train(args, config, train_stream, eval_source, init_weights)`.

A plain PyTorch loop, the same contract as albert_tf's and albert_flax's (albert_core.training):
micro-batches grouped into optimizer steps, the loss of each micro-batch computed from the logits
and normalised by the step's label counts, gradients summed over accumulation (and over DDP
processes), the global norm clipped, AdamW or LAMB with the warmup + linear-decay schedule, and
optional bf16 / fp16 autocast (parameters stay float32). Every `log_every` steps a metrics line,
every `eval_every` an evaluation, every `save_every` a checkpoint a killed run resumes from exactly.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path
from typing import Any, Callable, ContextManager, Mapping

import numpy as np
import torch
from tqdm.auto import tqdm

from albert_core.checkpoint import match_state
from albert_core.config import AlbertConfig
from albert_core.schema import ARCHITECTURES, Head
from albert_core.training import (
    CheckpointDir,
    MetricsLog,
    TrainerState,
    TrainingArguments,
    model_inputs_and_labels,
    plot_loss_curve,
    training_steps,
)
from albert_core.training.checkpoints import OPTIMIZER_DIR, ResumeError

from .. import MODEL_FOR_HEAD
from . import distributed
from .evaluate import evaluate
from .objective import micro_batch_loss
from .optim import clip_gradients, make_optimizer, make_schedule
from .resume_state import (
    read_optimizer_state,
    restore_run_rng,
    rng_state,
    run_rng_state,
    seed_dropout,
    write_optimizer_state,
)
from .tensors import to_device

BACKEND = "torch"
log = logging.getLogger(__name__)
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def train(
    args: TrainingArguments,
    config: AlbertConfig,
    train_stream,
    eval_source=None,
    init_weights: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Train `args.head`'s model on `train_stream` for `args.max_steps` optimizer steps; return the
    final metrics: {"step", "train_loss", "train_learning_rate", "train_grad_norm"} of the last step and,
    with an eval_source, "eval_<name>" of the final evaluation.

    train_stream: batch_size (rows per micro-batch, all processes), position, seek(position) and an
    endless iterator of numpy micro-batches. eval_source: None or an object with eval_batches().
    init_weights: a canonical state to start from (missing head tensors are initialised from
    args.seed); None: HF's random initialisation seeded by args.seed. A folder that already holds
    checkpoints continues from the newest one. Under torchrun every process calls this.
    """
    replicas = distributed.setup()
    try:
        return _Run(args, config, replicas).train(train_stream, eval_source, init_weights)
    finally:
        replicas.close()


def build_model(args: TrainingArguments, config: AlbertConfig, weights: Mapping[str, np.ndarray] | None, device: torch.device) -> torch.nn.Module:
    """The head's model in float32 on `device`: from `weights` (completed by match_state) or seeded random."""
    cls = MODEL_FOR_HEAD[Head(args.head)]
    if weights is None:
        torch.manual_seed(args.seed)
        return cls(config).to(device)
    result = match_state(weights, config, args.head, seed=args.seed)
    if result.initialised:
        log.info("initialised %s (not in the starting weights)", ", ".join(result.initialised))
    with torch.device("meta"):  # no random init of tensors about to be replaced
        model = cls(config)
    # Copies: a writable numpy array would otherwise become the parameter's own memory, and
    # training would change the caller's arrays in place.
    state = {name: np.array(value, dtype=np.float32, copy=True) for name, value in result.state.items()}
    model.load_canonical_state(state, device=device)
    return model


def precision_context(precision: str, device: torch.device) -> Callable[[], ContextManager]:
    """A factory of the forward pass's autocast context (fp32: none)."""
    if precision == "fp32":
        return contextlib.nullcontext
    return functools.partial(torch.autocast, device.type, dtype=_AUTOCAST_DTYPES[precision])


class _Run:
    """One call of `train`: the model, its optimizer and schedule, and where the run stands."""

    def __init__(self, args: TrainingArguments, config: AlbertConfig, replicas: distributed.Replicas):
        self.args = args
        self.config = config.replace(architectures=[ARCHITECTURES[Head(args.head)]])  # HF loads the saves
        self.replicas = replicas
        self.device = replicas.device
        self.checkpoints = CheckpointDir(args.output_dir)
        self.metrics_log = MetricsLog(args.output_dir)
        self.autocast = precision_context(args.precision, self.device)
        self.step = 0  # optimizer steps applied
        self.position = 0  # micro-batches of the stream consumed
        self.last: dict[str, Any] = {}  # the latest step's values and the latest evaluation's

    # ----- start: fresh, or from the newest checkpoint ------------------------------------------------
    def _start(self, train_stream, init_weights) -> None:
        args, replicas = self.args, self.replicas
        # The first process looks (it also tidies leftovers of a killed writer); the others follow it.
        latest = replicas.broadcast(self.checkpoints.latest() if replicas.is_main else None)
        resumed = None
        weights = init_weights
        if latest is not None:
            resumed, _, weights = CheckpointDir.load(Path(latest))
            self._check_resumable(resumed, Path(latest))
        self.model = build_model(args, self.config, weights, self.device)
        self.optimizer = make_optimizer(self.model, args)
        self.scaler = torch.amp.GradScaler(self.device.type) if args.precision == "fp16" else None
        self.position = train_stream.position
        if resumed is None:
            seed_dropout(args.seed, replicas.rank, 0)
        else:
            self.step, self.position, self.last = resumed.step, resumed.micro_batches, dict(resumed.metrics)
            train_stream.seek(self.position)
            same_backend = resumed.backend == BACKEND
            if same_backend:
                read_optimizer_state(Path(latest) / OPTIMIZER_DIR, self.optimizer, self.scaler, self.device)
            else:
                log.warning(
                    "resuming from %s, written by %s: its weights, step and data position carry over; "
                    "the optimizer state restarts", latest, resumed.backend
                )
            if not (same_backend and restore_run_rng(resumed.rng, replicas.rank, replicas.world_size)):
                seed_dropout(args.seed, replicas.rank, self.step)
            if replicas.is_main:
                log.info("resuming from %s (step %d, micro-batch %d)", latest, self.step, self.position)
        self.scheduler = make_schedule(self.optimizer, args, self.step)
        if replicas.is_main:
            self.metrics_log.truncate_after(self.step)  # lines a killed run wrote after its checkpoint
        self.model.train(args.dropout)  # eval mode is dropout off: ALBERT has no other train/eval switch
        self.ddp_model = distributed.wrap(self.model, replicas)

    def _check_resumable(self, state: TrainerState, folder: Path) -> None:
        if state.task != self.args.task:
            raise ResumeError(f"{folder} is a {state.task!r} checkpoint and this run trains {self.args.task!r}: use another output_dir")
        current = self.args.to_dict()
        changed = sorted(k for k in current if k not in ("output_dir", "progress") and state.arguments.get(k, current[k]) != current[k])
        if changed and self.replicas.is_main:
            log.warning("resuming from %s with changed arguments (the new values apply): %s", folder, ", ".join(changed))

    # ----- one optimizer step --------------------------------------------------------------------
    def _train_step(self, micro_batches: list[dict[str, np.ndarray]]) -> dict[str, float]:
        args, replicas = self.args, self.replicas
        learning_rate = self.optimizer.param_groups[0]["lr"]
        step_loss = torch.zeros((), device=self.device)
        for i, batch in enumerate(micro_batches):
            inputs, labels, counts = model_inputs_and_labels(args.task, replicas.shard(batch))
            # DDP all-reduces gradients on the step's last micro-batch only; before it, they accumulate.
            accumulate_only = replicas.distributed and i < len(micro_batches) - 1
            with self.ddp_model.no_sync() if accumulate_only else contextlib.nullcontext():
                with self.autocast():
                    outputs = self.ddp_model(**to_device(inputs, self.device))
                loss = micro_batch_loss(args.task, outputs, labels, counts)
                # The contract sums gradients over processes; DDP averages them, hence × world size.
                scaled = loss * replicas.world_size
                (self.scaler.scale(scaled) if self.scaler else scaled).backward()
            step_loss += loss.detach()
        if self.scaler:
            self.scaler.unscale_(self.optimizer)
        grad_norm = clip_gradients(self.model.parameters(), args.max_grad_norm)
        if self.scaler:
            self.scaler.step(self.optimizer)  # skipped when fp16 gradients overflowed
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return {"loss": float(replicas.sum(step_loss)), "learning_rate": learning_rate, "grad_norm": grad_norm}

    # ----- evaluation and checkpoints ----------------------------------------------------------------
    def _evaluate(self, eval_source) -> None:
        if not self.replicas.is_main:  # the first process evaluates on the whole eval set
            return
        values = evaluate(self.model, self.args.task, eval_source, self.args.eval_batches, self.autocast)
        self.metrics_log.log(self.step, "eval", **values)
        self.last.update({f"eval_{name}": value for name, value in values.items()})

    def _save(self) -> None:
        per_process = self.replicas.gather(rng_state())  # every process's dropout stream (a collective)
        if not self.replicas.is_main:
            return
        state = TrainerState(
            step=self.step,
            micro_batches=self.position,
            backend=BACKEND,
            task=self.args.task,
            arguments=self.args.to_dict(),
            rng=run_rng_state(per_process),
            metrics=dict(self.last),
        )
        self.checkpoints.save(
            state,
            self.config,
            self.model.canonical_state(),
            write_optimizer=lambda folder: write_optimizer_state(folder, self.optimizer, self.scaler),
            keep=self.args.keep_checkpoints,
        )

    def _finish(self) -> None:
        """Final weights in output_dir itself, the metrics CSV and the loss chart (first process)."""
        if not self.replicas.is_main:
            return
        self.checkpoints.save_final(self.config, self.model.canonical_state())
        self.metrics_log.write_csv()
        try:
            plot_loss_curve(self.args.output_dir, title=f"{self.args.task} (torch)")
        except ImportError as exc:
            log.warning("no loss_curve.png: %s", exc)

    # ----- the loop ------------------------------------------------------------------------------
    def train(self, train_stream, eval_source, init_weights) -> dict[str, Any]:
        args = self.args
        self.replicas.check_batch_size(train_stream.batch_size)
        self._start(train_stream, init_weights)
        steps = training_steps(train_stream, args.task, args.grad_accum_steps)
        bar = tqdm(
            total=args.max_steps, initial=self.step, desc=f"{args.task} (torch)", unit="step",
            disable=not (args.progress and self.replicas.is_main),
        )
        # A resumed run has evaluated and saved its starting step already.
        evaluated = saved = self.step
        while self.step < args.max_steps:
            micro_batches = next(steps, None)
            if micro_batches is None:
                log.warning("the training stream ended after %d micro-batches, at step %d of %d", self.position, self.step, args.max_steps)
                break
            values = self._train_step(micro_batches)
            self.step += 1
            self.position += args.grad_accum_steps
            self.last.update(step=self.step, **{f"train_{name}": value for name, value in values.items()})
            bar.update(1)
            bar.set_postfix(loss=f"{values['loss']:.4f}")
            last_step = self.step == args.max_steps
            if self.replicas.is_main and (self.step % args.log_every == 0 or last_step):
                self.metrics_log.log(self.step, "train", **values)
            if eval_source is not None and self.step % args.eval_every == 0:
                self._evaluate(eval_source)
                evaluated = self.step
            if self.step % args.save_every == 0:
                self._save()
                saved = self.step
        # The end (max_steps, or a stream that ran out): an eval record and a checkpoint of this step.
        if eval_source is not None and evaluated != self.step:
            self._evaluate(eval_source)
        if saved != self.step:
            self._save()
        bar.close()
        self._finish()
        return self.replicas.broadcast(self.last)
