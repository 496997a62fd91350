"""HF's flax_model.msgpack, read and written with the msgpack package only (no JAX)."""

from __future__ import annotations

from pathlib import Path

import msgpack
import numpy as np
import pytest

from albert_core.checkpoint import load_checkpoint, save_checkpoint
from albert_core.checkpoint.hf_flax_msgpack import read_hf_flax_msgpack, write_hf_flax_msgpack
from albert_core.errors import CheckpointError

from .checkpoint_helpers import CONFIG_NAMES, HEADS, HF_TINY, assert_same_state
from albert_core.schema import Head




def unpack(path: Path) -> dict:
    """The raw tree, decoded independently of the reader (flax's documented ext encoding)."""

    def ext(code, data):
        shape, dtype, buffer = msgpack.unpackb(data, raw=False)
        return np.frombuffer(buffer, dtype=dtype).reshape(shape)

    return msgpack.unpackb(path.read_bytes(), ext_hook=ext, raw=False)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_hf_flax_msgpack_reads_to_hf_pytorch_state(config_name, head):
    folder = HF_TINY / config_name / head
    _, want = load_checkpoint(folder / "model.safetensors")  # written by HF PyTorch
    _, got = load_checkpoint(folder / "flax_model.msgpack")
    assert_same_state(got, want)


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_round_trip_is_bit_identical_and_the_tree_is_hf_flax_s(tmp_path, config_name, head):
    config, state = load_checkpoint(HF_TINY / config_name / head)
    save_checkpoint(tmp_path / "m", config, state, extra_formats=("flax",))
    assert_same_state(read_hf_flax_msgpack(tmp_path / "m" / "flax_model.msgpack"), state)

    def flat(tree, prefix=()):
        for k, v in tree.items():
            yield from flat(v, prefix + (k,)) if isinstance(v, dict) else [(prefix + (k,), v)]

    ours = dict(flat(unpack(tmp_path / "m" / "flax_model.msgpack")))
    hf = dict(flat(unpack(HF_TINY / config_name / head / "flax_model.msgpack")))
    assert sorted(ours) == sorted(hf)
    for key in hf:
        np.testing.assert_array_equal(ours[key], hf[key], err_msg="/".join(key))


def test_chunked_arrays_are_joined(tmp_path):
    """flax stores arrays above 1 GiB as chunk dicts; build one small by hand."""
    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    path = write_hf_flax_msgpack(tmp_path / "flax_model.msgpack", state, config)
    tree = unpack(path)
    table = tree["embeddings"]["word_embeddings"]["embedding"]
    flat = table.reshape(-1)
    pieces = [flat[: flat.size // 3], flat[flat.size // 3 :]]
    tree["embeddings"]["word_embeddings"]["embedding"] = {
        "__msgpack_chunked_array__": True,
        "shape": {str(i): d for i, d in enumerate(table.shape)},
        "chunks": {str(i): p for i, p in enumerate(pieces)},
    }

    def pack(x):
        return msgpack.ExtType(1, msgpack.packb((list(x.shape), x.dtype.name, x.tobytes()), use_bin_type=True))

    path.write_bytes(msgpack.packb(tree, default=pack, use_bin_type=True))
    np.testing.assert_array_equal(
        read_hf_flax_msgpack(path)["albert.embeddings.word_embeddings.weight"], state["albert.embeddings.word_embeddings.weight"]
    )


def test_truncated_and_foreign_msgpack(tmp_path):
    data = (HF_TINY / "tiny" / "base" / "flax_model.msgpack").read_bytes()
    (tmp_path / "flax_model.msgpack").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="flax_model.msgpack is truncated or not a Flax msgpack checkpoint"):
        read_hf_flax_msgpack(tmp_path / "flax_model.msgpack")
    (tmp_path / "list.msgpack").write_bytes(msgpack.packb([1, 2, 3]))
    with pytest.raises(CheckpointError, match="holds a list"):
        read_hf_flax_msgpack(tmp_path / "list.msgpack")
    (tmp_path / "odd.msgpack").write_bytes(msgpack.packb({"encoder": {"dense": {"weights": 3}}}))
    with pytest.raises(CheckpointError, match="encoder/dense/weights is a int"):
        read_hf_flax_msgpack(tmp_path / "odd.msgpack")


def test_writer_refuses_tensors_of_another_head(tmp_path):
    config, state = load_checkpoint(HF_TINY / "tiny" / "pretraining")
    with pytest.raises(CheckpointError, match="albert.pooler.bias, albert.pooler.weight, sop_classifier.classifier.bias, sop_classifier.classifier.weight to flax_model.msgpack: not tensors of AlbertForMaskedLM"):
        write_hf_flax_msgpack(tmp_path / "f.msgpack", state, config, Head.MASKED_LM)
