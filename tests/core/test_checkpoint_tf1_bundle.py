"""google-research TF1 checkpoints read with numpy only (albert_core.checkpoint.tf_bundle, tf1).

The committed fixture (tests/fixtures/tf1, written by TensorFlow's Saver) reads to the HF state it
was made from; tensors are views of the mapped data file. Bundles written by tests/core/
tf_bundle_writer.py (several shards, several index blocks, every dtype) read back exactly, and forged
ones (partitioned variables, compressed or damaged index blocks, sizes or offsets past the data
file, big-endian bundles) are refused with the file and the tensor named. TensorFlow's own reader
agrees bit for bit: tests/tf/test_checkpoint_tf1.py.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys

import numpy as np
import pytest

from albert_core.checkpoint import Format, detect_format, load_checkpoint, match_state
from albert_core.checkpoint import tf_bundle
from albert_core.checkpoint.tf_bundle import read_bundle
from albert_core.cli import main
from albert_core.errors import CheckpointError, MissingDependencyError

from .checkpoint_helpers import FIXTURES, HF_TINY, assert_same_state, mapped_file
from .tf_bundle_writer import Entry, crc32c, data_file, header_proto, mask, table, write_bundle

TF1 = FIXTURES / "tf1"
PREFIX = "model.ckpt-125000"


@pytest.fixture
def python_crc32c(monkeypatch):
    """Checksums verified as with the google-crc32c package, by the tests' pure-Python crc32c."""
    monkeypatch.setattr(tf_bundle, "_crc32c_extend", lambda crc, chunk: crc32c(chunk, crc))


# ----- the committed google-research checkpoint ----------------------------------------------


@pytest.mark.parametrize("where", ["", PREFIX, f"{PREFIX}.index", f"{PREFIX}.data-00000-of-00001"])
def test_google_research_checkpoint_reads_to_the_hf_state(where):
    path = TF1 / where if where else TF1
    assert detect_format(path)[0] is Format.TF1
    config, state = load_checkpoint(path)
    # Written from HF's tiny-g2k2 pretraining weights by scripts/make_tf1_fixture.py, SOP head included.
    _, want = load_checkpoint(HF_TINY / "tiny-g2k2" / "pretraining")
    assert_same_state(state, want)
    assert state.skipped == {
        "bert/embeddings/word_embeddings/adam_m": "optimizer slot",
        "bert/embeddings/word_embeddings/adam_v": "optimizer slot",
        "cls/predictions/output_bias/adam_m": "optimizer slot",
        "cls/predictions/output_bias/adam_v": "optimizer slot",
        "global_step": "training counter",
    }
    result = match_state(state, config, "pretraining")
    assert result.initialised == [] and "global_step" in result.unexpected


def test_tensors_are_views_of_the_mapped_data_file_and_kernels_transposed_views():
    _, state = load_checkpoint(TF1)
    maps = {id(mapped_file(array)) for array in state.values()}
    assert len(maps) == 1 and None not in {mapped_file(a) for a in state.values()}  # one map, no copies
    kernel = state["albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight"]
    assert kernel.flags.f_contiguous and not kernel.flags.c_contiguous and not kernel.flags.writeable


def test_checksums_verify_with_a_crc32c_implementation(python_crc32c, tmp_path):
    """TF stores masked crc32c values for every tensor and index block; they match the fixture."""
    _, want = load_checkpoint(TF1)
    _, state = load_checkpoint(TF1)
    assert_same_state(state, want)
    folder = tmp_path / "flipped"
    shutil.copytree(TF1, folder)
    data = folder / f"{PREFIX}.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[500] ^= 0x01  # a bit inside bert/embeddings/position_embeddings
    data.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="position_embeddings fails its crc32c checksum"):
        load_checkpoint(folder)
    index = folder / f"{PREFIX}.index"
    raw = bytearray(index.read_bytes())
    raw[100] ^= 0x01
    index.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=f"{PREFIX}.index is not a readable .* fails its checksum"):
        load_checkpoint(folder)


def test_without_a_crc32c_package_a_flipped_data_bit_reads_as_it_is(monkeypatch, tmp_path):
    """What the module docstring promises: no checksum package, no verification (no crash either)."""
    monkeypatch.setattr(tf_bundle, "_crc32c_extend", None)
    folder = tmp_path / "flipped"
    shutil.copytree(TF1, folder)
    data = folder / f"{PREFIX}.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[500] ^= 0x01
    data.write_bytes(bytes(raw))
    _, state = load_checkpoint(folder)
    _, want = load_checkpoint(TF1)
    changed = [n for n in want if state[n].tobytes() != want[n].tobytes()]
    assert changed == ["albert.embeddings.position_embeddings.weight"]


def test_variables_outside_the_table_are_reported_by_name(tmp_path):
    config, state = load_checkpoint(TF1)
    folder = tmp_path / "more_groups"
    shutil.copytree(TF1, folder)
    smaller = config.replace(num_hidden_groups=1, num_hidden_layers=4)  # the file has 2 groups
    _, got = load_checkpoint(folder, config=smaller)
    with pytest.raises(CheckpointError, match="bert/encoder/transformer/group_1/inner_group_0/attention_1/self/query/kernel"):
        match_state(got, smaller, "pretraining")


def test_truncated_data_file_names_the_file_and_the_tensor(tmp_path):
    folder = tmp_path / "cut"
    shutil.copytree(TF1, folder)
    data = folder / f"{PREFIX}.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=rf"{PREFIX}.data-00000-of-00001 is truncated: tensor \S+ lies at bytes"):
        load_checkpoint(folder)


def test_a_checkpoint_without_config_needs_one(tmp_path):
    folder = tmp_path / "no_config"
    shutil.copytree(TF1, folder)
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError, match="pass config="):
        load_checkpoint(folder)


def test_every_truncation_of_the_index_is_refused_naming_it(tmp_path):
    folder = tmp_path / "cut"
    shutil.copytree(TF1, folder)
    index = folder / f"{PREFIX}.index"
    whole = index.read_bytes()
    for length in range(0, len(whole), 7):
        index.write_bytes(whole[:length])
        with pytest.raises(CheckpointError, match=f"{PREFIX}.index"):
            read_bundle(folder / PREFIX)


def test_flipped_index_bytes_give_a_named_error_or_tensors_inside_the_data_file(tmp_path):
    """Without checksums a flipped index byte may change a name or an offset; it never reads
    outside the data file, allocates from a forged size, or fails with anything but CheckpointError."""
    folder = tmp_path / "flipped"
    shutil.copytree(TF1, folder)
    index = folder / f"{PREFIX}.index"
    whole = index.read_bytes()
    data_size = (TF1 / f"{PREFIX}.data-00000-of-00001").stat().st_size
    outcomes = {"rejected": 0, "read": 0}
    for position in range(0, len(whole), 3):
        damaged = bytearray(whole)
        damaged[position] ^= 1 << (position % 8)
        index.write_bytes(bytes(damaged))
        try:
            bundle = read_bundle(folder / PREFIX)
        except CheckpointError as exc:
            assert PREFIX in str(exc)
            outcomes["rejected"] += 1
            continue
        for array in bundle.tensors.values():  # views of the mapped file, each inside it
            assert (mapped_file(array) is not None or array.size == 0) and array.nbytes <= data_size
        outcomes["read"] += 1
    assert outcomes["rejected"] > 0 and outcomes["read"] > 0, outcomes


def test_the_state_file_may_name_an_absolute_path_it_reads_the_checkpoint_in_this_folder(tmp_path):
    """TF writes the absolute path it saved to; a folder copied elsewhere still loads, from itself."""
    folder = tmp_path / "copied"
    shutil.copytree(TF1, folder)
    (folder / "checkpoint").write_text(f'model_checkpoint_path: "/somewhere/else/{PREFIX}"\n')
    _, state = load_checkpoint(folder)
    _, want = load_checkpoint(TF1)
    assert_same_state(state, want)


@pytest.mark.parametrize("named", [f"../outside/{PREFIX}", "/tmp/other/model.ckpt-7"])
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


# ----- bundles written by the test writer -----------------------------------------------------


def some_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    tensors = {f"layer_{i:02d}/kernel": rng.standard_normal((3, i + 1)).astype(np.float32) for i in range(12)}
    tensors.update({
        "x/float64": rng.standard_normal((2, 2)),
        "x/float16": rng.standard_normal(5).astype(np.float16),
        "x/int32": np.arange(-3, 3, dtype=np.int32),
        "x/int64": np.array([2**40, -1], dtype=np.int64),
        "x/int8": np.array([-128, 127], dtype=np.int8),
        "x/uint8": np.array([0, 255], dtype=np.uint8),
        "x/int16": np.array([-(2**15)], dtype=np.int16),
        "x/uint16": np.array([2**16 - 1], dtype=np.uint16),
        "x/uint32": np.array([2**32 - 1], dtype=np.uint32),
        "x/uint64": np.array([2**64 - 1], dtype=np.uint64),
        "x/bool": np.array([[True, False]]),
        "x/scalar": np.array(2.5, dtype=np.float32),
        "x/empty": np.zeros((0, 3), np.float32),
    })
    return tensors


@pytest.mark.parametrize("num_shards", [1, 3])
def test_every_dtype_several_shards_and_index_blocks_read_back_exactly(tmp_path, num_shards, python_crc32c):
    tensors = some_tensors()
    write_bundle(tmp_path / "model.ckpt-1", tensors, num_shards=num_shards, entries_per_block=4)
    bundle = read_bundle(tmp_path / "model.ckpt-1")
    assert sorted(bundle.tensors) == sorted(tensors) and bundle.skipped == {}
    for name, want in tensors.items():
        got = bundle.tensors[name]
        assert (got.dtype, got.shape, got.tobytes()) == (want.dtype, want.shape, want.tobytes()), name


def forged(tmp_path, change, tensors=None, **writer):
    """A small bundle whose index entries `change(entries)` alters (see write_bundle's forge)."""
    prefix = tmp_path / "model.ckpt-1"
    tmp_path.mkdir(exist_ok=True)
    tensors = tensors if tensors is not None else {"a/kernel": np.ones((2, 3), np.float32), "b/bias": np.zeros(3, np.float32)}
    write_bundle(prefix, tensors, forge=change, **writer)
    return prefix


def replaced(entry: Entry, **fields) -> Entry:
    return Entry(**{**vars(entry), **fields})


def test_string_tensors_and_other_dtypes_are_skipped_and_listed(tmp_path):
    def add(entries):
        entries["_CHECKPOINTABLE_OBJECT_GRAPH"] = Entry(dtype=7, shape=(), size=3)  # DT_STRING
        entries["c/handle"] = Entry(dtype=20, shape=())  # DT_RESOURCE

    bundle = read_bundle(forged(tmp_path, add))
    assert sorted(bundle.tensors) == ["a/kernel", "b/bias"]
    assert bundle.skipped == {"_CHECKPOINTABLE_OBJECT_GRAPH": "a string tensor (no weights)",
                              "c/handle": "TensorFlow dtype 20 (no weights are stored in it)"}


def test_bfloat16_needs_ml_dtypes_and_reads_with_it(tmp_path):
    bits = np.array([0x3F80, 0xC000], dtype=np.uint16)  # 1.0, -2.0 in bfloat16

    def as_bf16(entries):
        entries["w"] = replaced(entries["w"], dtype=14)

    prefix = forged(tmp_path, as_bf16, tensors={"w": bits})
    if importlib.util.find_spec("ml_dtypes") is None:
        with pytest.raises(MissingDependencyError, match="bfloat16 tensor w.*'ml_dtypes'"):
            read_bundle(prefix)
    else:
        got = read_bundle(prefix).tensors["w"]
        assert got.dtype.name == "bfloat16" and got.astype(np.float32).tolist() == [1.0, -2.0]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e.update({"a/kernel": replaced(e["a/kernel"], slices=[b"\x0a\x00"])}),
         r"'a/kernel' is a partitioned variable \(saved in slices\); only unpartitioned checkpoints are read"),
        (lambda e: e.update({"a/kernel": replaced(e["a/kernel"], shape=(4, 3))}),
         r"tensor a/kernel has shape \[4, 3\] of float32 \(48 bytes\) but 24 bytes stored"),
        (lambda e: e.update({"b/bias": replaced(e["b/bias"], offset=30)}),
         r"model.ckpt-1.data-00000-of-00001 is truncated: tensor b/bias lies at bytes 30..42 of a 36-byte file"),
        (lambda e: e.update({"b/bias": replaced(e["b/bias"], shard=1)}),
         r"tensor b/bias is in shard 1, but the header says 1 shards"),
        (lambda e: e.update({"b/bias": replaced(e["b/bias"], shape=(-3,))}),
         r"model.ckpt-1.index is not a readable TensorFlow checkpoint index: a negative dimension"),
    ],
    ids=["partitioned", "shape-vs-size", "offset-past-the-file", "shard-past-the-header", "negative-dim"],
)
def test_forged_entries_are_refused_by_name(tmp_path, change, message):
    with pytest.raises(CheckpointError, match=message):
        read_bundle(forged(tmp_path, change))


def test_index_structure_problems_are_refused(tmp_path):
    prefix = forged(tmp_path, lambda entries: None)
    index = tmp_path / "model.ckpt-1.index"
    bias = [(b"b/bias", Entry(1, (3,), size=12).encode())]
    kernel = [(b"a/kernel", Entry(1, (2, 3), offset=12, size=24).encode())]
    cases = [
        (table([(b"", header_proto(1))] + bias + kernel), r"keys out of order \(b'a/kernel' after b'b/bias'\)"),
        (table([(b"", header_proto(1, endianness=1))] + kernel), "a big-endian bundle"),
        (table(kernel + bias), r"no bundle header \(the entry with the empty key\)"),
        (table([(b"", header_proto(1))] + kernel, compression=1), r"a block is compressed \(type 1\)"),
        (table([(b"", header_proto(1))] + kernel)[:-1] + b"\0", "no table magic number"),
        (table([(b"", header_proto(0))] + kernel), "the header says 0 data shards"),
        (table([(b"", header_proto(1)), ("é".encode("latin-1"), kernel[0][1])]), "a tensor name that is not UTF-8"),
    ]
    for content, message in cases:
        index.write_bytes(content)
        with pytest.raises(CheckpointError, match=f"model.ckpt-1.index is not a readable TensorFlow checkpoint index: {message}"):
            read_bundle(prefix)


def test_a_missing_data_shard_is_named(tmp_path):
    prefix = forged(tmp_path, lambda e: None, num_shards=2)
    data_file(prefix, 1, 2).unlink()
    with pytest.raises(CheckpointError, match=r"cannot read the checkpoint data file \S+model.ckpt-1.data-00001-of-00002"):
        read_bundle(prefix)


def test_crc_helpers_match_the_published_check_values():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720)
    assert tf_bundle.unmask_crc(mask(0xE3069283)) == 0xE3069283


def test_no_framework_is_imported_and_convert_writes_the_hf_state(tmp_path, monkeypatch, capsys):
    """tensorflow (or any framework) unimportable: the checkpoint still reads and converts."""
    for framework in ("tensorflow", "torch", "jax"):
        monkeypatch.setitem(sys.modules, framework, None)  # import -> ImportError
    assert main(["convert", str(TF1), str(tmp_path / "out"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "(tf1)" in out and "skipped 5 key(s)" in out and "optimizer slot" in out
    _, got = load_checkpoint(tmp_path / "out")
    _, want = load_checkpoint(HF_TINY / "tiny-g2k2" / "pretraining")
    assert_same_state(got, want)
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == (HF_TINY / "tiny-g2k2" / "pretraining" / "model.safetensors").read_bytes()
