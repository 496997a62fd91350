"""HF's flax_model.msgpack, read and written with the msgpack package only (no JAX)."""

from __future__ import annotations

import io
from pathlib import Path

import msgpack
import numpy as np
import pytest

from albert_core.checkpoint import load_checkpoint, save_checkpoint
from albert_core.checkpoint.hf_flax_msgpack import read_hf_flax_msgpack, write_hf_flax_msgpack
from albert_core.errors import CheckpointError

from albert_core.schema import Head

from .checkpoint_helpers import CONFIG_NAMES, HEADS, HF_TINY, assert_same_state, mapped_file


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


# ----- the memory-mapped reader and the streaming writer ---------------------------------------


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("head", HEADS)
def test_writer_gives_flaxs_own_bytes(tmp_path, config_name, head):
    """HF wrote these files with flax.serialization.to_bytes; read and written back, byte for byte."""
    hf_file = HF_TINY / config_name / head / "flax_model.msgpack"
    config, _ = load_checkpoint(HF_TINY / config_name / head / "model.safetensors")
    state = read_hf_flax_msgpack(hf_file)  # kernels are transposed views: written in row blocks
    written = write_hf_flax_msgpack(tmp_path / "flax_model.msgpack", state, config)
    assert written.read_bytes() == hf_file.read_bytes()


def test_reader_returns_views_of_the_mapped_file_kernels_transposed():
    state = read_hf_flax_msgpack(HF_TINY / "tiny" / "masked_lm" / "flax_model.msgpack")
    maps = {id(mapped_file(array)) for array in state.values()}
    assert len(maps) == 1 and None not in {mapped_file(a) for a in state.values()}  # one map, no copies
    kernel = state["albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"]
    assert kernel.flags.f_contiguous and not kernel.flags.c_contiguous and not kernel.flags.writeable


def reference_leaf(array: np.ndarray) -> bytes:
    """What the previous writer (and flax) wrote for one leaf: msgpack's ExtType of the packed triple."""
    payload = msgpack.packb((list(array.shape), array.dtype.name, array.tobytes()), use_bin_type=True)
    return msgpack.packb(msgpack.ExtType(1, payload), use_bin_type=True)


@pytest.mark.parametrize(
    "array",
    [
        np.float32(2.5).reshape(()),  # payload of 16 bytes: fixext 16
        np.arange(3, dtype=np.int8),  # ext 8
        np.arange(230, dtype=np.uint8),  # payload just under / over 255 bytes
        np.arange(250, dtype=np.uint8),
        np.arange(65_500, dtype=np.uint8),  # bin 16 inside ext 16, and over
        np.arange(65_540, dtype=np.uint8),
        np.arange(70_000, dtype=np.float32).reshape(350, 200),  # bin 32, ext 32
        np.arange(70_000, dtype=np.float32).reshape(350, 200).T,  # transposed: written in row blocks
        np.arange(24, dtype=np.float16).reshape(2, 3, 4).transpose(2, 0, 1),
        np.zeros((0, 5), np.float32),
        np.array([True, False]),
    ],
    ids=lambda a: f"{a.dtype}{list(a.shape)}{'' if a.flags.c_contiguous else 'T'}",
)
def test_each_leaf_is_msgpacks_bytes_for_it(array, monkeypatch):
    from albert_core.checkpoint import blocks, hf_flax_msgpack

    monkeypatch.setattr(blocks, "BLOCK_BYTES", 1000)  # many blocks even for small arrays
    handle = io.BytesIO()
    hf_flax_msgpack._write_array(handle, msgpack.Packer(use_bin_type=True), array, "x", Path("f.msgpack"))
    assert handle.getvalue() == reference_leaf(array)  # tobytes() is C order whatever the layout


def decoded_both_ways(path: Path):
    """(the memory-mapped walker's tree or None, the msgpack package's tree or its CheckpointError)."""
    from albert_core.checkpoint import hf_flax_msgpack

    mapped = hf_flax_msgpack._decode_mapped(path)
    try:
        whole = hf_flax_msgpack._decode_whole(path, msgpack)
    except CheckpointError as exc:
        whole = exc
    return mapped, whole


def assert_same_tree(a, b, where="") -> None:
    if isinstance(b, dict):
        assert isinstance(a, dict) and list(a) == list(b), where
        for key in b:
            assert_same_tree(a[key], b[key], f"{where}/{key}")
    elif isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes()), where
    else:
        assert type(a) is type(b) and a == b, where


def structure_positions(path: Path) -> list[int]:
    """The byte positions of `path` that are not array data (keys, headers, shapes, dtype names)."""
    from albert_core.checkpoint import hf_flax_msgpack

    tree, data = hf_flax_msgpack._decode_mapped(path), set()
    stack = [tree]
    while stack:
        node = stack.pop()
        for value in node.values():
            if isinstance(value, dict):
                stack.append(value)
            else:
                start = value.__array_interface__["data"][0] - np.frombuffer(mapped_file(value), np.uint8).__array_interface__["data"][0]
                data.update(range(start, start + value.nbytes))
    return [i for i in range(path.stat().st_size) if i not in data]


def test_the_walker_decodes_what_msgpack_decodes_or_leaves_the_file_to_it(tmp_path):
    """Truncations, and a flipped bit in every byte that is not array data (and in some that are),
    of a real file: where the mapped walker gives a tree, msgpack gives the same tree; every other
    file is judged by msgpack alone."""
    source = HF_TINY / "tiny" / "pretraining" / "flax_model.msgpack"
    whole = source.read_bytes()
    flips = structure_positions(source) + list(range(0, len(whole), 499))
    damaged = [whole[:n] for n in range(0, len(whole), 251)]
    damaged += [whole[:i] + bytes([whole[i] ^ (1 << (i % 8))]) + whole[i + 1 :] for i in flips]
    path = tmp_path / "flax_model.msgpack"
    outcomes = {"walker": 0, "msgpack only": 0}
    for content in [whole] + damaged:
        path.write_bytes(content)
        mapped, reference = decoded_both_ways(path)
        if mapped is not None:
            assert not isinstance(reference, CheckpointError)
            assert_same_tree(mapped, reference)
        outcomes["walker" if mapped is not None else "msgpack only"] += 1
    assert outcomes["walker"] > 100 and outcomes["msgpack only"] > 100, outcomes


def test_files_outside_flaxs_subset_are_read_by_msgpack(tmp_path):
    """A nil, a float or an integer key are msgpack that flax never writes: decoded whole, judged as before."""
    path = tmp_path / "flax_model.msgpack"
    for tree, message in [({"x": 1.5}, "x is a float"), ({"x": None}, "x is a NoneType"), ({3: {"a": 1}}, "key 3 under the root is not a string")]:
        path.write_bytes(msgpack.packb(tree))
        assert decoded_both_ways(path)[0] is None
        with pytest.raises(CheckpointError, match=message):
            read_hf_flax_msgpack(path)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="flax_model.msgpack is truncated or not a Flax msgpack checkpoint"):
        read_hf_flax_msgpack(path)
