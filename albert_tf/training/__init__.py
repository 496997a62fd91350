"""Training for albert_tf: Keras `fit` with callbacks, tf.distribute, resumable checkpoints.

    from albert_tf.training import train
    metrics = train(args, config, train_stream, eval_source=None, init_weights=None)

See loop.py for the run, train_step.py for how a step's loss and gradients are summed,
optimizers.py for AdamW / LAMB as optax defines them, docs/tf.md ("Training") for the knobs.
"""

from .loop import train
from .optimizers import LinearWarmupDecay, OptaxAdamW, OptaxLamb, make_optimizer

__all__ = ["train", "LinearWarmupDecay", "OptaxAdamW", "OptaxLamb", "make_optimizer"]
