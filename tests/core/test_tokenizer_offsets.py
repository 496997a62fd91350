"""The vectorised offsets path against the exact per-character one: the same ids and offsets.

AlbertTokenizer._encode_with_offsets(texts) sends most chunks through numpy (tokenizer_offsets.
one_char_alignment / piece_spans); fast=False sends every chunk through the exact alignment
(aligned_preprocess / pieces_with_sources), which the golden tests hold to HF's fast tokenizer.
"""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albert_core.tokenizer import AlbertTokenizer
from albert_core.tokenizer_offsets import _LAST_SPACE, _SPACE, one_char_alignment

from ..conftest import FIXTURES, SPIECE_MODEL

HELDOUT = (FIXTURES / "heldout_sentences.txt").read_text(encoding="utf-8").splitlines()
SETTINGS = {
    "default": {},
    "cased": {"do_lower_case": False},
    "accents": {"keep_accents": True},
    "cased-accents": {"do_lower_case": False, "keep_accents": True},
}
EDGE_CASES = [
    "", " ", "   ", "\t\n", "\r\n", "a", " a", "a ", "  a  b  ", "a\tb\nc\r\nd\r\re\x0b\x0cf\x1cg\x1fh",
    "\r\n\r\nstarts with blank lines\r\n", "a \r\n b", "1,000,000 and 12,3 and 9, and x,", "2,",
    "[MASK]", " [MASK] ", "a   [MASK] b", "[MASK][MASK]", "[CLS] x [SEP] y <pad> <unk>", "[mask] is not special",
    "``quoted''", "it's ok", "a&b ^c @d ~e `f", "ctrl\x00chars\x01here\x7f", "\x01", "a\x01 b",
    "café naïve résumé", "Crème Brûlée", "ΟΔΟΣ ΣΑΣ σας", "İstanbul ıi", "Straße STRASSE ẞ", "ǅ ǈ Ǆ",
    "ﬁne ﬂow Ⅻ ½ ① ™", "e\u0301 a\u0308", "\u0301leading mark", "x \u0301 y", "emoji 😀 👍🏽 ❤️",
    "你好，世界", "日本語のテキスト", "한국어 텍스트", "Привет, мир", "\u3000wide\u3000space\u3000", "x\u2028y\x85z",
    "nbsp\xa0here", "zero\u200bwidth\u200djoin", "tab\tand  double  spaces", "trailing\n",
]


TOKENIZERS = {variant: AlbertTokenizer(SPIECE_MODEL, **kwargs) for variant, kwargs in SETTINGS.items()}


def _assert_same(tok: AlbertTokenizer, texts: list[str]) -> None:
    fast = tok._encode_with_offsets(texts)
    exact = tok._encode_with_offsets(texts, fast=False)
    for text, got, want in zip(texts, fast, exact):
        assert got == want, text


@pytest.mark.parametrize("variant", SETTINGS)
def test_fast_path_matches_exact_path_on_heldout_sentences(variant):
    _assert_same(TOKENIZERS[variant], HELDOUT)


@pytest.mark.parametrize("variant", SETTINGS)
def test_fast_path_matches_exact_path_on_edge_cases(variant):
    tok = TOKENIZERS[variant]
    _assert_same(tok, EDGE_CASES)
    # One text at a time as well: the batch lays chunks end to end, and whitespace at a chunk's
    # edge must not be taken for part of its neighbour's run.
    for text in EDGE_CASES:
        assert tok._encode_with_offsets([text]) == tok._encode_with_offsets([text], fast=False), text


def test_batch_equals_one_call_per_text(tokenizer):
    texts = ["a ", " b", "\r", "\nc", "x\r", "\ny 1,2", "", "  [MASK]  z  "]
    batch = tokenizer(texts, return_offsets_mapping=True)
    for i, text in enumerate(texts):
        single = tokenizer(text, return_offsets_mapping=True)
        assert batch["input_ids"][i] == single["input_ids"]
        assert batch["offset_mapping"][i] == single["offset_mapping"], text


def test_fast_path_takes_the_common_case(tokenizer):
    """Pinning means little unless the fast path runs: every held-out sentence (ASCII), accented
    and non-Latin text go through it; only chars whose preparation is not one char to one char do not."""
    texts = HELDOUT + ["café naïve", "Привет мир", "ΟΔΟΣ σας", "İstanbul", "a  b\r\n c", "x&y", "1,000"]
    split = [tokenizer._split_special(t) for t in texts]
    taken = tokenizer._one_char_chunk_offsets(split)
    assert sorted(taken) == [(i, 0) for i in range(len(texts))]
    # Expands, is a mark, a quote pair, a nonspacing mark that is no combining one, becomes a
    # capital sigma (which lower-cases by context).
    left = ["ﬁne", "Ⅻ", "e\u0301", "``q''", "a\ufe0f", "\U0001d6ba"]
    assert tokenizer._one_char_chunk_offsets([tokenizer._split_special(t) for t in left]) == {}


def test_offsets_of_whitespace_runs(tokenizer):
    # HF fast's convention: a piece's "▁" is the last char of the whitespace run before its word
    # (" \r\n\t" -> the tab; of a closing "\r\n", the "\r"); the first piece's is the leading run's.
    text = "  ab \r\n\tcd\r\nef"
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    spans = dict(zip(pieces, enc["offset_mapping"]))
    assert "".join(pieces) == "▁ab▁cd▁ef"
    assert spans[pieces[0]][0] == 1 and spans[pieces[-1]][1] == len(text)
    starts = [s for s, _ in enc["offset_mapping"] if text[s] in " \t\r\n"]
    assert starts == [1, 7, 10]


def test_one_char_alignment_sources():
    # "a  b" | " c\r\nd" | "é x": the chunks' prepared forms "a b", "c d", "é x" laid end to end.
    src, dummy, begins = one_char_alignment(["a  b", " c\r\nd", "é x"])
    assert src.tolist() == [0, 2, 3, 5, 6, 8, 9, 10, 11]
    assert dummy.tolist() == [0, 4, 9]
    assert begins.tolist() == [0, 4, 9]


def test_space_table_is_str_isspace():
    spaces = [code for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    assert max(spaces) == _LAST_SPACE
    assert np.flatnonzero(_SPACE).tolist() == spaces and not _SPACE[-1]


# Text mixing the cases either path treats specially: whitespace runs, CRLF, specials, digit
# commas, unknown chars, accents, expansions, marks, final sigma; and any unicode.
PIECES = st.sampled_from(
    list("ab Z9,.&^ \t\n\r'`") + ["  ", "\r\n", "[MASK]", "<unk>", "1,", "é", "É", "ß", "Σ", "ﬁ", "\u0301", "\ufe0f",
                                  "你", "\u3000", "\xa0", "İ", "😀", "д"]
)
TEXT = st.lists(PIECES, max_size=30).map("".join) | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(texts=st.lists(TEXT, min_size=1, max_size=4), variant=st.sampled_from(sorted(SETTINGS)))
def test_fast_path_matches_exact_path_on_generated_text(texts, variant):
    _assert_same(TOKENIZERS[variant], texts)
