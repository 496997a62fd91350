"""The canonical format: safetensors read (mmap) / write (atomic), sharding, folders, detection."""

from __future__ import annotations

import json
import mmap
import os
import struct

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, settings
from hypothesis import strategies as st

from albert_core.checkpoint import Format, detect_format, load_checkpoint, save_checkpoint
from albert_core.checkpoint.safetensors_io import read_safetensors, write_safetensors
from albert_core.errors import CheckpointError

from .checkpoint_helpers import CONFIG_NAMES, HEADS, HF_TINY, assert_same_state




@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_reads_hf_safetensors_like_the_safetensors_library(config_name, head):
    path = HF_TINY / config_name / head / "model.safetensors"
    assert_same_state(read_safetensors(path), safetensors.numpy.load_file(path))


def test_arrays_are_read_only_views_of_the_mapped_file():
    state = read_safetensors(HF_TINY / "tiny" / "masked_lm" / "model.safetensors")
    array = state["albert.embeddings.word_embeddings.weight"]
    assert not array.flags.writeable and not array.flags.owndata
    # Every array is a window on one shared map of the file, not a copy.
    def root(a):
        while isinstance(a, np.ndarray) and a.base is not None:
            a = a.base
        return a.obj if isinstance(a, memoryview) else a

    roots = {id(root(a)) for a in state.values()}
    assert len(roots) == 1 and isinstance(root(array), mmap.mmap)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_round_trip_through_save_checkpoint_is_bit_identical(tmp_path, config_name, head):
    config, state = load_checkpoint(HF_TINY / config_name / head)
    save_checkpoint(tmp_path / "out", config, state)
    config2, state2 = load_checkpoint(tmp_path / "out")
    assert_same_state(state2, state)
    assert config2.to_dict() == config.to_dict()
    # And the safetensors library reads our file to the same arrays.
    assert_same_state(safetensors.numpy.load_file(tmp_path / "out" / "model.safetensors"), state)


dtypes = st.sampled_from(["float32", "float16", "float64", "int64", "int32", "uint8", "bool"])
shapes = st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.dictionaries(st.text("abcxyz._", min_size=1, max_size=12), st.tuples(dtypes, shapes), max_size=6), st.integers(0, 2**32 - 1))
def test_writer_matches_the_library_for_any_dtypes_and_shapes(tmp_path_factory, spec, seed):
    rng = np.random.default_rng(seed)
    state = {name: (rng.standard_normal(shape) * 100).astype(dtype) for name, (dtype, shape) in spec.items()}
    path = tmp_path_factory.mktemp("st") / "x.safetensors"
    write_safetensors(path, state, metadata={"format": "pt"})
    assert_same_state(safetensors.numpy.load_file(path), state)
    assert_same_state(read_safetensors(path), state)
    # Non-contiguous input (a transposed view) is written in C order.
    if state:
        name = next(iter(state))
        write_safetensors(path, {name: state[name].T})
        np.testing.assert_array_equal(read_safetensors(path)[name], state[name].T)


def test_bf16_without_ml_dtypes_is_widened_exactly(tmp_path, monkeypatch):
    values = np.array([1.0, -2.5, 3.140625, 65280.0], dtype=np.float32)  # exactly representable in bf16
    bits = (values.view(np.uint32) >> 16).astype(np.uint16)
    header = json.dumps({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}).encode()
    header += b" " * (-len(header) % 8)
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bits.tobytes())
    import builtins

    real_import = builtins.__import__

    def no_ml_dtypes(name, *args, **kwargs):
        if name == "ml_dtypes":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ml_dtypes)
    got = read_safetensors(path)["w"]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, values)


def test_sharded_save_and_load(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny-g2k2" / "pretraining")
    save_checkpoint(tmp_path / "sharded", config, state, max_shard_size=40_000)
    files = sorted(p.name for p in (tmp_path / "sharded").iterdir())
    shards = [f for f in files if f.startswith("model-")]
    assert len(shards) >= 3 and "model.safetensors" not in files
    assert shards[0] == f"model-00001-of-{len(shards):05d}.safetensors"
    index = json.loads((tmp_path / "sharded" / "model.safetensors.index.json").read_text())
    assert sorted(index["weight_map"]) == sorted(state)
    assert index["metadata"]["total_size"] == sum(a.nbytes for a in state.values())
    assert detect_format(tmp_path / "sharded")[0] is Format.SAFETENSORS_SHARDED
    _, again = load_checkpoint(tmp_path / "sharded")
    assert_same_state(again, state)


def test_sharded_index_naming_a_missing_shard(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    save_checkpoint(tmp_path / "s", config, state, max_shard_size=10_000)
    shard = sorted((tmp_path / "s").glob("model-*.safetensors"))[-1]
    shard.unlink()
    with pytest.raises(CheckpointError, match=f"names shard {shard.name}"):
        load_checkpoint(tmp_path / "s")


@pytest.mark.parametrize("cut", [4, 20, -8])
def test_truncated_file_is_reported_with_its_name(tmp_path, cut):
    data = (HF_TINY / "tiny" / "base" / "model.safetensors").read_bytes()
    path = tmp_path / "model.safetensors"
    path.write_bytes(data[:cut])
    with pytest.raises(CheckpointError) as info:
        read_safetensors(path)
    assert str(path) in str(info.value)
    if cut == -8:  # the header is intact: the error names the tensor that runs past the end
        assert "truncated: tensor" in str(info.value)


def test_corrupt_header_is_reported(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", 6) + b"{nope}" + b"\0" * 16)
    with pytest.raises(CheckpointError, match="header is not JSON"):
        read_safetensors(path)
    path.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_safetensors(path)


def test_nan_and_inf_are_named_in_a_warning(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    state = dict(state)
    bad = state["albert.pooler.weight"].copy()
    bad[0, 0] = np.nan
    state["albert.pooler.weight"] = bad
    inf = state["albert.embeddings.LayerNorm.bias"].copy()
    inf[1] = np.inf
    state["albert.embeddings.LayerNorm.bias"] = inf
    save_checkpoint(tmp_path / "nan", config, state)
    with pytest.warns(RuntimeWarning) as record:
        load_checkpoint(tmp_path / "nan")
    message = str(record[0].message)
    assert "albert.pooler.weight" in message and "albert.embeddings.LayerNorm.bias" in message
    assert "model.safetensors" in message


def test_save_refuses_unknown_and_wrong_shaped_tensors_and_leaves_the_old_folder(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    save_checkpoint(tmp_path / "m", config, state)
    before = (tmp_path / "m" / "model.safetensors").read_bytes()
    bad = dict(state, **{"albert.pooler.weight": np.zeros((2, 2), np.float32), "bert.extra": np.zeros(1)})
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(tmp_path / "m", config, bad)
    assert "albert.pooler.weight has shape [2, 2]" in str(info.value) and "bert.extra" in str(info.value)
    assert (tmp_path / "m" / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp folder left behind


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    from albert_core.checkpoint import safetensors_io

    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    path = tmp_path / "model.safetensors"
    write_safetensors(path, state)
    before = path.read_bytes()
    written = []

    def fail_on_third_tensor(handle, array):
        if len(written) == 2:
            raise OSError("No space left on device")
        written.append(array)
        handle.write(array.tobytes())

    monkeypatch.setattr(safetensors_io, "_write_array", fail_on_third_tensor)
    with pytest.raises(OSError, match="No space left"):
        write_safetensors(path, {k: v + 1 for k, v in state.items()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # the partial temp file is gone

    with pytest.raises(CheckpointError, match="tensor x has dtype object"):
        write_safetensors(path, {"x": np.zeros(3, dtype=object)})


def test_resave_keeps_tokenizer_files_but_not_stale_weight_formats(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "masked_lm")
    folder = tmp_path / "m"
    save_checkpoint(folder, config, state, extra_formats=("flax",))
    (folder / "spiece.model").write_bytes(b"tokenizer")
    save_checkpoint(folder, config, state)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "spiece.model"]


def test_tied_copies_in_a_backend_state_are_not_written(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "masked_lm")
    full = dict(state)
    full["predictions.decoder.weight"] = state["albert.embeddings.word_embeddings.weight"]
    full["predictions.decoder.bias"] = state["predictions.bias"]
    save_checkpoint(tmp_path / "m", config, full)
    written = safetensors.numpy.load_file(tmp_path / "m" / "model.safetensors")
    assert sorted(written) == sorted(state)


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("model.safetensors", Format.SAFETENSORS),
        ("pytorch_model.bin", Format.TORCH_BIN),
        ("tf_model.h5", Format.TF_H5),
        ("flax_model.msgpack", Format.FLAX_MSGPACK),
    ],
)
def test_detect_format_by_file_and_folder_preference(tmp_path, name, fmt):
    folder = HF_TINY / "tiny" / "base"
    assert detect_format(folder / name) == (fmt, folder / name)
    assert detect_format(folder)[0] is Format.SAFETENSORS  # HF's preference order


def test_detect_format_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no checkpoint in folder"):
        detect_format(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nothing_here" / "x.safetensors")
    (tmp_path / "weights.xyz").write_bytes(b"")
    with pytest.raises(CheckpointError, match="cannot tell the checkpoint format"):
        detect_format(tmp_path / "weights.xyz")


def test_a_file_without_config_needs_a_config_argument(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    write_safetensors(tmp_path / "w.safetensors", state)
    with pytest.raises(CheckpointError, match="pass config="):
        load_checkpoint(tmp_path / "w.safetensors")
    config2, state2 = load_checkpoint(tmp_path / "w.safetensors", config=config)
    assert config2 is config
    assert_same_state(state2, state)


def test_a_bert_config_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 8}))
    (tmp_path / "model.safetensors").write_bytes((HF_TINY / "tiny" / "base" / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match="model_type 'bert'"):
        load_checkpoint(tmp_path)


def test_no_framework_is_imported():
    import subprocess
    import sys

    code = (
        "import sys; from albert_core.checkpoint import load_checkpoint;"
        f"load_checkpoint({str(HF_TINY / 'tiny' / 'base')!r});"
        "print(sorted(m for m in ('torch', 'tensorflow', 'jax', 'flax', 'h5py', 'msgpack') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ})
    assert out.stdout.strip() == "[]"
