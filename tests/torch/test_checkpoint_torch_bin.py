"""HF's pytorch_model.bin: read (weights_only) and written with torch; no transformers needed."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest
import torch

from albert_core.checkpoint import Format, detect_format, load_checkpoint, match_state, save_checkpoint
from albert_core.checkpoint.torch_bin import read_torch_bin
from albert_core.errors import CheckpointError
from tests.core.checkpoint_helpers import CONFIG_NAMES, FIXTURES, HEADS, HF_TINY, assert_same_state


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_hf_bin_reads_to_the_same_state_as_hf_safetensors(config_name, head):
    folder = HF_TINY / config_name / head
    _, want = load_checkpoint(folder / "model.safetensors")
    _, got = load_checkpoint(folder / "pytorch_model.bin")
    assert_same_state(got, want)
    if head in ("masked_lm", "pretraining"):  # HF's .bin keeps the tied decoder copies
        raw = read_torch_bin(folder / "pytorch_model.bin")
        assert "predictions.decoder.weight" in raw and "predictions.decoder.weight" in got.skipped


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_round_trip_is_bit_identical(tmp_path, config_name, head):
    config, state = load_checkpoint(HF_TINY / config_name / head)
    save_checkpoint(tmp_path / "m", config, state, extra_formats=("pytorch",))
    assert_same_state(read_torch_bin(tmp_path / "m" / "pytorch_model.bin"), state)
    plain = torch.load(tmp_path / "m" / "pytorch_model.bin", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in plain.values())


def test_legacy_bin_with_position_ids_and_no_prefix():
    config, state = load_checkpoint(FIXTURES / "legacy" / "position_ids" / "pytorch_model.bin")
    assert "embeddings.position_ids" in state.skipped
    result = match_state(state, config, "base")
    _, want = load_checkpoint(FIXTURES / "legacy" / "position_ids" / "model.safetensors")
    assert_same_state(result.state, want)


class NotWeights:
    def __reduce__(self):
        return (print, ("this would run on load",))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    torch.save({"albert.pooler.weight": torch.zeros(2), "payload": NotWeights()}, path)
    with pytest.raises(CheckpointError, match="is not a weights-only checkpoint: loading it would run code"):
        read_torch_bin(path)


def test_truncated_bin(tmp_path):
    data = (HF_TINY / "tiny" / "base" / "pytorch_model.bin").read_bytes()
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="pytorch_model.bin is truncated or not a PyTorch checkpoint"):
        read_torch_bin(path)


def test_non_tensor_entries_are_skipped_and_listed(tmp_path):
    state = collections.OrderedDict(w=torch.ones(2), step=3)
    torch.save(state, tmp_path / "x.bin")
    got = read_torch_bin(tmp_path / "x.bin")
    assert list(got) == ["w"] and got.skipped == {"step": "a int, not a tensor"}


def test_bf16_tensors(tmp_path):
    value = torch.tensor([1.0, -2.5, 3.140625], dtype=torch.bfloat16)
    torch.save({"w": value}, tmp_path / "x.bin")
    got = read_torch_bin(tmp_path / "x.bin")["w"]
    np.testing.assert_array_equal(np.asarray(got, dtype=np.float32), value.float().numpy())


def test_sharded_bin_index(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "pretraining")
    names = sorted(state)
    halves = {"pytorch_model-00001-of-00002.bin": names[: len(names) // 2], "pytorch_model-00002-of-00002.bin": names[len(names) // 2 :]}
    for file_name, part in halves.items():
        torch.save({n: torch.from_numpy(np.array(state[n])) for n in part}, tmp_path / file_name)
    index = {"metadata": {}, "weight_map": {n: f for f, part in halves.items() for n in part}}
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    (tmp_path / "config.json").write_text((HF_TINY / "tiny" / "pretraining" / "config.json").read_text())
    assert detect_format(tmp_path)[0] is Format.TORCH_BIN_SHARDED
    _, got = load_checkpoint(tmp_path)
    assert_same_state(got, state)
