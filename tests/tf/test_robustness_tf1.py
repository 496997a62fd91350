"""TF1 checkpoints: the `checkpoint` state file never sends the reader outside its folder."""

import shutil

import pytest

from albert_core.checkpoint import load_checkpoint
from albert_core.errors import CheckpointError
from tests.core.checkpoint_helpers import FIXTURES, assert_same_state

TF1 = FIXTURES / "tf1"


def test_an_absolute_path_in_the_state_file_reads_the_checkpoint_in_this_folder(tmp_path):
    """TF writes the absolute path it saved to; a folder copied elsewhere still loads, from itself."""
    folder = tmp_path / "copied"
    shutil.copytree(TF1, folder)
    (folder / "checkpoint").write_text('model_checkpoint_path: "/somewhere/else/model.ckpt-125000"\n')
    _, state = load_checkpoint(folder)
    _, want = load_checkpoint(TF1)
    assert_same_state(state, want)


@pytest.mark.parametrize("named", ["../outside/model.ckpt-125000", "/tmp/other/model.ckpt-7"])
def test_a_state_file_naming_a_checkpoint_elsewhere_is_refused(tmp_path, named):
    outside = tmp_path / "outside"
    shutil.copytree(TF1, outside)  # a readable checkpoint the state file points at
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(TF1 / "config.json", folder)
    (folder / "checkpoint").write_text(f'model_checkpoint_path: "{named}"\n')
    (folder / "model.ckpt-1.index").write_bytes(b"")  # so the folder is recognised as TF1
    with pytest.raises(CheckpointError, match=r"names the checkpoint .* but model\.ckpt-\S+\.index is not in"):
        load_checkpoint(folder)
