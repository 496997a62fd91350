"""Bad input at every numpy-only entry point: the tokenizer, the config, the checkpoint readers and
writers, the CLI. Each gets a documented error naming the cause, or a correct result; never a
hang, a crash from deep inside a library, or a silent wrong result. (The readers are also fuzzed
in test_fuzz_readers.py, the tokenizer in test_fuzz_tokenizer.py; crash safety of saves is
test_robustness_sigkill.py.)
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from albert_core.checkpoint import load_checkpoint, match_state, save_checkpoint
from albert_core.checkpoint.safetensors_io import write_safetensors
from albert_core.config import MAX_LABELS, AlbertConfig
from albert_core.errors import CheckpointError, ConfigError, TokenizerError

from .checkpoint_helpers import HF_TINY

BASE = HF_TINY / "tiny" / "base"

# ----- tokenizer ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\t\n\r ", "\u3000\u200b", "\x00"])
def test_empty_and_whitespace_text_encodes_to_the_special_tokens(tokenizer, text):
    ids = tokenizer(text)["input_ids"]
    expected = [tokenizer.cls_token_id, tokenizer.sep_token_id]
    assert ids == expected or (text == "\x00" and ids[0] == expected[0] and ids[-1] == expected[1])


@pytest.mark.parametrize(
    "text, message",
    [
        (b"bytes", r"text must be a str or a list of str .*got bytes"),
        (b"\xff\xfe".decode("utf-8", "surrogateescape"), r"lone surrogate '\\udcff' at index 0"),  # invalid UTF-8 read leniently
        ("ok \ud800 not", r"lone surrogate '\\ud800' at index 3"),
        (None, r"got NoneType"),
        (3.5, r"got float"),
        (["fine", None], r"text must be a str, got NoneType"),
        ([], r"empty batch"),
    ],
)
def test_text_that_is_no_text_is_a_tokenizer_error(tokenizer, text, message):
    with pytest.raises(TokenizerError, match=message):
        tokenizer(text)


def test_surrogates_are_refused_on_every_path(tokenizer):
    for call in (
        lambda: tokenizer("a\udfffb", return_offsets_mapping=True),
        lambda: tokenizer.tokenize("\ud83d"),
        lambda: tokenizer(["fine", "x\ud800"], padding=True),
        lambda: tokenizer("fine", "pair\ud800"),
    ):
        with pytest.raises(TokenizerError, match="lone surrogate"):
            call()


@pytest.mark.parametrize("unit, offsets", [("hello world. ", False), ("hello world. ", True), ("é😀你", False)])
def test_a_one_megabyte_string_encodes_in_bounded_time(tokenizer, unit, offsets):
    text = unit * (1_000_000 // len(unit.encode()))
    assert len(text.encode()) > 990_000
    started = time.perf_counter()
    encoding = tokenizer(text, return_offsets_mapping=offsets, truncation=True, max_length=512)
    assert time.perf_counter() - started < 30  # ~1-2 s here; a hang or quadratic blow-up fails
    assert len(encoding["input_ids"]) == 512
    assert all(0 <= i < tokenizer.vocab_size for i in encoding["input_ids"])
    if text.isascii():
        assert tokenizer.decode(encoding["input_ids"][1:4]) == "hello world."


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: t.decode([-1]), r"token id -1 is out of the vocabulary range \[0, 8000\)"),
        (lambda t: t.decode([8000]), r"token id 8000 is out of the vocabulary range"),
        (lambda t: t.decode([1.5]), r"token ids must be integers, got 1.5"),
        (lambda t: t("a", max_length=-1, truncation=True), r"max_length must be a non-negative int, got -1"),
        (lambda t: t("a", return_tensors="xx"), r"unknown return_tensors 'xx'"),
        (lambda t: t(["a", "b"], ["c"]), r"text has 2 items but text_pair has 1"),
    ],
)
def test_bad_ids_and_options_are_tokenizer_errors(tokenizer, call, message):
    with pytest.raises(TokenizerError, match=message):
        call(tokenizer)


# ----- config ------------------------------------------------------------------------------------

SIZES = ["vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
         "intermediate_size", "max_position_embeddings", "type_vocab_size", "num_hidden_groups", "inner_group_num"]
TINY = dict(vocab_size=100, embedding_size=8, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)


@pytest.mark.parametrize("field", SIZES)
@pytest.mark.parametrize("value", [-1, 0, 1.5, "8", True, None, [], math.nan])
def test_sizes_of_the_wrong_type_or_sign_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        AlbertConfig.from_dict({**TINY, field: value})


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(hidden_act="gelu_newer"), r"unknown hidden_act 'gelu_newer'; supported: gelu"),
        (dict(hidden_act=None), r"unknown hidden_act None"),
        (dict(layer_norm_eps=-1e-12), r"layer_norm_eps"),
        (dict(hidden_dropout_prob=1.0), r"hidden_dropout_prob' must be in \[0.0, 1.0\)"),
        (dict(initializer_range=math.inf), r"initializer_range' must be a finite number"),
        (dict(architectures="AlbertModel"), r"architectures must be a list of class names"),
        (dict(architectures=[3]), r"architectures must be a list of class names"),
        (dict(label2id=False), r"label2id must map names to integer ids"),
        (dict(id2label=["a"]), r"id2label must map integer ids to names"),
        (dict(num_labels=MAX_LABELS + 1), r"at most 1,000,000 labels"),
        (dict(num_labels=10**12), r"at most 1,000,000 labels"),  # once: a 10^12-entry table, out of memory
        (dict(model_type="bert"), r"model_type 'bert', not 'albert'"),
        (dict(position_embedding_type="rotary"), r"unknown position_embedding_type 'rotary'"),
        (dict(hidden_size=15), r"hidden_size \(15\) is not a multiple of num_attention_heads \(2\)"),
    ],
)
def test_inconsistent_configs_name_the_cause(changes, message):
    with pytest.raises(ConfigError, match=message):
        AlbertConfig.from_dict({**TINY, **changes})


@pytest.mark.parametrize("content", [b"", b"\xff\xfe{", b"[1, 2]", b'{"vocab_size": ', b"null"])
def test_config_json_that_is_not_a_config(tmp_path, content):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=str(path)):
        AlbertConfig.from_json_file(path)


# ----- checkpoints -------------------------------------------------------------------------------


def test_paths_that_do_not_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_checkpoint(tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="no checkpoint in folder"):
        load_checkpoint(tmp_path)


def test_destinations_that_cannot_be_written(tmp_path):
    config, state = load_checkpoint(BASE)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="a_file"):
        save_checkpoint(blocker, config, state)
    with pytest.raises((NotADirectoryError, FileExistsError)):
        save_checkpoint(blocker / "inside", config, state)
    assert blocker.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # no temp folder left behind


@pytest.mark.parametrize("file", ["model.safetensors", "tf_model.h5", "flax_model.msgpack"])
def test_nan_and_inf_are_named_in_a_warning_in_every_format(tmp_path, file):
    config, state = load_checkpoint(BASE)
    state = dict(match_state(state, config, "base").state)
    state["albert.pooler.bias"] = state["albert.pooler.bias"].copy()
    state["albert.pooler.bias"][3] = np.nan
    state["albert.embeddings.LayerNorm.weight"] = np.full_like(state["albert.embeddings.LayerNorm.weight"], np.inf)
    extra = {"tf_model.h5": ["tf"], "flax_model.msgpack": ["flax"]}.get(file, [])
    save_checkpoint(tmp_path / "m", config, state, extra_formats=extra, head="base")
    with pytest.warns(RuntimeWarning, match=r"NaN or Inf values in .*albert\.embeddings\.LayerNorm\.weight, albert\.pooler\.bias|"
                                            r"NaN or Inf values in .*albert\.pooler\.bias.*LayerNorm"):
        _, loaded = load_checkpoint(tmp_path / "m" / file, config=config)
    assert np.isnan(loaded["albert.pooler.bias"][3])  # the values are kept as they are: a warning, not a repair


def test_a_bert_checkpoint_is_named_as_another_architecture(tmp_path):
    config, _ = load_checkpoint(BASE)
    bert = {
        "bert.embeddings.word_embeddings.weight": np.zeros((100, 16), np.float32),
        "bert.encoder.layer.0.attention.self.query.weight": np.zeros((16, 16), np.float32),
    }
    write_safetensors(tmp_path / "model.safetensors", bert)
    _, state = load_checkpoint(tmp_path / "model.safetensors", config=config)
    with pytest.raises(CheckpointError, match=r"another architecture \(e\.g\. BERT\)"):
        match_state(state, config, "base")


@pytest.mark.parametrize("shard", ["../outside.safetensors", "/etc/passwd", "sub/model.safetensors", "..", ""])
def test_an_index_never_reads_outside_its_folder(tmp_path, shard):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(BASE / "config.json", folder)
    (folder / "sub").mkdir()
    shutil.copy(BASE / "model.safetensors", folder / "sub" / "model.safetensors")
    shutil.copy(BASE / "model.safetensors", tmp_path / "outside.safetensors")
    index = {"metadata": {}, "weight_map": {"albert.pooler.bias": shard}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="not a file name in the index's folder"):
        load_checkpoint(folder)


@pytest.mark.parametrize("file", ["model.safetensors", "tf_model.h5", "flax_model.msgpack"])
def test_truncation_at_every_64th_byte_is_refused(tmp_path, file):
    """Systematic, not random: every 64th cut of each numpy-readable format (fuzzed further in
    test_fuzz_readers.py)."""
    config, _ = load_checkpoint(BASE)
    data = (BASE / file).read_bytes()
    target = tmp_path / file
    refused = 0
    for size in list(range(0, len(data), 64)) + [len(data) - 1]:
        target.write_bytes(data[:size])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(CheckpointError, match=str(target)):
                load_checkpoint(target, config=config)
        refused += 1
    assert refused > 700


# ----- CLI ---------------------------------------------------------------------------------------


def albert(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # as in every tox env: no network retries
    return subprocess.run([sys.executable, "-m", "albert_core.cli", *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize(
    "args, message",
    [
        (["info", "no/such/dir/at/all"], r"albert info: error: .*no/such/dir/at/all"),
        (["info", "{bad}"], r"albert info: error: "),
        (["convert", "no_such_source", "out"], r"albert convert: error: .*no_such_source"),
        # with fewer than two backends installed (the core env) verify says it cannot compare
        (["verify", "no_such_model"], r"albert verify: error: (.*no_such_model|verify compares backends and needs at least two)"),
    ],
)
def test_cli_errors_are_one_line_not_a_traceback(args, message):
    result = albert(*args)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(message, result.stderr), result.stderr


def test_cli_info_on_a_malformed_config(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "albert", "hidden_size": -4}')
    result = albert("info", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "hidden_size" in result.stderr
