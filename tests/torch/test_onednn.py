"""model.enable_onednn_inference(): oneDNN's packed linear for gradient-free float32 CPU forwards,
the same numbers as nn.Linear's path, the same parameters, and nn.Linear's path everywhere else."""

import copy
import io

import pytest
import torch
from torch import nn

import albert_torch
from albert_torch import onednn
from albert_torch.onednn import OneDNNLinear, onednn_inference_available

from .test_model import HEADS, model_inputs, small_config

ATOL = 1e-5


def eval_model_and_inputs():
    """A seeded small AlbertModel in eval mode (its linears as the host's default makes them) and inputs."""
    config = small_config()
    torch.manual_seed(0)
    return albert_torch.AlbertModel(config).eval(), model_inputs(albert_torch.AlbertModel, config)


def test_the_pinned_cpu_torch_has_the_packed_linear():
    # The official CPU wheels ship oneDNN; if a torch release drops the private ops, this says so first.
    assert onednn_inference_available(), torch.__version__


@pytest.mark.parametrize("cls", HEADS, ids=lambda c: c.__name__)
def test_every_head_gives_nn_linears_numbers(cls):
    config = small_config(num_labels=2 if cls is albert_torch.AlbertForQuestionAnswering else 3)
    torch.manual_seed(0)
    model = cls(config).eval().disable_onednn_inference()  # on by default on AMD CPUs
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
    model = albert_torch.AlbertModel(small_config()).disable_onednn_inference()
    before = dict(model.named_parameters())
    keys = list(model.state_dict())
    model.enable_onednn_inference()
    after = dict(model.named_parameters())
    assert list(model.state_dict()) == keys
    assert all(after[name] is tensor for name, tensor in before.items())


def test_training_keeps_nn_linears_path_and_gradients():
    config = small_config()
    torch.manual_seed(0)
    plain = albert_torch.AlbertForMaskedLM(config).train().disable_onednn_inference()
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
    model, inputs = eval_model_and_inputs()
    model.enable_onednn_inference()
    with torch.no_grad():
        model(**inputs)  # packs every weight
        for p in model.parameters():
            p.mul_(0.5)  # an in-place write, as an optimizer step or load_state_dict makes
        got = model(**inputs).last_hidden_state
        expected = model.disable_onednn_inference()(**inputs).last_hidden_state
    assert not any(isinstance(m, OneDNNLinear) for m in model.modules())
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=0)


@pytest.mark.parametrize("hidden_act", [*onednn.POST_OPS, "quick_gelu", "silu"])
def test_the_ffn_activation_is_a_onednn_post_op_where_it_can_be(hidden_act):
    config = small_config(hidden_act=hidden_act)
    torch.manual_seed(0)
    model = albert_torch.AlbertModel(config).eval().disable_onednn_inference()
    inputs = model_inputs(albert_torch.AlbertModel, config)
    with torch.inference_mode():
        expected = model(**inputs).last_hidden_state
        model.enable_onednn_inference()
        separate_calls = []
        for layer in model.modules():
            if isinstance(layer, albert_torch.layers.AlbertLayer):
                activation = layer.activation
                layer.activation = lambda x, activation=activation: separate_calls.append(1) or activation(x)
        got = model(**inputs).last_hidden_state
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=0)
    # Fused: the layer's own activation function is never called; otherwise once per layer step.
    assert len(separate_calls) == (0 if hidden_act in onednn.POST_OPS else config.num_hidden_layers * config.inner_group_num)


def test_bfloat16_runs_nn_linears_path():
    model, inputs = eval_model_and_inputs()
    with torch.no_grad():
        expected = model.disable_onednn_inference().to(torch.bfloat16)(**inputs).last_hidden_state
        got = model.enable_onednn_inference()(**inputs).last_hidden_state
    assert torch.equal(got, expected)


def test_a_used_model_deep_copies_and_saves():
    # The packed weight is a oneDNN-layout tensor that neither deepcopy nor pickle can read.
    model, inputs = eval_model_and_inputs()
    model.enable_onednn_inference()
    with torch.no_grad():
        expected = model(**inputs).last_hidden_state  # packs every weight
        copied = copy.deepcopy(model)
        buffer = io.BytesIO()
        torch.save(model, buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=False)
        for other in (copied, loaded):
            torch.testing.assert_close(other(**inputs).last_hidden_state, expected, atol=0, rtol=0)


@pytest.mark.parametrize("vendor, on", [("AuthenticAMD", True), ("GenuineIntel", False), ("", False)])
def test_new_models_turn_it_on_for_amd_cpus_only(monkeypatch, vendor, on):
    # MKL, the BLAS of torch's x86 wheels, runs its slow sgemm on AMD CPUs (docs/torch.md).
    monkeypatch.setattr(onednn, "cpu_vendor", lambda: vendor)
    monkeypatch.setattr(onednn.platform, "machine", lambda: "x86_64")
    assert onednn.onednn_inference_by_default() is on
    for make in (lambda: albert_torch.AlbertForMaskedLM(small_config()), lambda: meta_built(small_config())):
        model = make()
        assert any(isinstance(m, OneDNNLinear) for m in model.modules()) is on
        assert any(type(m) is nn.Linear for m in model.modules()) is not on
        assert model.predictions.decoder.weight is model.albert.embeddings.word_embeddings.weight


def meta_built(config):
    """As from_pretrained builds a model: on the meta device, then the state assigned."""
    state = albert_torch.AlbertForMaskedLM(config).state_dict()
    with torch.device("meta"):
        model = albert_torch.AlbertForMaskedLM(config)
    model.load_state_dict(state, assign=True)
    model.tie_weights()
    return model


def test_not_on_arm_or_without_the_ops(monkeypatch):
    monkeypatch.setattr(onednn, "cpu_vendor", lambda: "AuthenticAMD")
    monkeypatch.setattr(onednn.platform, "machine", lambda: "aarch64")
    assert not onednn.onednn_inference_by_default()
    monkeypatch.setattr(onednn.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(onednn, "onednn_inference_available", lambda: False)
    assert not onednn.onednn_inference_by_default()


def test_autocast_runs_nn_linears_bfloat16_path():
    model, inputs = eval_model_and_inputs()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = model.disable_onednn_inference()(**inputs).last_hidden_state
        got = model.enable_onednn_inference()(**inputs).last_hidden_state
    assert got.dtype == torch.bfloat16
    assert torch.equal(got, expected)


def test_exported_programs_record_a_plain_linear():
    # torch.export (and torch.compile, ONNX) trace nn.Linear's path, not the private oneDNN ops.
    model, inputs = eval_model_and_inputs()
    model.enable_onednn_inference()
    with torch.no_grad():
        program = torch.export.export(model, (), {"input_ids": inputs["input_ids"]})
    targets = {str(node.target) for node in program.graph.nodes if node.op == "call_function"}
    assert any("linear" in t for t in targets), targets
    assert not any("mkldnn" in t for t in targets), targets
