"""Fuzzing the numpy-only readers: damaged real checkpoints and forged structures.

Damage (truncation at any byte, a flipped bit anywhere or in the bytes that are not tensor data,
a few overwritten bytes) is applied to HF's own files for the tiny config, and the result judged
by tests/robustness/corrupt.py: a documented error, an identical load, or a change confined to
the tensor whose bytes were hit. Forged structures (safetensors headers, sharded indexes, Flax
msgpack trees, config.json) must give a state or a documented error, never anything else.
Example counts: tests/robustness/fuzzing.py (60 in the normal run, 10,000 under `tox -e fuzz`).
"""

from __future__ import annotations

import json
import shutil
import struct
from collections import Counter
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from albert_core.checkpoint.hf_flax_msgpack import read_hf_flax_msgpack
from albert_core.checkpoint.safetensors_io import read_safetensors, read_sharded
from albert_core.config import AlbertConfig
from albert_core.errors import CheckpointError, ConfigError, MissingDependencyError
from tests.robustness.damage import Target, fuzz_damaged_file
from tests.robustness.fuzzing import FUZZ, report

from .checkpoint_helpers import HF_TINY

SOURCE = HF_TINY / "tiny" / "base"
FILES = ["model.safetensors", "tf_model.h5", "flax_model.msgpack"]


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    work = tmp_path_factory.mktemp("fuzz")
    return {file: Target(file, work) for file in FILES}


@pytest.mark.parametrize("file", FILES)
def test_damaged_hf_file(targets, file):
    fuzz_damaged_file(targets[file], isolate=file.endswith(".h5"))


# ----- forged structures ---------------------------------------------------------------------


def read_or_reject(reader, path: Path, outcomes: Counter):
    """reader(path), or None after counting a CheckpointError that names the file (or the
    MissingDependencyError of a bf16/fp8 tensor where ml_dtypes is not installed: the core env)."""
    try:
        return reader(path)
    except CheckpointError as exc:
        assert str(path) in str(exc)
        outcomes["rejected"] += 1
    except MissingDependencyError as exc:
        assert exc.package == "ml_dtypes"
        outcomes["needs ml_dtypes"] += 1
    return None


DTYPE_CODES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "X", ""]
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=6)
DIMS = st.integers(-3, 40) | st.integers(2**31, 2**64) | st.just(1.5) | st.text(max_size=2)


@st.composite
def safetensors_files(draw) -> bytes:
    entries = {}
    for k in range(draw(st.integers(0, 4))):
        entry = {
            "dtype": draw(st.sampled_from(DTYPE_CODES) | JSON_SCALARS),
            "shape": draw(st.lists(DIMS, max_size=3) | JSON_SCALARS),
            "data_offsets": draw(st.lists(st.integers(-8, 200) | JSON_SCALARS, min_size=0, max_size=3)),
        }
        for key in draw(st.sets(st.sampled_from(list(entry)), max_size=1)):
            del entry[key]  # a missing field
        entries[f"t{k}"] = entry
    if draw(st.booleans()):
        entries["__metadata__"] = draw(st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2))
    header = json.dumps(entries).encode()
    declared = draw(st.sampled_from([len(header), len(header) + 1, max(len(header) - 1, 0), 2**63]))
    body = draw(st.binary(max_size=200))
    return struct.pack("<Q", declared) + header + body


def test_forged_safetensors_headers(tmp_path):
    outcomes = Counter()
    path = tmp_path / "x.safetensors"

    @FUZZ
    @given(safetensors_files())
    def run(content):
        path.write_bytes(content)
        state = read_or_reject(read_safetensors, path, outcomes)
        if state is None:
            return
        (length,) = struct.unpack("<Q", content[:8])
        header = json.loads(content[8 : 8 + length])
        for name, array in state.items():  # what loads is exactly what the header declares
            begin, end = header[name]["data_offsets"]
            assert list(array.shape) == header[name]["shape"]
            assert array.nbytes in (end - begin, 2 * (end - begin))  # bf16 widened without ml_dtypes
        outcomes["loaded"] += 1

    run()
    report("forged safetensors header", outcomes)


INDEX_VALUES = st.text(max_size=12) | st.sampled_from(
    ["model.safetensors", "../model.safetensors", "/etc/passwd", "sub/x.safetensors", "..", ".", "a\\b"]
)


def test_forged_sharded_indexes(tmp_path):
    outcomes = Counter()
    folder = tmp_path / "sharded"
    folder.mkdir()
    shutil.copy(SOURCE / "model.safetensors", folder)
    (tmp_path / "outside.safetensors").write_bytes((SOURCE / "model.safetensors").read_bytes())
    index = folder / "model.safetensors.index.json"

    @FUZZ
    @given(
        st.dictionaries(st.text(max_size=8), INDEX_VALUES | JSON_SCALARS, max_size=4)
        | st.lists(JSON_SCALARS, max_size=2)
        | JSON_SCALARS,
        st.booleans(),
    )
    def run(weight_map, wrapped):
        index.write_text(json.dumps({"weight_map": weight_map} if wrapped else weight_map))
        try:
            state = read_sharded(index, read_safetensors)
        except CheckpointError:
            outcomes["rejected"] += 1
            return
        # Only the shard beside the index can have been read.
        assert set(weight_map.values()) <= {"model.safetensors"}, weight_map
        assert set(state) >= set(weight_map)
        outcomes["loaded"] += 1

    run()
    report("forged sharded index", outcomes)


def _ext(array_like) -> msgpack.ExtType:
    shape, dtype, buffer = array_like
    return msgpack.ExtType(1, msgpack.packb((shape, dtype, buffer), use_bin_type=True))


MSGPACK_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=6) | st.binary(max_size=6)
LEAVES = st.builds(
    _ext,
    st.tuples(
        st.lists(st.integers(-2, 6), max_size=3) | st.integers(0, 4),
        st.sampled_from(["float32", "float16", "int8", "object", "bogus", "bfloat16", "<U2", "V4"]),
        st.binary(max_size=64),
    ),
) | MSGPACK_SCALARS | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=8))
KEYS = st.sampled_from(["kernel", "bias", "embedding", "scale", "albert", "embeddings", "params", "x"]) | st.integers(0, 3)
TREES = st.recursive(LEAVES, lambda children: st.dictionaries(KEYS, children, max_size=3), max_leaves=8)


def test_forged_flax_msgpack_trees(tmp_path):
    outcomes = Counter()
    path = tmp_path / "flax_model.msgpack"

    @FUZZ
    @given(TREES | st.builds(lambda: {"a": {"__msgpack_chunked_array__": True, "shape": {"0": 2}}}))
    def run(tree):
        path.write_bytes(msgpack.packb(tree, use_bin_type=True))
        state = read_or_reject(read_hf_flax_msgpack, path, outcomes)
        if state is None:
            return
        assert all(isinstance(v, np.ndarray) for v in state.values())
        outcomes["loaded"] += 1

    run()
    report("forged Flax msgpack tree", outcomes)


CONFIG_KEYS = [
    "vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_hidden_groups", "num_attention_heads",
    "intermediate_size", "inner_group_num", "hidden_act", "max_position_embeddings", "layer_norm_eps",
    "hidden_dropout_prob", "pad_token_id", "id2label", "num_labels", "architectures", "problem_type", "model_type",
    "position_embedding_type", "tie_word_embeddings", "label2id",
]


def test_forged_config_json(tmp_path):
    outcomes = Counter()
    path = tmp_path / "config.json"
    valid = json.loads((SOURCE / "config.json").read_text())

    @FUZZ
    @given(st.dictionaries(st.sampled_from(CONFIG_KEYS), JSON_SCALARS | st.lists(JSON_SCALARS, max_size=2)
                           | st.dictionaries(st.text(max_size=3), JSON_SCALARS, max_size=2), max_size=4),
           st.booleans())
    def run(changes, truncate):
        text = json.dumps({**valid, **changes})
        path.write_text(text[: len(text) // 2] if truncate else text)
        try:
            config = AlbertConfig.from_json_file(path)
        except ConfigError as exc:
            assert str(path) in str(exc)
            outcomes["rejected"] += 1
            return
        config.validate()  # what loads is valid, and round-trips
        assert AlbertConfig.from_dict(config.to_dict()) == config
        outcomes["loaded"] += 1

    run()
    report("forged config.json", outcomes)
