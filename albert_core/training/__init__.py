"""What every backend's training loop shares, framework-free: the run's knobs (`TrainingArguments`), the
learning-rate schedule, the loss's normalisation across micro-batches and replicas, the metrics log and
its loss-curve chart, and the checkpoint folder layout with resume state.

The loops themselves live in each backend (`albert_torch.training`, `albert_tf.training`,
`albert_flax.training`), each in its framework's idiom; they read batches from `albert_core.data`.
"""

from .arguments import TASKS, TrainingArguments
from .checkpoints import CheckpointDir, TrainerState
from .evaluation import EvalLoss, make_evaluator
from .metrics_log import MetricsLog, plot_loss_curve
from .objective import LOSS_PARTS, LossPart, add_loss_counts, decays_weight, model_inputs_and_labels
from .schedule import learning_rate_at
from .steps import training_steps

__all__ = [
    "TASKS",
    "TrainingArguments",
    "CheckpointDir",
    "TrainerState",
    "make_evaluator",
    "EvalLoss",
    "MetricsLog",
    "plot_loss_curve",
    "LOSS_PARTS",
    "LossPart",
    "add_loss_counts",
    "decays_weight",
    "model_inputs_and_labels",
    "learning_rate_at",
    "training_steps",
]
