"""Original google-research TF1 checkpoints, read with tensorflow's checkpoint reader."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from albert_core.checkpoint import Format, detect_format, load_checkpoint, match_state
from albert_core.checkpoint.tf1 import tf1_names
from albert_core.errors import CheckpointError
from tests.core.checkpoint_helpers import FIXTURES, HF_TINY, assert_same_state

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


@pytest.mark.parametrize("where", ["", "model.ckpt-125000", "model.ckpt-125000.index", "model.ckpt-125000.data-00000-of-00001"])
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


def test_variables_outside_the_table_are_reported_by_name(tmp_path):
    config, state = load_checkpoint(TF1)
    folder = tmp_path / "more_groups"
    shutil.copytree(TF1, folder)
    smaller = config.replace(num_hidden_groups=1, num_hidden_layers=4)  # the file has 2 groups
    _, got = load_checkpoint(folder, config=smaller)
    with pytest.raises(CheckpointError, match="bert/encoder/transformer/group_1/inner_group_0/attention_1/self/query/kernel"):
        match_state(got, smaller, "pretraining")


def test_truncated_data_file(tmp_path):
    folder = tmp_path / "cut"
    shutil.copytree(TF1, folder)
    data = folder / "model.ckpt-125000.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="model.ckpt-125000"):
        load_checkpoint(folder)


def test_a_checkpoint_without_config_needs_one(tmp_path):
    folder = tmp_path / "no_config"
    shutil.copytree(TF1, folder)
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError, match="pass config="):
        load_checkpoint(folder)
