"""model.enable_onednn_inference(): oneDNN's packed linear for gradient-free float32 CPU forwards,
the same numbers as nn.Linear's path, the same parameters, and nn.Linear's path everywhere else."""

import copy
import io

import pytest
import torch
from torch import nn

import albert_torch
from albert_torch.onednn import OneDNNLinear, onednn_inference_available

from .test_model import HEADS, model_inputs, small_config

ATOL = 1e-5


def test_the_pinned_cpu_torch_has_the_packed_linear():
    # The official CPU wheels ship oneDNN; if a torch release drops the private ops, this says so first.
    assert onednn_inference_available(), torch.__version__


@pytest.mark.parametrize("cls", HEADS, ids=lambda c: c.__name__)
def test_every_head_gives_nn_linears_numbers(cls):
    config = small_config(num_labels=2 if cls is albert_torch.AlbertForQuestionAnswering else 3)
    torch.manual_seed(0)
    model = cls(config).eval()
    inputs = model_inputs(cls, config)
    with torch.inference_mode():
        expected = model(**inputs).to_tuple()
        model.enable_onednn_inference()
        got = model(**inputs).to_tuple()
    assert any(isinstance(m, OneDNNLinear) for m in model.modules())
    assert not any(type(m) is nn.Linear for m in model.modules())
    for want, have in zip(expected, got):
        torch.testing.assert_close(have, want, atol=ATOL, rtol=0)


def test_parameters_and_state_dict_are_the_same_tensors():
    torch.manual_seed(0)
    model = albert_torch.AlbertModel(small_config())
    before = dict(model.named_parameters())
    keys = list(model.state_dict())
    model.enable_onednn_inference()
    after = dict(model.named_parameters())
    assert list(model.state_dict()) == keys
    assert all(after[name] is tensor for name, tensor in before.items())


def test_training_keeps_nn_linears_path_and_gradients():
    config = small_config()
    torch.manual_seed(0)
    plain = albert_torch.AlbertForMaskedLM(config).train()
    torch.manual_seed(0)
    packed = albert_torch.AlbertForMaskedLM(config).train().enable_onednn_inference()
    inputs = model_inputs(albert_torch.AlbertForMaskedLM, config)
    labels = inputs["input_ids"].clone()
    for model in (plain, packed):
        torch.manual_seed(1)  # the same dropout masks
        model(**inputs, labels=labels).loss.backward()
    for (name, p), q in zip(plain.named_parameters(), packed.parameters()):
        assert torch.equal(p.grad, q.grad), name


def test_a_changed_weight_is_packed_again():
    config = small_config()
    torch.manual_seed(0)
    model = albert_torch.AlbertModel(config).eval().enable_onednn_inference()
    inputs = model_inputs(albert_torch.AlbertModel, config)
    with torch.no_grad():
        model(**inputs)  # packs every weight
        for p in model.parameters():
            p.mul_(0.5)  # an in-place write, as an optimizer step or load_state_dict makes
        got = model(**inputs).last_hidden_state
        expected = model.disable_onednn_inference()(**inputs).last_hidden_state
    assert not any(isinstance(m, OneDNNLinear) for m in model.modules())
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=0)


def test_bfloat16_runs_nn_linears_path():
    config = small_config()
    torch.manual_seed(0)
    model = albert_torch.AlbertModel(config).eval()
    inputs = model_inputs(albert_torch.AlbertModel, config)
    with torch.no_grad():
        expected = model.to(torch.bfloat16)(**inputs).last_hidden_state
        got = model.enable_onednn_inference()(**inputs).last_hidden_state
    assert torch.equal(got, expected)


def test_a_used_model_deep_copies_and_saves():
    # The packed weight is a oneDNN-layout tensor that neither deepcopy nor pickle can read.
    config = small_config()
    torch.manual_seed(0)
    model = albert_torch.AlbertModel(config).eval().enable_onednn_inference()
    inputs = model_inputs(albert_torch.AlbertModel, config)
    with torch.no_grad():
        expected = model(**inputs).last_hidden_state  # packs every weight
        copied = copy.deepcopy(model)
        buffer = io.BytesIO()
        torch.save(model, buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=False)
        for other in (copied, loaded):
            torch.testing.assert_close(other(**inputs).last_hidden_state, expected, atol=0, rtol=0)
