"""The shared bad-input matrix (tests/robustness/model_inputs.py) on the PyTorch backend: every
case a clear InputError before any kernel runs; valid edge inputs give finite outputs."""

import re

import pytest
import torch

import albert_torch
from tests.robustness.model_inputs import LABEL_CASES, _ids, config, edge_inputs, encoder_cases, head_classes

HEADS = head_classes(albert_torch)


def tensors(kwargs):
    return {name: torch.from_numpy(value) for name, value in kwargs.items()}


@pytest.fixture(scope="module")
def model():
    return albert_torch.AlbertModel(config()).eval()


@pytest.mark.parametrize("case, kwargs, message", encoder_cases("torch"), ids=lambda c: c if isinstance(c, str) else "")
def test_bad_encoder_input(model, case, kwargs, message):
    with pytest.raises(ValueError) as info:
        model(**tensors(kwargs))
    assert re.search(message, str(info.value)), str(info.value)


@pytest.mark.parametrize("case, head, labels, message", LABEL_CASES, ids=[c[0] for c in LABEL_CASES])
def test_bad_labels(case, head, labels, message):
    with pytest.raises(ValueError, match=message):
        HEADS[head](config()).eval()(input_ids=torch.from_numpy(_ids(2, 5)), **tensors(labels))


@pytest.mark.parametrize("case", list(edge_inputs(config())))
@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_edge_inputs_give_finite_outputs(case, attention):
    kwargs = edge_inputs(config())[case]
    model = albert_torch.AlbertModel(config(), attn_implementation=attention).eval()
    with torch.no_grad():
        out = model(**tensors(kwargs))
    assert tuple(out.last_hidden_state.shape) == (*kwargs["input_ids"].shape, 16)
    assert torch.isfinite(out.last_hidden_state).all() and torch.isfinite(out.pooler_output).all()
