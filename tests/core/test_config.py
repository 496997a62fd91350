"""AlbertConfig: HF config.json round trips, presets, validation, derived values."""

import json

import pytest

from albert_core import AlbertConfig, ConfigError, PRESETS, preset_config

from ..conftest import FIXTURES

HF_CONFIGS = sorted(p.parent for p in (FIXTURES / "hf_configs").glob("*/config.json"))


def test_every_preset_has_an_hf_written_config():
    assert {p.name for p in HF_CONFIGS} >= set(PRESETS)


@pytest.mark.parametrize("folder", HF_CONFIGS, ids=lambda p: p.name)
def test_hf_config_round_trips_key_for_key(folder, tmp_path):
    written_by_hf = json.loads((folder / "config.json").read_text())
    config = AlbertConfig.from_pretrained(folder)
    config.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == written_by_hf


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_matches_hf_written_values(name):
    ours = preset_config(name).to_dict()
    hf = json.loads((FIXTURES / "hf_configs" / name / "config.json").read_text())
    hf.pop("transformers_version")
    assert ours == hf


def test_presets_by_hub_id_and_overrides():
    config = AlbertConfig.from_pretrained("albert/albert-large-v2", num_labels=4)
    assert (config.hidden_size, config.num_hidden_layers, config.num_labels) == (1024, 24, 4)
    assert config.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2", 3: "LABEL_3"}


def test_hf_defaults_are_xxlarge():
    c = AlbertConfig()
    assert (c.hidden_size, c.num_attention_heads, c.intermediate_size, c.hidden_act) == (4096, 64, 16384, "gelu_new")
    assert (c.pad_token_id, c.bos_token_id, c.eos_token_id, c.num_labels) == (0, 2, 3, 2)


def test_unknown_keys_survive(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "albert", "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 10, "gap_size": 0, "custom": {"a": [1, 2]}}))
    config = AlbertConfig.from_pretrained(tmp_path)
    assert config.extra == {"gap_size": 0, "custom": {"a": [1, 2]}}
    out = tmp_path / "out"
    config.save_pretrained(out)
    data = json.loads((out / "config.json").read_text())
    assert data["custom"] == {"a": [1, 2]} and data["gap_size"] == 0 and data["hidden_size"] == 64


def test_layer_to_group_follows_hf():
    c = AlbertConfig(hidden_size=8, num_attention_heads=2, intermediate_size=8, num_hidden_layers=5, num_hidden_groups=2)
    assert [c.group_of_layer(l) for l in range(5)] == [0, 0, 0, 1, 1]
    c = AlbertConfig(hidden_size=8, num_attention_heads=2, intermediate_size=8, num_hidden_layers=12, num_hidden_groups=12)
    assert [c.group_of_layer(l) for l in range(12)] == list(range(12))


def test_mlm_layer_norm_eps_only_written_when_set():
    c = preset_config("albert-base-v2")
    assert "mlm_layer_norm_eps" not in c.to_dict() and c.effective_mlm_layer_norm_eps == 1e-12
    k = c.replace(mlm_layer_norm_eps=1e-5)
    assert k.to_dict()["mlm_layer_norm_eps"] == 1e-5 and k.effective_mlm_layer_norm_eps == 1e-5


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"hidden_size": 100, "num_attention_heads": 12}, "not a multiple of num_attention_heads"),
        ({"hidden_size": -8}, "'hidden_size' must be ≥ 1"),
        ({"num_hidden_layers": 0}, "'num_hidden_layers' must be ≥ 1"),
        ({"hidden_act": "gelu_fancy"}, "unknown hidden_act 'gelu_fancy'"),
        ({"hidden_size": "768"}, "'hidden_size' must be an int"),
        ({"vocab_size": 30000.0}, "'vocab_size' must be an int"),
        ({"num_hidden_layers": True}, "'num_hidden_layers' must be an int"),
        ({"hidden_dropout_prob": 1.5}, "'hidden_dropout_prob' must be in"),
        ({"layer_norm_eps": 0.0}, "'layer_norm_eps' must be > 0"),
        ({"num_hidden_groups": 13}, "num_hidden_groups (13) must be ≤ num_hidden_layers (12)"),
        ({"position_embedding_type": "rotary"}, "unknown position_embedding_type"),
        ({"pad_token_id": 30000}, "pad_token_id (30000) must be < vocab_size"),
        ({"problem_type": "ranking"}, "unknown problem_type"),
        ({"vocab_size": 10**30}, "'vocab_size' is 1000000000000000000000000000000, over the limit"),
    ],
)
def test_validation_names_the_field(changes, message):
    with pytest.raises(ConfigError) as err:
        preset_config("albert-base-v2", **changes)
    assert message in str(err.value)


def test_any_depth_with_fewer_groups_is_valid():
    for layers in (1, 3, 7, 24):
        for groups in range(1, layers + 1, max(1, layers // 3)):
            AlbertConfig(hidden_size=8, num_attention_heads=2, intermediate_size=8, num_hidden_layers=layers, num_hidden_groups=groups)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"model_type": "bert"}', "model_type 'bert', not 'albert'"),
        ('{"hidden_size": 768, "num_attention_heads": 5}', "not a multiple"),
        ('{"id2label": ["a", "b"]}', "id2label must map integer ids"),
        ('{"not_a_field_but_bad_type": 1, "vocab_size": "big"}', "'vocab_size' must be an int"),
    ],
)
def test_malformed_config_json(tmp_path, content, message):
    (tmp_path / "config.json").write_text(content)
    with pytest.raises(ConfigError) as err:
        AlbertConfig.from_pretrained(tmp_path)
    assert message in str(err.value) and "config.json" in str(err.value)


def test_missing_config_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        AlbertConfig.from_pretrained(tmp_path)


def test_save_is_atomic_and_keeps_old_file_on_failure(tmp_path, monkeypatch):
    good = preset_config("albert-base-v2")
    good.save_pretrained(tmp_path)
    before = (tmp_path / "config.json").read_text()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("albert_core.config.AlbertConfig.to_json_string", explode)
    with pytest.raises(RuntimeError):
        good.replace(hidden_size=1024, num_attention_heads=16).save_pretrained(tmp_path)
    assert (tmp_path / "config.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_num_labels_and_label_maps():
    c = preset_config("albert-base-v2", num_labels=3)
    assert c.label2id == {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}
    d = AlbertConfig.from_dict({"label2id": {"neg": 0, "pos": 1}, "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 8})
    assert d.id2label == {0: "neg", 1: "pos"} and d.to_dict()["id2label"] == {"0": "neg", "1": "pos"}


def test_classifier_dropout_rule():
    c = preset_config("albert-base-v1")  # hidden_dropout_prob 0.1, classifier_dropout_prob 0.1
    assert c.classifier_dropout() == 0.1 and c.classifier_dropout(per_token=True) == 0.1
    none = c.replace(classifier_dropout_prob=None, hidden_dropout_prob=0.2)
    assert none.classifier_dropout() == 0.0 and none.classifier_dropout(per_token=True) == 0.2
