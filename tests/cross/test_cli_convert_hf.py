"""`albert convert` with every format, against HF transformers (the live reference).

1. The round trip safetensors -> hf-tf -> hf-flax -> hf-torch -> safetensors is bit-identical on
   every golden fixture (names, dtypes, bits; for the heads, the final file equals HF's own).
2. Each converted folder loads in HF transformers' class of the target framework (TFAlbert*,
   FlaxAlbert*, Albert* from pytorch_model.bin or model.safetensors) and reproduces the fixture's
   reference outputs within DESIGN.md's 1e-5.
3. A google-research TF1 checkpoint converts to exactly the weights it was made from; bf16.

transformers must see TF and Flax: this module imports it before any module that sets USE_TF=0
(test_checkpoint_hf.py, collected earlier, does the same).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from albert_core.checkpoint import load_checkpoint
from albert_core.cli import main
from albert_core.schema import ARCHITECTURES, Head
from tests.core.checkpoint_helpers import CONFIG_NAMES, FIXTURES, HEADS, HF_TINY, assert_same_state

ATOL = 1e-5
ENCODER_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FIELDS = ("last_hidden_state", "pooler_output", "logits", "prediction_logits", "sop_logits", "start_logits", "end_logits")
CHAIN = ("hf-tf", "hf-flax", "hf-torch", "safetensors")


def convert(src, dst, *options) -> None:
    assert main(["convert", str(src), str(dst), "--quiet", *options]) == 0


def reference(config_name: str, head: str) -> dict[str, np.ndarray]:
    with np.load(HF_TINY / config_name / head / "reference.npz") as data:
        return dict(data)


def hf_outputs(folder, head: str, target: str, ref: dict) -> object:
    """The outputs of HF transformers' class of `target`'s framework, loaded from `folder`."""
    name = ARCHITECTURES[Head(head)]
    inputs = {k: ref[k] for k in ENCODER_INPUTS}
    if target == "hf-tf":
        assert transformers.is_tf_available(), "transformers was imported with USE_TF=0 earlier in this process"
        return getattr(transformers, f"TF{name}").from_pretrained(folder)(inputs, training=False)
    if target == "hf-flax":
        assert transformers.is_flax_available(), "transformers was imported with USE_FLAX=0 earlier in this process"
        return getattr(transformers, f"Flax{name}").from_pretrained(folder)(**inputs, train=False)
    model = getattr(transformers, name).from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        return model(**{k: torch.from_numpy(v) for k, v in inputs.items()})


def assert_matches_reference(what: str, outputs, ref: dict) -> None:
    compared = 0
    for field in FIELDS:
        value = getattr(outputs, field, None)
        if f"output.{field}" in ref and value is not None:
            delta = float(np.max(np.abs(np.asarray(value) - ref[f"output.{field}"])))
            assert delta <= ATOL, f"{what}: {field} max |Δ| {delta:.3g} > {ATOL}"
            compared += 1
    assert compared, what


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_round_trip_through_every_hf_format_is_bit_identical(tmp_path, config_name, head):
    source = HF_TINY / config_name / head / "model.safetensors"
    previous = source
    for k, target in enumerate(CHAIN):
        folder = tmp_path / f"{k}-{target}"
        convert(previous, folder, "--to", target)
        previous = folder
    _, want = load_checkpoint(source)
    _, got = load_checkpoint(previous)
    assert_same_state(got, want)
    if head != "base":  # HF saves a bare AlbertModel without the `albert.` prefix
        assert (previous / "model.safetensors").read_bytes() == source.read_bytes()


@pytest.mark.parametrize("head", HEADS)
def test_converted_folders_load_in_hf_classes_of_the_target_framework(tmp_path, head):
    config_name = "tiny-g2k2"
    ref = reference(config_name, head)
    for target in CHAIN:
        folder = tmp_path / target
        convert(HF_TINY / config_name / head / "model.safetensors", folder, "--to", target)
        assert_matches_reference(f"HF {target} from {folder.name}", hf_outputs(folder, head, target, ref), ref)


def test_tf1_checkpoint_converts_to_the_weights_it_was_made_from(tmp_path):
    # tests/fixtures/tf1 holds tiny-g2k2/pretraining's weights under google-research's names.
    convert(FIXTURES / "tf1", tmp_path / "pt", "--to", "hf-torch")
    _, want = load_checkpoint(HF_TINY / "tiny-g2k2" / "pretraining" / "model.safetensors")
    _, got = load_checkpoint(tmp_path / "pt")
    assert_same_state(got, want)
    ref = reference("tiny-g2k2", "pretraining")
    assert_matches_reference("HF PyTorch from TF1", hf_outputs(tmp_path / "pt", "pretraining", "hf-torch", ref), ref)


def test_tf1_report_lists_the_skipped_optimizer_slots(tmp_path, capsys):
    convert(FIXTURES / "tf1", tmp_path / "out")
    out = capsys.readouterr().out
    assert "(tf1)" in out and "optimizer slot" in out and "training counter" in out


@pytest.mark.parametrize("target", ["safetensors", "hf-torch", "hf-flax"])
def test_bfloat16_output_holds_the_rounded_weights_and_loads_in_hf(tmp_path, target):
    import ml_dtypes

    source = HF_TINY / "tiny" / "masked_lm"
    convert(source, tmp_path / "bf16", "--to", target, "--dtype", "bfloat16")
    _, fp32 = load_checkpoint(source / "model.safetensors")
    _, got = load_checkpoint(tmp_path / "bf16")
    assert_same_state(got, {k: v.astype(ml_dtypes.bfloat16) for k, v in fp32.items()})
    if target != "hf-flax":
        model = transformers.AlbertForMaskedLM.from_pretrained(tmp_path / "bf16", dtype="auto")
        assert model.dtype == torch.bfloat16  # "auto": the dtype config.json names
        weight = model.albert.embeddings.word_embeddings.weight.detach().float().numpy()
        np.testing.assert_array_equal(weight, got["albert.embeddings.word_embeddings.weight"].astype(np.float32))


def test_bfloat16_to_hf_tf_is_refused_before_writing(tmp_path, capsys):
    assert main(["convert", str(HF_TINY / "tiny" / "base"), str(tmp_path / "out"), "--to", "hf-tf", "--dtype", "bfloat16"]) == 2
    assert "tf_model.h5 cannot hold bfloat16" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
