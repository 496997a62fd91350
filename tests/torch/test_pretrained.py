"""from_pretrained / save_pretrained through albert_core.checkpoint: every HF format the schema reads,
head changes, dtypes, no random initialisation on load, atomic round trips."""

from pathlib import Path

import numpy as np
import pytest
import torch

import albert_torch
from albert_core import AlbertConfig
from albert_core.errors import CheckpointError
from albert_torch.pretrained import AlbertPreTrainedModel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MLM = FIXTURES / "hf_tiny" / "tiny-g2k2" / "masked_lm"


def run_reference(model, folder: Path):
    ref = np.load(folder / "reference.npz")
    inputs = {k: torch.from_numpy(ref[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        return model(**inputs), ref


@pytest.mark.parametrize("file", ["", "model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"])
def test_every_hf_format_loads_to_the_reference_outputs(file):
    model = albert_torch.AlbertForMaskedLM.from_pretrained(MLM / file if file else MLM)
    assert not model.training
    out, ref = run_reference(model, MLM)
    assert np.abs(out.logits.numpy() - ref["output.logits"]).max() <= 1e-5
    assert model.predictions.decoder.weight is model.albert.embeddings.word_embeddings.weight


def test_keras_hub_preset_and_legacy_hf_folder_load():
    keras_hub = albert_torch.AlbertForMaskedLM.from_pretrained(FIXTURES / "keras_hub" / "tiny-g2k2_masked_lm")
    assert keras_hub.predictions.LayerNorm.eps == 1e-5  # keras-hub's MLM LayerNorm epsilon travels in the config
    legacy = albert_torch.AlbertModel.from_pretrained(FIXTURES / "legacy" / "position_ids")
    assert legacy.load_report.missing == []


def test_loading_does_not_random_initialise(monkeypatch):
    def fail(self):
        raise AssertionError("from_pretrained initialised weights it was about to overwrite")

    monkeypatch.setattr(AlbertPreTrainedModel, "init_weights", fail)
    model = albert_torch.AlbertForPreTraining.from_pretrained(FIXTURES / "hf_tiny" / "tiny" / "pretraining")
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_head_swap_initialises_new_head_and_drops_old_one():
    model = albert_torch.AlbertForSequenceClassification.from_pretrained(
        FIXTURES / "hf_tiny" / "tiny" / "pretraining", num_labels=4
    )
    report = model.load_report
    assert model.config.num_labels == 4 and model.classifier.weight.shape == (4, 32)
    assert report.missing == report.initialised == ["classifier.weight", "classifier.bias"]
    assert "sop_classifier.classifier.weight" in report.dropped
    assert report.state == {}  # the report keeps no second copy of the weights
    assert 0.01 < model.classifier.weight.std().item() < 0.03  # normal(initializer_range = 0.02)


def test_encoder_tensor_missing_is_an_error(tmp_path):
    config = AlbertConfig.from_json_file(MLM / "config.json")
    model = albert_torch.AlbertForMaskedLM(config)
    model.save_pretrained(tmp_path / "saved")
    from safetensors.numpy import load_file, save_file

    state = load_file(tmp_path / "saved" / "model.safetensors")
    del state["albert.encoder.embedding_hidden_mapping_in.weight"]
    save_file(state, tmp_path / "saved" / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="missing albert.encoder.embedding_hidden_mapping_in.weight"):
        albert_torch.AlbertForMaskedLM.from_pretrained(tmp_path / "saved")


@pytest.mark.parametrize("cls", list(albert_torch.MODEL_FOR_HEAD.values()), ids=lambda c: c.__name__)
def test_save_then_load_is_exact(tmp_path, cls):
    torch.manual_seed(0)
    config = AlbertConfig.from_json_file(MLM / "config.json").replace(num_labels=2)
    model = cls(config).eval()
    folder = model.save_pretrained(tmp_path / "saved")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    loaded = cls.from_pretrained(folder)
    assert loaded.load_report.missing == [] and loaded.load_report.dropped == []
    assert loaded.config.architectures == [cls.__name__]
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("kwargs, dtype", [({"dtype": torch.bfloat16}, torch.bfloat16), ({"torch_dtype": "float16"}, torch.float16), ({"dtype": "float32"}, torch.float32)])
def test_dtype_at_load(kwargs, dtype):
    model = albert_torch.AlbertForMaskedLM.from_pretrained(MLM, **kwargs)
    assert model.dtype == dtype and model.predictions.bias.dtype == dtype
    out, ref = run_reference(model, MLM)
    # |logits| ≤ 2.64 here; measured max |Δ| against fp32: bf16 (8 mantissa bits) 0.036, fp16 0.0043.
    # Bounds: about 2× the measured error.
    bound = {torch.bfloat16: 0.075, torch.float16: 0.01, torch.float32: 1e-5}[dtype]
    assert np.abs(out.logits.float().numpy() - ref["output.logits"]).max() <= bound


def test_dtype_and_torch_dtype_together_is_an_error():
    with pytest.raises(ValueError, match="dtype or torch_dtype"):
        albert_torch.AlbertModel.from_pretrained(MLM, dtype="float16", torch_dtype="float16")
    with pytest.raises(ValueError, match="unsupported dtype 'int8'"):
        albert_torch.AlbertModel.from_pretrained(MLM, dtype="int8")


def test_attn_implementation_at_load():
    model = albert_torch.AlbertForMaskedLM.from_pretrained(MLM, attn_implementation="eager")
    assert model.attn_implementation == "eager"
    out, ref = run_reference(model, MLM)
    assert np.abs(out.logits.numpy() - ref["output.logits"]).max() <= 1e-5
