"""Small configs and inputs shared by the Flax tests."""

import jax
import numpy as np

from albert_core import AlbertConfig


def tiny_config(**changes):
    """A small config with every structural feature: 2 groups of 2 inner layers over 3 steps."""
    base = dict(
        vocab_size=64,
        embedding_size=8,
        hidden_size=16,
        num_attention_heads=2,
        intermediate_size=24,
        num_hidden_layers=3,
        num_hidden_groups=2,
        inner_group_num=2,
        max_position_embeddings=32,
    )
    return AlbertConfig(**{**base, **changes})


def token_ids(config, batch=2, seq=7, seed=0):
    """Random ids that avoid the pad token, with a padded tail on the last row."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, config.vocab_size, (batch, seq))
    mask = np.ones_like(ids)
    mask[-1, seq - 2:] = 0
    ids[-1, seq - 2:] = config.pad_token_id
    return ids, mask


def assert_trees_close(a, b, rtol=1e-6, atol=1e-7):
    """Every leaf of pytree `a` close to the same leaf of `b`."""
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)
