"""Checkpoint IO against HF transformers itself (the live reference), in PyTorch, TF and Flax.

1. Reading: every HF-written fixture file (model.safetensors, pytorch_model.bin, tf_model.h5,
   flax_model.msgpack) reads to exactly the state_dict HF PyTorch builds from that folder
   (bit for bit, less the tied duplicates the schema declares).
2. Writing: a folder written by save_checkpoint with every HF format loads in HF's PyTorch (from
   the safetensors and from the .bin), TF (from tf_model.h5, no PyTorch conversion) and Flax (from
   flax_model.msgpack, no from_pt) classes, whose outputs match the fixture's reference outputs
   (fp32, max |Δ| ≤ 1e-5 as DESIGN.md section 5; PyTorch losses too). The TF check covers HF's MLM
   decoder-bias quirk: its logits are right only if the writer fills `predictions/decoder/bias`.

transformers must see TF and Flax: this module imports it before any `USE_TF=0` module can.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from albert_core.checkpoint import load_checkpoint, save_checkpoint
from albert_core.schema import ARCHITECTURES, BASE_PREFIX, Head, tensor_specs
from tests.core.checkpoint_helpers import CONFIG_NAMES, HEADS, HF_TINY, assert_same_state

ATOL = 1e-5
ENCODER_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
LOGIT_FIELDS = ("last_hidden_state", "pooler_output", "logits", "prediction_logits", "sop_logits", "start_logits", "end_logits")


def hf_class(head: str, framework: str = ""):
    name = {"tf": "TF", "flax": "Flax", "": ""}[framework] + ARCHITECTURES[Head(head)]
    return getattr(transformers, name)


def require_framework(framework: str) -> None:
    available = {"tf": transformers.is_tf_available, "flax": transformers.is_flax_available}[framework]()
    if not available:
        pytest.fail(f"transformers was imported without {framework} support (USE_TF/USE_FLAX=0 set earlier in this process)")


def hf_canonical_state(model, config, head: str) -> dict[str, np.ndarray]:
    """HF PyTorch's state_dict under canonical names, tied duplicates left out."""
    tied = {spec.name for spec in tensor_specs(config, head) if spec.tied_to is not None}
    prefix = BASE_PREFIX if Head(head) is Head.BASE else ""  # HF's AlbertModel keys have no `albert.`
    return {prefix + k: v.numpy() for k, v in model.state_dict().items() if prefix + k not in tied}


def reference(config_name: str, head: str) -> dict[str, np.ndarray]:
    with np.load(HF_TINY / config_name / head / "reference.npz") as data:
        return dict(data)


def assert_outputs_match(what: str, outputs, ref: dict[str, np.ndarray], fields=LOGIT_FIELDS) -> None:
    checked = 0
    for field in fields:
        key = f"output.{field}"
        if key in ref and getattr(outputs, field, None) is not None:
            got = np.asarray(getattr(outputs, field))
            err = float(np.max(np.abs(got - ref[key])))
            assert err <= ATOL, f"{what}: {field} differs by {err:.3g}"
            checked += 1
    assert checked, f"{what}: no output field compared"


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_every_format_reads_to_hf_pytorch_s_own_state_dict(config_name, head):
    folder = HF_TINY / config_name / head
    hf_model = hf_class(head).from_pretrained(folder)
    config, _ = load_checkpoint(folder)
    want = hf_canonical_state(hf_model, config, head)
    for file_name in ("model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"):
        _, got = load_checkpoint(folder / file_name)
        assert_same_state(got, want)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """{(config_name, head): folder written by save_checkpoint in every HF format}."""
    folders = {}
    for config_name in CONFIG_NAMES:
        for head in HEADS:
            config, state = load_checkpoint(HF_TINY / config_name / head)
            folder = tmp_path_factory.mktemp(f"{config_name}-{head}")
            save_checkpoint(folder, config, state, extra_formats=("pytorch", "tf", "flax"), head=head)
            folders[config_name, head] = folder
    return folders


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_hf_pytorch_loads_the_written_folder(written, config_name, head):
    ref = reference(config_name, head)
    inputs = {k: torch.from_numpy(v) for k, v in ref.items() if not k.startswith("output.")}
    for use_safetensors in (True, False):
        model = hf_class(head).from_pretrained(written[config_name, head], use_safetensors=use_safetensors, attn_implementation="eager")
        with torch.no_grad():
            out = model.eval()(**inputs, output_hidden_states=True, output_attentions=True)
        assert_outputs_match(f"HF PyTorch ({'safetensors' if use_safetensors else '.bin'})", out, ref)
        if "output.loss" in ref:
            np.testing.assert_allclose(out.loss.numpy(), ref["output.loss"], rtol=1e-5)
        np.testing.assert_allclose(torch.stack(out.hidden_states).numpy(), ref["output.hidden_states"], atol=ATOL, rtol=0)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_hf_tf_loads_the_written_tf_model_h5(written, config_name, head):
    require_framework("tf")
    ref = reference(config_name, head)
    # use_safetensors=False: HF TF 4.57 would otherwise convert model.safetensors from PyTorch, which
    # fails with safetensors 0.8 ("safe_open object is not iterable") on HF's own folders too.
    model = hf_class(head, "tf").from_pretrained(written[config_name, head], use_safetensors=False)
    out = model({k: ref[k] for k in ENCODER_INPUTS}, training=False)
    assert_outputs_match("HF TF", out, ref)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_hf_flax_loads_the_written_flax_model_msgpack(written, config_name, head):
    require_framework("flax")
    ref = reference(config_name, head)
    model = hf_class(head, "flax").from_pretrained(written[config_name, head])  # flax_model.msgpack, not from_pt
    out = model(**{k: ref[k] for k in ENCODER_INPUTS}, train=False)
    assert_outputs_match("HF Flax", out, ref)
