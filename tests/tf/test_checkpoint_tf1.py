"""TF1 checkpoints: albert_core's numpy reader (tf_bundle) against TensorFlow's own reader, and
checkpoints written by TensorFlow's Saver with the fine-tuning scripts' variable names."""

from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf

from albert_core.checkpoint import load_checkpoint, match_state
from albert_core.checkpoint.tf1 import tf1_names
from albert_core.checkpoint.tf_bundle import read_bundle
from albert_core.errors import CheckpointError
from tests.core.checkpoint_helpers import FIXTURES, HF_TINY, assert_same_state
from tests.core.test_checkpoint_tf1_bundle import some_tensors
from tests.core.tf_bundle_writer import write_bundle

TF1 = FIXTURES / "tf1"


def write_tf1(prefix, variables: dict[str, np.ndarray]) -> None:
    """A TF1 checkpoint holding exactly `variables` under their names (as tf.compat.v1.train.Saver writes)."""
    graph = tf.Graph()
    with graph.as_default():
        tf_vars = {name: tf.compat.v1.Variable(value, name=name) for name, value in variables.items()}
        saver = tf.compat.v1.train.Saver(var_list=tf_vars)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(prefix), write_meta_graph=False, write_state=False)


def assert_same_as_tensorflow(prefix) -> dict:
    """Every tensor TF's reader returns, ours returns with the same dtype, shape and bytes; what
    ours skips is exactly TF's string tensors. Returns ours."""
    reader = tf.train.load_checkpoint(str(prefix))
    names = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    bundle = read_bundle(prefix)
    assert sorted(bundle.tensors) + sorted(bundle.skipped) == sorted(n for n in names if dtypes[n] != tf.string) + sorted(
        n for n in names if dtypes[n] == tf.string
    )
    for name, ours in bundle.tensors.items():
        theirs = np.asarray(reader.get_tensor(name))
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), name
        assert ours.tobytes() == theirs.tobytes(), name
    return bundle.tensors


def test_the_google_research_fixture_reads_as_tensorflow_reads_it():
    tensors = assert_same_as_tensorflow(TF1 / "model.ckpt-125000")
    assert len(tensors) == 85 and "bert/embeddings/word_embeddings/adam_m" in tensors and tensors["global_step"].dtype == np.int64


def test_every_dtype_tensorflow_saves_reads_as_tensorflow_reads_it(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(3),
        "f16": rng.standard_normal((2, 2)).astype(np.float16),
        "bf16": rng.standard_normal(5).astype(ml_dtypes.bfloat16),
        "i32": np.arange(-2, 3, dtype=np.int32),
        "i64": np.array([2**40], dtype=np.int64),
        "i8": np.array([-5], dtype=np.int8),
        "u8": np.array([200], dtype=np.uint8),
        "i16": np.array([-300], dtype=np.int16),
        "u16": np.array([60000], dtype=np.uint16),
        "b": np.array([True, False, True]),
        "scalar": np.float32(1.5),
        "empty": np.zeros((0, 2), np.float32),
    }
    names = sorted(tensors) + ["strings"]
    values = [tensors[n] for n in sorted(tensors)] + [tf.constant([b"a", b"bc"])]
    tf.raw_ops.SaveV2(prefix=str(tmp_path / "m"), tensor_names=names, shape_and_slices=[""] * len(names), tensors=values)
    ours = assert_same_as_tensorflow(tmp_path / "m")
    assert sorted(ours) == sorted(tensors) and read_bundle(tmp_path / "m").skipped == {"strings": "a string tensor (no weights)"}


def test_a_large_index_of_many_blocks_reads_as_tensorflow_reads_it(tmp_path):
    """TF splits the index into ~4 KB blocks with prefix-compressed keys: 700 variables need many."""
    names = [f"bert/encoder/transformer/group_{i}/inner_group_0/attention_1/self/query/kernel" for i in range(700)]
    values = [np.full((2,), i, np.float32) for i in range(700)]
    tf.raw_ops.SaveV2(prefix=str(tmp_path / "m"), tensor_names=names, shape_and_slices=[""] * 700, tensors=values)
    assert len(assert_same_as_tensorflow(tmp_path / "m")) == 700


@pytest.mark.parametrize("num_shards", [1, 3])
def test_the_test_writers_bundles_are_real_checkpoints(tmp_path, num_shards):
    """tests/core/tf_bundle_writer.py (which the core tests forge bundles with) writes what TF reads."""
    tensors = some_tensors()
    write_bundle(tmp_path / "m", tensors, num_shards=num_shards, entries_per_block=4)
    ours = assert_same_as_tensorflow(tmp_path / "m")
    assert sorted(ours) == sorted(tensors)


def test_a_partitioned_variable_is_refused_by_name(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.get_variable("bert/embeddings/word_embeddings", shape=[8, 4],
                                  partitioner=tf.compat.v1.fixed_size_partitioner(2))
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(tmp_path / "model.ckpt-1"), write_meta_graph=False, write_state=False)
    with pytest.raises(CheckpointError, match=r"'bert/embeddings/word_embeddings' is a partitioned variable \(saved in slices\)"):
        read_bundle(tmp_path / "model.ckpt-1")


def test_google_config_json_and_fine_tuning_heads(tmp_path):
    """albert_config.json (google's "gelu" is the tanh GELU) and run_classifier / run_squad names."""
    config, state = load_checkpoint(HF_TINY / "tiny" / "base")
    google = json.loads((HF_TINY / "tiny" / "base" / "config.json").read_text())
    for key in ("architectures", "model_type", "transformers_version", "dtype", "bos_token_id", "eos_token_id", "pad_token_id"):
        google.pop(key, None)
    google["hidden_act"] = "gelu"
    (tmp_path / "albert_config.json").write_text(json.dumps(google))
    table = tf1_names(config)
    rng = np.random.default_rng(0)
    variables = {}
    for name, array in state.items():
        tf1_name, transposed = table[name]
        variables[tf1_name] = array.T.copy() if transposed else array
    variables["output_weights"] = rng.standard_normal((2, 32)).astype(np.float32)
    variables["output_bias"] = rng.standard_normal(2).astype(np.float32)
    variables["cls/squad/output_weights"] = rng.standard_normal((2, 32)).astype(np.float32)
    variables["cls/squad/output_bias"] = rng.standard_normal(2).astype(np.float32)
    write_tf1(tmp_path / "model.ckpt-7", variables)

    loaded_config, got = load_checkpoint(tmp_path)
    assert loaded_config.hidden_act == "gelu_new"
    np.testing.assert_array_equal(got["classifier.weight"], variables["output_weights"])
    np.testing.assert_array_equal(got["qa_outputs.bias"], variables["cls/squad/output_bias"])
    assert_same_state({k: v for k, v in got.items() if k.startswith("albert.")}, state)
    result = match_state(got, loaded_config, "question_answering")
    assert sorted(result.dropped) == ["albert.pooler.bias", "albert.pooler.weight", "classifier.bias", "classifier.weight"]
