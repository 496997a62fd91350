"""h5 formats read with h5py only: HF's tf_model.h5 (read + write) and keras-hub presets (read)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from albert_core.checkpoint import Format, detect_format, load_checkpoint, match_state, save_checkpoint
from albert_core.checkpoint.hf_tf_h5 import read_hf_tf_h5, write_hf_tf_h5
from albert_core.errors import CheckpointError

from .checkpoint_helpers import CONFIG_NAMES, FIXTURES, HEADS, HF_TINY, assert_same_state

KERAS_HUB = FIXTURES / "keras_hub" / "tiny-g2k2_masked_lm"



@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_hf_tf_h5_reads_to_hf_pytorch_state(config_name, head):
    folder = HF_TINY / config_name / head
    _, want = load_checkpoint(folder / "model.safetensors")  # written by HF PyTorch
    _, got = load_checkpoint(folder / "tf_model.h5")
    assert_same_state(got, want)
    if head in ("masked_lm", "pretraining"):
        # HF lists the embeddings again under `predictions`, and keeps a decoder bias of its own.
        assert "predictions/decoder/bias:0" in got.skipped
        assert any(key.startswith("predictions/") and "word_embeddings" in key for key in got.skipped)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_hf_tf_h5_round_trip_is_bit_identical(tmp_path, config_name, head):
    config, state = load_checkpoint(HF_TINY / config_name / head)
    save_checkpoint(tmp_path / "m", config, state, extra_formats=("tf",))
    assert detect_format(tmp_path / "m")[0] is Format.SAFETENSORS  # the canonical file is always written
    got = read_hf_tf_h5(tmp_path / "m" / "tf_model.h5")
    assert_same_state(got, state)


def test_written_h5_has_hf_layout(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "pretraining")
    write_hf_tf_h5(tmp_path / "tf_model.h5", state, config)
    with h5py.File(tmp_path / "tf_model.h5", "r") as ours, h5py.File(HF_TINY / "tiny" / "pretraining" / "tf_model.h5", "r") as hf:
        assert sorted(ours.attrs["layer_names"]) == sorted(hf.attrs["layer_names"])
        for layer in hf.attrs["layer_names"]:
            assert sorted(ours[layer].attrs["weight_names"]) == sorted(hf[layer].attrs["weight_names"])
            for name in hf[layer].attrs["weight_names"]:
                np.testing.assert_array_equal(ours[layer][name], hf[layer][name])


def _rewrite_dataset(path: Path, layer: str, suffix: str, value) -> None:
    with h5py.File(path, "r+") as f:
        name = next(n for n in f[layer].attrs["weight_names"] if n.endswith(suffix))
        f[layer][name][...] = value


def test_mlm_bias_quirk_all_zero_decoder_bias(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "masked_lm")
    path = write_hf_tf_h5(tmp_path / "tf_model.h5", state, config)
    _rewrite_dataset(path, "predictions", "predictions/decoder/bias:0", 0.0)  # as HF TF from_pt leaves it
    with pytest.warns(RuntimeWarning, match="decoder/bias is all zero"):
        got = read_hf_tf_h5(path)
    np.testing.assert_array_equal(got["predictions.bias"], state["predictions.bias"])


def test_mlm_bias_trained_in_tf_uses_the_decoder_bias(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "masked_lm")
    path = write_hf_tf_h5(tmp_path / "tf_model.h5", state, config)
    trained = state["predictions.bias"] + 1.0
    _rewrite_dataset(path, "predictions", "predictions/decoder/bias:0", trained)
    with pytest.warns(RuntimeWarning, match="differ; using decoder/bias"):
        got = read_hf_tf_h5(path)
    np.testing.assert_array_equal(got["predictions.bias"], trained)


def test_truncated_h5_and_non_hf_h5(tmp_path):
    data = (HF_TINY / "tiny" / "base" / "tf_model.h5").read_bytes()
    (tmp_path / "tf_model.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="tf_model.h5 is truncated or not an HDF5 file"):
        read_hf_tf_h5(tmp_path / "tf_model.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(CheckpointError, match="not a Keras/HF TF weights file"):
        read_hf_tf_h5(tmp_path / "other.h5")


def test_h5_with_a_foreign_weight_name(tmp_path):
    with h5py.File(tmp_path / "tf_model.h5", "w") as f:
        f.attrs["layer_names"] = np.array([b"bert"])
        f.create_group("bert").attrs["weight_names"] = np.array([b"tf_bert_model/bert/embeddings/weird_leaf:0"])
        f["bert"]["tf_bert_model/bert/embeddings/weird_leaf:0"] = np.zeros(2)
    with pytest.raises(CheckpointError, match="weird_leaf:0 of layer bert is not an ALBERT weight name"):
        read_hf_tf_h5(tmp_path / "tf_model.h5")


# ----- keras-hub -------------------------------------------------------------------------------


def test_keras_hub_preset_reads_to_the_hf_weights_it_was_made_from():
    config, state = load_checkpoint(KERAS_HUB)
    assert detect_format(KERAS_HUB)[0] is Format.KERAS_HUB
    # Made from HF's tiny-g2k2 pretraining model (scripts/make_keras_hub_fixture.py): keras-hub has no SOP head.
    _, hf = load_checkpoint(HF_TINY / "tiny-g2k2" / "pretraining")
    want = {k: v for k, v in hf.items() if not k.startswith("sop_classifier.")}
    assert_same_state(state, want)
    assert (config.num_hidden_groups, config.inner_group_num, config.num_hidden_layers) == (2, 2, 4)
    assert config.mlm_layer_norm_eps == 1e-5 and config.layer_norm_eps == 1e-12
    assert config.hidden_act == "gelu_new"
    result = match_state(state, config, "masked_lm")
    assert sorted(result.dropped) == ["albert.pooler.bias", "albert.pooler.weight"]


def test_keras_hub_backbone_only(tmp_path):
    folder = tmp_path / "backbone"
    folder.mkdir()
    for name in ("config.json", "metadata.json", "model.weights.h5"):
        shutil.copy(KERAS_HUB / name, folder / name)
    config, state = load_checkpoint(folder)
    assert config.mlm_layer_norm_eps is None
    assert not any(k.startswith("predictions.") for k in state)
    assert match_state(state, config, "base").dropped == []


def test_keras_hub_unsupported_task_is_an_error(tmp_path):
    folder = tmp_path / "classifier"
    shutil.copytree(KERAS_HUB, folder)
    task = json.loads((folder / "task.json").read_text())
    task["class_name"] = "AlbertTextClassifier"
    (folder / "task.json").write_text(json.dumps(task))
    with pytest.raises(CheckpointError, match="task AlbertTextClassifier is not supported"):
        load_checkpoint(folder)


def test_keras_hub_weights_that_do_not_fit_the_config(tmp_path):
    folder = tmp_path / "wrong"
    shutil.copytree(KERAS_HUB, folder)
    config = json.loads((folder / "config.json").read_text())
    config["config"]["num_groups"] = 3  # the file has 2 groups x 2 inner layers
    config["config"]["num_layers"] = 6
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="transformer_encoder_4"):
        load_checkpoint(folder)


def test_keras_hub_truncated_weights(tmp_path):
    folder = tmp_path / "cut"
    shutil.copytree(KERAS_HUB, folder)
    data = (folder / "model.weights.h5").read_bytes()
    (folder / "model.weights.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="model.weights.h5 is truncated or not an HDF5 file"):
        load_checkpoint(folder)
