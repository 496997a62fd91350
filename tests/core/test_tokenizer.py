"""AlbertTokenizer API: special tokens, padding/truncation, tensors, saving, loading, bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from albert_core.errors import TokenizerError
from albert_core.tokenizer import AlbertTokenizer, AlbertTokenizerFast, BatchEncoding

from ..conftest import SPIECE_MODEL


def test_special_ids_are_albert_layout(tokenizer):
    ids = [tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id]
    assert ids == [0, 1, 2, 3, 4]
    assert tokenizer.convert_ids_to_tokens(ids) == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert tokenizer.convert_tokens_to_ids(["[MASK]", "▁the"]) == [4, tokenizer.get_vocab()["▁the"]]
    assert len(tokenizer) == tokenizer.vocab_size == 8000 and AlbertTokenizerFast is AlbertTokenizer


def test_special_token_helpers(tokenizer):
    a, b = [10, 11, 12], [20, 21]
    assert tokenizer.build_inputs_with_special_tokens(a) == [2, 10, 11, 12, 3]
    assert tokenizer.build_inputs_with_special_tokens(a, b) == [2, 10, 11, 12, 3, 20, 21, 3]
    assert tokenizer.get_special_tokens_mask(a, b) == [1, 0, 0, 0, 1, 0, 0, 1]
    assert tokenizer.get_special_tokens_mask([2, 10, 4, 3], already_has_special_tokens=True) == [1, 0, 1, 1]
    assert tokenizer.create_token_type_ids_from_sequences(a, b) == [0, 0, 0, 0, 0, 1, 1, 1]


def test_batch_padding_and_tensors(tokenizer):
    texts = ["a short one", "a much longer sentence about functions and classes"]
    enc = tokenizer(texts, padding=True, return_tensors="np", return_special_tokens_mask=True)
    assert isinstance(enc, BatchEncoding) and enc.input_ids is enc["input_ids"]
    assert enc["input_ids"].dtype == np.int64 and enc["input_ids"].shape[0] == 2
    lengths = enc["attention_mask"].sum(axis=1)
    assert lengths[0] < lengths[1] == enc["input_ids"].shape[1]
    short = enc["input_ids"][0]
    assert (short[lengths[0]:] == tokenizer.pad_token_id).all() and (enc["special_tokens_mask"][0][lengths[0]:] == 1).all()
    single = tokenizer(texts[0], return_tensors="np")
    assert single["input_ids"].shape == (1, lengths[0])


def test_left_padding_and_multiple_of(spiece_model):
    tok = AlbertTokenizer(spiece_model, padding_side="left")
    enc = tok(["one", "one two three four"], padding=True, pad_to_multiple_of=8)
    assert all(len(row) == 8 for row in enc["input_ids"])
    assert enc["input_ids"][0][:5] == [0] * 5 and enc["attention_mask"][0][:5] == [0] * 5


def test_truncation_strategies(tokenizer):
    long_a = "word " * 30
    long_b = "other " * 10
    for strategy in ("longest_first", "only_first"):
        enc = tokenizer(long_a, long_b, truncation=strategy, max_length=20)
        assert len(enc["input_ids"]) == 20
    enc = tokenizer("x " * 5, "y " * 40, truncation="only_second", max_length=16)
    assert len(enc["input_ids"]) == 16 and enc["token_type_ids"].count(0) == 7
    enc = tokenizer(long_a, max_length=10)  # max_length alone truncates (HF's default strategy)
    assert len(enc["input_ids"]) == 10 and enc["input_ids"][-1] == tokenizer.sep_token_id
    padded = tokenizer("short", padding="max_length", max_length=12)
    assert len(padded["input_ids"]) == 12


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: t("some words here", max_length=1, truncation=True), "smaller than the 2 special tokens"),
        (lambda t: t("a b", "c d", max_length=2, truncation=True), "smaller than the 3 special tokens"),
        (lambda t: t("a", "b " * 20, max_length=6, truncation="only_first"), "first sequence has only"),
        (lambda t: t("a " * 20, "b", max_length=6, truncation="only_second"), "second sequence has only"),
        (lambda t: t(["a", "bb c"], return_tensors="np"), "pass padding=True"),
        (lambda t: t(123), "text must be a str"),
        (lambda t: t([]), "empty batch"),
        (lambda t: t(["a", "b"], ["c"]), "text has 2 items but text_pair has 1"),
        (lambda t: t("a", padding="sideways"), "unknown padding"),
        (lambda t: t("a", truncation="middle"), "unknown truncation"),
        (lambda t: t("a", return_tensors="arrow"), "unknown return_tensors"),
        (lambda t: t.decode([5, 8000]), "token id 8000 is out of the vocabulary range [0, 8000)"),
        (lambda t: t.decode([-1]), "token id -1 is out of the vocabulary range"),
        (lambda t: t.decode([1.5]), "token ids must be integers"),
        (lambda t: t("a", padding="max_length"), "needs max_length"),
    ],
)
def test_bad_input_errors(tokenizer, call, message):
    with pytest.raises(TokenizerError) as err:
        call(tokenizer)
    assert message in str(err.value)


def test_missing_and_corrupt_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="SentencePiece model not found"):
        AlbertTokenizer(tmp_path / "spiece.model")
    bad = tmp_path / "spiece.model"
    bad.write_bytes(b"this is not a sentencepiece model")
    with pytest.raises(TokenizerError, match="not a valid SentencePiece model"):
        AlbertTokenizer(bad)
    truncated = tmp_path / "truncated.model"
    truncated.write_bytes(SPIECE_MODEL.read_bytes()[:5000])
    with pytest.raises(TokenizerError, match="truncated.model"):
        AlbertTokenizer(truncated)
    with pytest.raises(FileNotFoundError):
        AlbertTokenizer.from_pretrained(tmp_path / "nowhere")


def test_special_token_must_exist(spiece_model):
    with pytest.raises(TokenizerError, match="mask_token '<mask>' is not a piece"):
        AlbertTokenizer(spiece_model, mask_token="<mask>")


def test_save_and_reload_keeps_settings(tmp_path, spiece_model):
    tok = AlbertTokenizer(spiece_model, keep_accents=True, model_max_length=64, padding_side="left")
    files = tok.save_pretrained(tmp_path)
    assert sorted(Path(f).name for f in files) == ["special_tokens_map.json", "spiece.model", "tokenizer_config.json"]
    settings = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert settings["keep_accents"] is True and settings["model_max_length"] == 64
    again = AlbertTokenizer.from_pretrained(tmp_path)
    assert (again.keep_accents, again.model_max_length, again.padding_side) == (True, 64, "left")
    text = "Crème brûlée costs 1,000 euros."
    assert again(text)["input_ids"] == tok(text)["input_ids"]
    assert again("x " * 100, truncation=True)["input_ids"].__len__() == 64
    assert tok.save_vocabulary(tmp_path / "v", filename_prefix="p")[0].endswith("p-spiece.model")


def test_reads_hf_style_tokenizer_config(tmp_path, spiece_model):
    (tmp_path / "spiece.model").write_bytes(spiece_model.read_bytes())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({
        "do_lower_case": False, "model_max_length": 512, "tokenizer_class": "AlbertTokenizer",
        "mask_token": {"content": "[MASK]", "lstrip": True, "normalized": False, "rstrip": False, "single_word": False, "special": True},
    }))
    tok = AlbertTokenizer.from_pretrained(tmp_path)
    assert tok.do_lower_case is False and tok.model_max_length == 512 and tok.mask_token == "[MASK]"
    (tmp_path / "tokenizer_config.json").write_text("{broken")
    with pytest.raises(TokenizerError, match="malformed JSON"):
        AlbertTokenizer.from_pretrained(tmp_path)


def test_mask_eats_left_whitespace_in_offsets(tokenizer):
    enc = tokenizer("a   [MASK] b", return_offsets_mapping=True)
    assert tokenizer.convert_ids_to_tokens(enc["input_ids"])[2] == "[MASK]"
    assert enc["offset_mapping"][2] == (1, 10)


def test_offsets_for_question_answering(tokenizer):
    question, context = "What does cache return?", "The cache decorator returns a thin wrapper around a dictionary."
    enc = tokenizer(question, context, return_offsets_mapping=True)
    types, offsets = enc["token_type_ids"], enc["offset_mapping"]
    spans = [context[s:e] for (s, e), t in zip(offsets, types) if t == 1 and e > s]
    assert "".join(spans).replace(" ", "") == context.lower().replace(" ", "") or "".join(spans).replace(" ", "") == context.replace(" ", "")


def test_hub_id_resolves_from_an_offline_cache(tmp_path, spiece_model):
    snapshot = tmp_path / "hub" / "models--someone--albert-tiny" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "spiece.model").write_bytes(spiece_model.read_bytes())
    (snapshot / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 77}))
    (snapshot / "config.json").write_text(json.dumps({"model_type": "albert", "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 32, "vocab_size": 8000}))
    refs = snapshot.parents[1] / "refs"
    refs.mkdir()
    (refs / "main").write_text("a" * 40)
    code = (
        "from albert_core import AlbertTokenizer, AlbertConfig;"
        "t = AlbertTokenizer.from_pretrained('someone/albert-tiny');"
        "c = AlbertConfig.from_pretrained('someone/albert-tiny');"
        "print(t.model_max_length, c.hidden_size, t('hello world')['input_ids'])"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    tokens = AlbertTokenizer(spiece_model)("hello world")["input_ids"]
    assert out.stdout.split()[:2] == ["77", "64"] and str(tokens).replace(" ", "") in out.stdout.replace(" ", "")


def test_prefix_comes_from_a_space_left_by_a_stripped_mark(tokenizer):
    # "\n\u0300\n0": the combining mark is dropped after whitespace collapsing, so the prepared text
    # starts with the space of the second newline, and "▁0" spans it (HF fast: (2, 4)).
    enc = tokenizer("\n\u0300\n0", return_offsets_mapping=True)
    assert enc["offset_mapping"][1] == (2, 4)
