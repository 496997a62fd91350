"""The tokenizer returns this framework's tensors (return_tensors="tf"), imported only when asked."""

import numpy as np


def test_return_tensors_tf(tokenizer):
    enc = tokenizer(["a short text", "a somewhat longer text about modules"], padding=True, return_tensors="tf")
    ids = enc["input_ids"]
    import tensorflow as tf; assert isinstance(ids, tf.Tensor) and ids.dtype == tf.int64
    expected = tokenizer(["a short text", "a somewhat longer text about modules"], padding=True, return_tensors="np")
    for key in expected:
        np.testing.assert_array_equal(np.asarray(enc[key]), expected[key])
