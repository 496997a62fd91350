"""Our tokenizer against HF transformers' outputs, committed by scripts/make_tokenizer_golden.py."""

import json

import pytest

from albert_core.tokenizer import AlbertTokenizer

from ..conftest import FIXTURES, SPIECE_MODEL

GOLDEN = json.loads((FIXTURES / "tokenizer_golden.json").read_text(encoding="utf-8"))
CASES = [
    pytest.param(variant, i, id=f"{variant}-{i}")
    for variant, block in GOLDEN["variants"].items()
    for i in range(len(block["cases"]))
]
_TOKENIZERS: dict = {}


def _tokenizer(variant: str) -> AlbertTokenizer:
    if variant not in _TOKENIZERS:
        _TOKENIZERS[variant] = AlbertTokenizer(SPIECE_MODEL, **GOLDEN["variants"][variant]["settings"])
    return _TOKENIZERS[variant]


def test_golden_file_is_substantial():
    counts = {v: len(b["cases"]) for v, b in GOLDEN["variants"].items()}
    assert sum(counts.values()) >= 300, counts
    with_offsets = sum("offset_mapping" in c for b in GOLDEN["variants"].values() for c in b["cases"])
    assert with_offsets >= 200


@pytest.mark.parametrize("variant,index", CASES)
def test_matches_hf(variant, index):
    case = GOLDEN["variants"][variant]["cases"][index]
    tok = _tokenizer(variant)
    enc = tok(case["text"], case["pair"], return_special_tokens_mask=True, **case["kwargs"])
    for key in ("input_ids", "token_type_ids", "attention_mask", "special_tokens_mask"):
        assert enc[key] == case[key], key
    rows = enc["input_ids"] if isinstance(case["text"], list) else [enc["input_ids"]]
    assert [tok.decode(r) for r in rows] == case["decode"]
    assert [tok.decode(r, skip_special_tokens=True) for r in rows] == case["decode_skip_special"]
    if "offset_mapping" in case:
        with_offsets = tok(case["text"], case["pair"], return_offsets_mapping=True, **case["kwargs"])
        assert with_offsets["input_ids"] == case["input_ids"]
        got = with_offsets["offset_mapping"]
        got = [[list(o) for o in row] for row in got] if isinstance(case["text"], list) else [list(o) for o in got]
        assert got == case["offset_mapping"]
