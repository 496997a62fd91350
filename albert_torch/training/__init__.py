"""Training ALBERT in PyTorch: a plain loop (AdamW / LAMB, warmup + linear decay, accumulation,
clipping, bf16 / fp16 autocast), DDP under torchrun, exact resume from its checkpoints.

    from albert_torch.training import train
    metrics = train(args, config, train_stream, eval_source=None, init_weights=None)

The contract (arguments, loss normalisation, logs, checkpoint layout) is albert_core.training's,
shared with albert_tf.training and albert_flax.training.
"""

from .loop import build_model, train
from .optim import OptaxLamb, clip_gradients, make_optimizer, make_schedule, parameter_groups

__all__ = ["OptaxLamb", "build_model", "clip_gradients", "make_optimizer", "make_schedule", "parameter_groups", "train"]
