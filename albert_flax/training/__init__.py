"""Training for albert_flax: an optax chain, a jit-compiled train step and jax.sharding data parallel.

    from albert_flax.training import train
    metrics = train(args, config, train_stream, eval_source=None, init_weights=None)

See docs/flax.md ("Training") for the knobs, resuming and multi-host launches.
"""

from .loop import train

__all__ = ["train"]
