"""The tokenizer returns this framework's tensors (return_tensors="pt"), imported only when asked."""

import numpy as np


def test_return_tensors_pt(tokenizer):
    enc = tokenizer(["a short text", "a somewhat longer text about modules"], padding=True, return_tensors="pt")
    ids = enc["input_ids"]
    import torch; assert isinstance(ids, torch.Tensor) and ids.dtype == torch.int64
    expected = tokenizer(["a short text", "a somewhat longer text about modules"], padding=True, return_tensors="np")
    for key in expected:
        np.testing.assert_array_equal(np.asarray(enc[key]), expected[key])
