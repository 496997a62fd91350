"""`albert verify`: passes on every golden fixture (every backend + HF), prints the table, and fails,
naming the outputs that diverged, when one backend's model is changed after loading."""

from __future__ import annotations

import re

import pytest
import torch

from albert_core.cli import main, runners
from albert_core.cli.verify import verify
from albert_core.schema import Head
from tests.core.checkpoint_helpers import CONFIG_NAMES, HEADS, HF_TINY


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_verify_passes_on_the_golden_fixtures(config_name, head, capsys):
    path = HF_TINY / config_name / head / "model.safetensors"
    assert main(["verify", str(path), "--reference", "hf"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("head "))
    assert header.split() == ["head", "output", "torch-tf", "torch-flax", "torch-hf", "tf-flax", "tf-hf", "flax-hf"]
    rows = [line.split() for line in out.splitlines() if line.startswith(f"{head} ")]
    outputs = [row[1] for row in rows]
    layers = 4 if config_name == "tiny-g2k2" else 2
    inner = 2 if config_name == "tiny-g2k2" else 1
    assert [o for o in outputs if o.startswith("hidden_states")] == [f"hidden_states[{i}]" for i in range(layers + 1)]
    assert [o for o in outputs if o.startswith("attentions")] == [f"attentions[{i}]" for i in range(layers * inner)]
    assert ("loss" in outputs) == (head != "base")
    for row in rows:  # six cells of "<max |Δ|> ok"
        assert row[3::2] == ["ok"] * 6, row
        assert all(float(v) <= 1e-5 for v in row[2::2]), row
    assert re.search(r"^PASS: 4 backends agree on \d+ outputs within tolerance$", out, re.M)


class PerturbedTorch(runners.TorchRunner):
    """albert_torch with group 1's first FFN scaled by 1.5 after loading (a wrong weight in one backend)."""

    def load(self, config, head, state):
        model = super().load(config, head, state)
        with torch.no_grad():
            model.albert.encoder.albert_layer_groups[1].albert_layers[0].ffn.weight.mul_(1.5)
        return model


def test_verify_passes_on_the_shipped_model(capsys):
    """Issue 10: `albert verify weights/albert-tiny-pydocs` passes (every backend + HF) and prints its table."""
    shipped = HF_TINY.parents[2] / "weights" / "albert-tiny-pydocs"
    assert main(["verify", str(shipped), "--reference", "hf"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("pretraining ")]
    assert {"loss", "prediction_logits", "sop_logits"} <= {row[1] for row in rows}
    assert len([row for row in rows if row[1].startswith("hidden_states")]) == 7  # embeddings + 6 layer steps
    assert all("FAIL" not in line for line in out.splitlines())


def test_a_parameter_changed_in_one_backend_fails_and_names_the_outputs(monkeypatch, capsys):
    monkeypatch.setitem(runners.RUNNERS, "torch", PerturbedTorch)
    path = HF_TINY / "tiny-g2k2" / "pretraining" / "model.safetensors"
    assert main(["verify", str(path), "--backends", "torch,tf,flax"]) == 1
    out = capsys.readouterr().out
    failed = re.findall(r"^  pretraining (\S+): (\w+) vs (\w+): max \|Δ\| \S+ > \S+$", out, re.M)
    # L=4 steps over G=2 groups: steps 2 and 3 run group 1. Its first FFN feeds hidden_states[3] on,
    # the attention of its second inner layer (step 2: attentions[5]) and the later ones, the heads.
    diverged = {"hidden_states[3]", "hidden_states[4]", "attentions[5]", "attentions[6]", "attentions[7]", "prediction_logits", "sop_logits", "loss"}
    assert {name for name, _, _ in failed} == diverged
    assert {(a, b) for _, a, b in failed} == {("torch", "tf"), ("torch", "flax")}  # tf and flax still agree
    assert len(failed) == 2 * len(diverged)
    assert f"FAIL: {len(failed)} output(s) out of tolerance:" in out


def test_verify_api_checks_other_heads_with_shared_initialised_head_tensors():
    report = verify(HF_TINY / "tiny" / "base" / "model.safetensors", backends=["torch", "flax"], heads=["question_answering", "multiple_choice"])
    assert report.passed
    assert {head for head, _ in report.rows} == {Head.QUESTION_ANSWERING, Head.MULTIPLE_CHOICE}
    assert report.pairs == ["torch-flax"]


def test_one_backend_is_not_a_comparison(capsys):
    assert main(["verify", str(HF_TINY / "tiny" / "base"), "--backends", "torch"]) == 2
    assert "needs at least two" in capsys.readouterr().err


def test_unknown_backend_and_head(capsys):
    assert main(["verify", str(HF_TINY / "tiny" / "base"), "--backends", "torch,mxnet"]) == 2
    assert "unknown backend(s) ['mxnet']; choose from torch, tf, flax" in capsys.readouterr().err
    assert main(["verify", str(HF_TINY / "tiny" / "base"), "--heads", "summarisation"]) == 2
    assert "unknown head(s) ['summarisation']" in capsys.readouterr().err


def test_missing_backend_is_named(monkeypatch, capsys):
    monkeypatch.setattr(runners.TFRunner, "missing", classmethod(lambda cls: ["tensorflow"]))
    assert main(["verify", str(HF_TINY / "tiny" / "base"), "--backends", "torch,tf"]) == 2
    assert "the tf backend (albert_tf (TensorFlow / Keras 3)) needs the package 'tensorflow'" in capsys.readouterr().err


def test_ambiguous_folder_needs_from(tmp_path, capsys):
    import shutil

    shutil.copytree(HF_TINY / "tiny" / "base", tmp_path / "m")
    shutil.copy(tmp_path / "m" / "model.safetensors", tmp_path / "m" / "other.safetensors")
    assert main(["verify", str(tmp_path / "m"), "--backends", "torch,flax"]) == 2
    assert "holds 2 candidate checkpoints" in capsys.readouterr().err
    assert main(["verify", str(tmp_path / "m"), "--backends", "torch,flax", "--from", "hf-flax"]) == 0
