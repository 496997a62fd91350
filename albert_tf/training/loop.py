"""`train`: the TensorFlow training loop, in Keras' idiom: a model built under a tf.distribute
strategy, compiled with an optax-equivalent Keras optimizer on albert_core's schedule, and `fit` on
a tf.data pipeline of the stream's steps, with callbacks for the metrics log, evaluation,
checkpoints and the progress bar.

    from albert_tf.training import train
    metrics = train(args, config, train_stream, eval_source=None, init_weights=None)

A run whose output folder holds checkpoints continues from the newest: from one this backend
wrote, with the optimizer's variables, the dropout RNG, the step and the data position (so the
per-step losses are those of a run never stopped); from another backend's, with its weights,
step and data position only: the optimizer (Adam's moments) restarts, the learning-rate schedule
continues at that step.
"""

from __future__ import annotations

import logging

import keras
import numpy as np

from albert_core.checkpoint import match_state
from albert_core.config import AlbertConfig
from albert_core.schema import ARCHITECTURES, Head
from albert_core.training import CheckpointDir, MetricsLog, TrainerState, TrainingArguments, plot_loss_curve
from albert_core.training.checkpoints import OPTIMIZER_DIR, ResumeError

from .. import MODEL_FOR_HEAD
from ..weights import canonical_variables
from .callbacks import EverySteps, ProgressBar, TrainLog
from .data import replica_datasets
from .distributed import choose_strategy, is_chief
from .evaluation import Evaluation
from .optimizers import make_optimizer
from .state import read_optimizer_state, restore_rng_state, rng_state, write_optimizer_state
from .train_step import StepModel

BACKEND = "tf"
# Arguments a resumed run may change without changing the curve it continues.
_FREE_TO_CHANGE = {"output_dir", "max_steps", "log_every", "eval_every", "save_every", "keep_checkpoints", "eval_batches", "progress"}

logger = logging.getLogger(__name__)
_POLICY = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


class _Resume:
    """Where a run starts: step 0, or the newest checkpoint in its output folder."""

    def __init__(self, args: TrainingArguments):
        self.folder = CheckpointDir(args.output_dir).latest()
        self.state = self.weights = None
        self.step = 0
        if self.folder is None:
            return
        self.state, _, self.weights = CheckpointDir.load(self.folder)
        if self.state.task != args.task:
            raise ResumeError(f"{self.folder} is a {self.state.task!r} checkpoint; this run's task is {args.task!r}")
        if self.state.step > args.max_steps:
            raise ResumeError(f"{self.folder} is past this run's max_steps={args.max_steps}: raise max_steps or use another output_dir")
        self.step = self.state.step
        changed = sorted(k for k, v in args.to_dict().items() if k not in _FREE_TO_CHANGE and self.state.arguments.get(k, v) != v)
        if changed:
            logger.warning("resuming from %s with changed arguments (the new values apply): %s", self.folder, ", ".join(changed))

    @property
    def same_backend(self) -> bool:
        return self.state is not None and self.state.backend == BACKEND


class _Run:
    def __init__(self, args: TrainingArguments, config: AlbertConfig, train_stream, eval_source, init_weights):
        self.args = args
        self.config = config.replace(architectures=[ARCHITECTURES[Head(args.head)]])
        self.stream = train_stream
        self.strategy = choose_strategy()
        self.chief = is_chief(self.strategy)
        self.log = MetricsLog(args.output_dir) if self.chief else None
        self.resume = _Resume(args)
        self.schedule_offset = 0
        self._build(init_weights)
        self.evaluation = None if eval_source is None else Evaluation(self.model, args.task, eval_source, args.eval_batches, jit_compile=self.trainer.jit_compile)
        self.last_eval: dict[str, float] = {}

    def _build(self, init_weights) -> None:
        args, head, resume = self.args, Head(self.args.head), self.resume
        keras.utils.set_random_seed(args.seed)  # HF-style initialisation and the dropout seeds
        with self.strategy.scope():
            # Fixed names: the optimizer's variable paths (its saved state's keys) derive from them.
            self.model = MODEL_FOR_HEAD[head](self.config, dtype=_POLICY[args.precision], name=f"albert_{head.value}")
            weights = resume.weights if resume.weights is not None else init_weights
            if weights is not None:
                self.model.load_canonical_state(match_state(weights, self.config, head, seed=args.seed).state)
            if resume.state is not None and not resume.same_backend:
                logger.warning(
                    "resuming from %s, written by %s: its weights, step and data position carry over; the optimizer "
                    "state restarts (the learning-rate schedule continues at step %d)", resume.folder, resume.state.backend, resume.step
                )
                self.schedule_offset = resume.step
            optimizer = make_optimizer(args, canonical_variables(self.model), schedule_offset=self.schedule_offset)
            self.trainer = StepModel(self.model, args.task, args.grad_accum_steps, dropout=args.dropout)
            # XLA for the step on one device (args.extra["jit_compile"] = False turns it off, e.g. for
            # tiny test models where compiling costs more than it saves); with several replicas no
            # XLA, as Keras' own default under a tf.distribute strategy.
            jit = bool(args.extra.get("jit_compile", True)) and self.strategy.num_replicas_in_sync == 1
            self.trainer.compile(optimizer=optimizer, jit_compile=jit)
            optimizer.build(self.trainer.trainable_variables)
            if resume.same_backend:
                self.schedule_offset = read_optimizer_state(optimizer, resume.folder / OPTIMIZER_DIR)
                restore_rng_state(self.model, resume.state.rng)
                logger.info("resuming from %s (step %d, micro-batch %d)", resume.folder, resume.step, resume.state.micro_batches)
        self.optimizer = optimizer

    # ----- what the callbacks do -----------------------------------------------------------------
    def micro_batches_at(self, step: int) -> int:
        return self.start_position + (step - self.resume.step) * self.args.grad_accum_steps

    def save(self, step: int) -> None:
        state = TrainerState(
            step=step,
            micro_batches=self.micro_batches_at(step),
            backend=BACKEND,
            task=self.args.task,
            arguments=self.args.to_dict(),
            rng=rng_state(self.model),
            metrics=self.last_metrics(),
        )
        CheckpointDir(self.args.output_dir).save(
            state,
            self.config,
            self.model.canonical_state(),
            write_optimizer=lambda folder: write_optimizer_state(self.optimizer, folder, self.schedule_offset),
            keep=self.args.keep_checkpoints,
        )

    def evaluate(self, step: int) -> None:
        self.last_eval = self.evaluation.run()
        self.log.log(step, "eval", **self.last_eval)

    # ----- the run -------------------------------------------------------------------------------
    def run(self) -> dict:
        args, start = self.args, self.resume.step
        if self.resume.state is not None:
            self.stream.seek(self.resume.state.micro_batches)
            if self.chief:
                self.log.truncate_after(start)
        self.start_position = self.stream.position
        self.train_log = TrainLog(start, args.log_every, self.log)
        callbacks = [self.train_log]
        if self.chief:
            if self.evaluation is not None:
                callbacks.append(EverySteps(start, args.eval_every, self.evaluate))
            callbacks.append(EverySteps(start, args.save_every, self.save))
            if args.progress:
                callbacks.append(ProgressBar(start, args.max_steps))
        if start < args.max_steps:
            dataset = replica_datasets(self.strategy, self.stream, args.task, args.grad_accum_steps)
            self.trainer.fit(dataset, epochs=1, steps_per_epoch=args.max_steps - start, callbacks=callbacks, shuffle=False, verbose=0)
        if self.chief:
            self._finish()
        return self._final_metrics()

    def _finish(self) -> None:
        args, last = self.args, self.args.max_steps
        logged_eval = any(r["split"] == "eval" and r["step"] == last for r in self.log.records())
        if self.evaluation is not None and not logged_eval:
            self.evaluate(last)
        if last not in CheckpointDir(args.output_dir).steps():
            self.save(last)
        CheckpointDir(args.output_dir).save_final(self.config, self.model.canonical_state())
        self.log.write_csv()
        try:
            plot_loss_curve(args.output_dir, title=f"{args.task} (tf)")
        except ImportError as exc:
            logger.warning("no loss-curve chart: %s", exc)

    def last_metrics(self) -> dict[str, float]:
        return {**{f"train_{k}": v for k, v in self.train_log.last.items()}, **{f"eval_{k}": v for k, v in self.last_eval.items()}}

    def _final_metrics(self) -> dict:
        metrics = {"step": self.args.max_steps}
        if not self.train_log.last and self.resume.state is not None:
            metrics.update(self.resume.state.metrics)  # a finished run restarted: nothing trained now
        metrics.update(self.last_metrics())
        return metrics


def train(
    args: TrainingArguments,
    config: AlbertConfig,
    train_stream,
    eval_source=None,
    init_weights: dict[str, np.ndarray] | None = None,
) -> dict:
    """Train (or continue training) per `args`; return the final metrics: "step", "train_loss",
    "train_learning_rate", "train_grad_norm" of the last step and "eval_<name>" of the last evaluation.

    `train_stream`: micro-batches of numpy arrays (`batch_size` rows each, over all replicas) with
    `position` and `seek(position)`; `eval_source`: None or an object with `eval_batches()`;
    `init_weights`: a canonical state to start from (head tensors it lacks are initialised), else
    HF's initialisation seeded by args.seed.
    """
    return _Run(args, config, train_stream, eval_source, init_weights).run()
