"""Each reader imports its optional package only when it runs, and says which one is missing."""

from __future__ import annotations

import sys

import pytest

from albert_core.checkpoint import load_checkpoint, save_checkpoint
from albert_core.errors import MissingDependencyError

from .checkpoint_helpers import FIXTURES, HF_TINY


@pytest.mark.parametrize(
    "package, path",
    [
        ("h5py", HF_TINY / "tiny" / "base" / "tf_model.h5"),
        ("h5py", FIXTURES / "keras_hub" / "tiny-g2k2_masked_lm"),
        ("msgpack", HF_TINY / "tiny" / "base" / "flax_model.msgpack"),
        ("torch", HF_TINY / "tiny" / "base" / "pytorch_model.bin"),
    ],
)
def test_a_missing_package_is_named(monkeypatch, package, path):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` fail
    with pytest.raises(MissingDependencyError) as info:
        load_checkpoint(path)
    assert info.value.package == package
    assert f"'{package}'" in str(info.value) and path.name in str(info.value)


@pytest.mark.parametrize("package, extra", [("torch", "pytorch"), ("h5py", "tf"), ("msgpack", "flax")])
def test_writers_name_their_package_and_leave_no_folder(monkeypatch, tmp_path, package, extra):
    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    monkeypatch.setitem(sys.modules, package, None)
    with pytest.raises(MissingDependencyError, match=f"'{package}'"):
        save_checkpoint(tmp_path / "out", config, state, extra_formats=(extra,))
    assert list(tmp_path.iterdir()) == []
