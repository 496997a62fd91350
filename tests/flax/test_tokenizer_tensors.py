"""The tokenizer returns this framework's tensors (return_tensors="jax"), imported only when asked."""

import numpy as np


def test_return_tensors_jax(tokenizer):
    enc = tokenizer(["a short text", "a somewhat longer text about modules"], padding=True, return_tensors="jax")
    ids = enc["input_ids"]
    import jax; assert isinstance(ids, jax.Array)
    expected = tokenizer(["a short text", "a somewhat longer text about modules"], padding=True, return_tensors="np")
    for key in expected:
        np.testing.assert_array_equal(np.asarray(enc[key]), expected[key])
