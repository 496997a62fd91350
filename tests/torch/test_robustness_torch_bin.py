"""pytorch_model.bin: loading never runs code from the pickle; damaged files are refused clearly.

torch.load runs with weights_only=True (albert_core/checkpoint/torch_bin.py); these tests show
the consequence on pickles that would run code, and fuzz the reader with damaged HF files.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import pytest
import torch

from albert_core.checkpoint import load_checkpoint
from albert_core.errors import CheckpointError
from tests.robustness.damage import Target, fuzz_damaged_file


class RunsCode:
    """A pickle payload that creates a file when unpickled by a full (unsafe) unpickler."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_pickle_that_runs_code_is_refused_and_never_run(tmp_path, legacy):
    marker = tmp_path / "pwned"
    folder = tmp_path / "model"
    folder.mkdir()
    state = {"albert.pooler.weight": torch.zeros(2, 2), "evil": RunsCode(marker)}
    torch.save(state, folder / "pytorch_model.bin", _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError, match="not a weights-only checkpoint: loading it would run code"):
        load_checkpoint(folder / "pytorch_model.bin", config=_config())
    assert not marker.exists()
    # The same file does run code under a full unpickler: the refusal is what protects.
    if not legacy:
        with zipfile.ZipFile(folder / "pytorch_model.bin") as archive:
            name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
            raw = archive.read(name)
        assert b"mkdir" in raw


def test_a_plain_pickle_that_is_no_torch_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "pytorch_model.bin").write_bytes(pickle.dumps({"w": RunsCode(marker)}))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "pytorch_model.bin", config=_config())
    assert not marker.exists()


def _config():
    from albert_core.config import AlbertConfig
    from tests.robustness.damage import SOURCE

    return AlbertConfig.from_json_file(SOURCE / "config.json")


def test_damaged_pytorch_bin(tmp_path):
    fuzz_damaged_file(Target("pytorch_model.bin", tmp_path))
