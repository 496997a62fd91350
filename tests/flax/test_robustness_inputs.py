"""The shared bad-input matrix (tests/robustness/model_inputs.py) on the JAX/Flax backend: every
case a clear InputError before anything is compiled; valid edge inputs give finite outputs."""

import re

import numpy as np
import pytest

import albert_flax
from tests.robustness.model_inputs import LABEL_CASES, _ids, config, edge_inputs, encoder_cases, head_classes

HEADS = head_classes(albert_flax)


@pytest.fixture(scope="module")
def model():
    return albert_flax.AlbertModel(config())


def call(model, kwargs):
    kwargs = dict(kwargs)
    return model(kwargs.pop("input_ids", None), **kwargs)


@pytest.mark.parametrize("case, kwargs, message", encoder_cases("flax"), ids=lambda c: c if isinstance(c, str) else "")
def test_bad_encoder_input(model, case, kwargs, message):
    with pytest.raises(ValueError) as info:
        call(model, kwargs)
    assert re.search(message, str(info.value)), str(info.value)


@pytest.mark.parametrize("case, head, labels, message", LABEL_CASES, ids=[c[0] for c in LABEL_CASES])
def test_bad_labels(case, head, labels, message):
    with pytest.raises(ValueError, match=message):
        call(HEADS[head](config()), {"input_ids": _ids(2, 5), **labels})


@pytest.mark.parametrize("case", list(edge_inputs(config())))
def test_edge_inputs_give_finite_outputs(model, case):
    kwargs = edge_inputs(config())[case]
    out = call(model, kwargs)
    hidden = np.asarray(out.last_hidden_state)
    assert hidden.shape == (*kwargs["input_ids"].shape, 16)
    assert np.isfinite(hidden).all() and np.isfinite(np.asarray(out.pooler_output)).all()
