"""Bad input gives a clear error with the numbers, raised before anything is compiled or run."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import albert_flax
from albert_core.errors import CheckpointError, ConfigError
from albert_core.inputs import InputError

from .helpers import tiny_config, token_ids


@pytest.fixture(scope="module")
def config():
    return tiny_config()


@pytest.fixture(scope="module")
def mlm(config):
    return albert_flax.AlbertForMaskedLM(config)


def test_ids_outside_the_vocabulary(mlm, config):
    ids, _ = token_ids(config)
    ids[0, 3] = config.vocab_size
    with pytest.raises(InputError, match=r"input_ids contain 64, outside the vocabulary \[0, 64\)"):
        mlm(ids)
    ids[0, 3] = -1
    with pytest.raises(InputError, match="contain -1"):
        mlm(jnp.asarray(ids))  # jax arrays are checked too


def test_sequence_longer_than_the_position_table(mlm, config):
    ids = np.ones((1, config.max_position_embeddings + 1), np.int32)
    with pytest.raises(InputError, match=r"sequence length 33 exceeds max_position_embeddings \(32\)"):
        mlm(ids)


def test_mismatched_shapes(mlm, config):
    ids, mask = token_ids(config)
    with pytest.raises(InputError, match=r"attention_mask has shape \[2, 6\] but the input has shape \[2, 7\]"):
        mlm(ids, attention_mask=mask[:, :6])
    with pytest.raises(InputError, match=r"input_ids must have shape \[batch, seq\], got \[7\]"):
        mlm(ids[0])
    with pytest.raises(InputError, match="token_type_ids must lie in"):
        mlm(ids, token_type_ids=np.full_like(ids, 2))
    with pytest.raises(InputError, match="exactly one of input_ids and inputs_embeds"):
        mlm(ids, inputs_embeds=np.zeros((2, 7, config.embedding_size), np.float32))
    with pytest.raises(InputError, match="input_ids must be integers"):
        mlm(ids.astype(np.float32))


def test_bad_labels(mlm, config):
    ids, _ = token_ids(config)
    with pytest.raises(InputError, match=r"labels for masked_lm must have shape \[2, 7\], got \[2, 6\]"):
        mlm(ids, labels=ids[:, :6])
    with pytest.raises(InputError, match=r"labels for masked_lm must lie in \[0, 64\), got \[-100, 64\]|got \[\d+, 64\]"):
        mlm(ids, labels=np.where(ids > 30, config.vocab_size, -100))
    classifier = albert_flax.AlbertForSequenceClassification(config.replace(num_labels=3))
    with pytest.raises(InputError, match=r"must lie in \[0, 3\), got \[0, 3\]"):
        classifier(ids, labels=np.array([0, 3]))
    with pytest.raises(InputError, match="multi-label classification, which needs labels of shape"):
        classifier(ids, labels=np.array([0.0, 1.0], np.float32))
    choice = albert_flax.AlbertForMultipleChoice(config)
    with pytest.raises(InputError, match=r"lie in \[0, 2\)"):
        choice(np.stack([ids, ids], axis=1), labels=np.array([0, 2]))


def test_incomplete_or_unknown_label_arguments(config):
    ids, _ = token_ids(config)
    qa = albert_flax.AlbertForQuestionAnswering(config)
    with pytest.raises(InputError, match=r"start_positions must have shape \[2\] or \[2, 1\], got \[2, 2\]"):
        qa(ids, start_positions=np.zeros((2, 2), np.int32), end_positions=np.zeros(2, np.int32))
    expected = r"unexpected argument\(s\) \['labels'\]; label arguments: start_positions, end_positions"
    with pytest.raises(TypeError, match=expected):
        qa(ids, labels=ids)


def test_question_answering_needs_two_labels(config):
    with pytest.raises(ConfigError, match="num_labels == 2"):
        albert_flax.AlbertForQuestionAnswering(config.replace(num_labels=3))


def test_train_without_a_dropout_key(config):
    model = albert_flax.AlbertModel(config.replace(hidden_dropout_prob=0.1))
    ids, _ = token_ids(config)
    with pytest.raises(InputError, match="train=True needs dropout_rng"):
        model(ids, train=True)


def test_head_mask_of_the_wrong_shape(config):
    model = albert_flax.AlbertModel(config)
    ids, _ = token_ids(config)
    with pytest.raises(InputError, match=r"head_mask must have shape \[2\] or \[num_hidden_layers=3, 2\], got \[2, 2\]"):
        model(ids, head_mask=np.ones((2, 2), np.float32))


def test_shape_errors_also_raise_under_your_own_jit(config):
    model = albert_flax.AlbertForTokenClassification(config)
    ids, _ = token_ids(config)
    forward = jax.jit(model.apply)
    with pytest.raises(InputError, match="labels for token_classification must have shape"):
        forward(model.params, input_ids=ids, labels=ids[:, :3])


def test_params_of_the_wrong_shape(config):
    model = albert_flax.AlbertModel(config)
    params = jax.tree_util.tree_map(lambda x: x, model.params)
    params["pooler"]["kernel"] = jnp.zeros((3, 3))
    del params["embeddings"]["LayerNorm"]
    with pytest.raises(CheckpointError) as error:
        model.params = params
    assert "pooler/kernel has shape [3, 3], expected [16, 16]" in str(error.value)
    assert "missing embeddings/LayerNorm/bias" in str(error.value)


def test_config_of_the_wrong_type():
    with pytest.raises(ConfigError, match="needs an albert_core.AlbertConfig, got dict"):
        albert_flax.AlbertModel({"hidden_size": 16})
