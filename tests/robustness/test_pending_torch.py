"""Bad inputs the PyTorch backend does not refuse clearly yet (tests/robustness/model_inputs.py
PENDING["torch"]). These FAIL today, on purpose: they are the reproducer for albert_torch's owner.
No tox env runs this folder; once fixed, empty PENDING["torch"] and delete this file, and
tests/torch/test_robustness_inputs.py covers the cases."""

import re

import pytest
import torch

import albert_torch
from tests.robustness.model_inputs import ENCODER_CASES, PENDING, config

CASES = [case for case in ENCODER_CASES if case[0] in PENDING["torch"]]


@pytest.mark.parametrize("case, kwargs, message", CASES, ids=[c[0] for c in CASES])
def test_pending_torch_case(case, kwargs, message):
    model = albert_torch.AlbertModel(config()).eval()
    with pytest.raises(ValueError) as info:  # today: RuntimeError from torch.embedding
        model(**{name: torch.from_numpy(value) for name, value in kwargs.items()})
    assert re.search(message, str(info.value))
