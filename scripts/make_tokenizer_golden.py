"""Golden tokenizer outputs from Hugging Face transformers, on the project's spiece.model.

    pip install transformers==4.57.6 sentencepiece protobuf tokenizers
    python scripts/make_tokenizer_golden.py   # writes tests/fixtures/tokenizer_golden.json

Ids, token type ids, special-token masks, attention masks and decodes come from HF's
AlbertTokenizer (the slow, sentencepiece-based reference). Offsets come from HF's
AlbertTokenizerFast, kept only on cases where its ids equal the slow tokenizer's (the fast one
skips the "<digit>," re-split, so it differs there); elsewhere offsets are property-checked.

The texts: hand-written edge cases, held-out sentences of the pydocs corpus, and seeded random
mixes of scripts, emoji, digits, punctuation and whitespace.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import transformers
from transformers import AlbertTokenizer, AlbertTokenizerFast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from albert_core.corpus import build_corpus  # noqa: E402

MODEL = ROOT / "tests/fixtures/spiece/spiece.model"
OUT = ROOT / "tests/fixtures/tokenizer_golden.json"
SEED = 1234

HANDWRITTEN = [
    "",
    " ",
    "   \t\n  ",
    "Hello world",
    "  Hello   World,  again  ",
    "The list holds 1,000,000 items, not 12,5 or 3,14159.",
    "Numbers: 1, 2, 3, 10,20,30 and 2,000,",
    "x\ty\nz\r\nw",
    "Café, naïve, façade, ÉCOLE, Ångström, São Paulo, Dvořák",
    "ﬁne ﬂow Ⅻ ㎒ ½ ² ℌ ①",
    "你好，世界！ 日本語のテキスト 한국어 문장",
    "Emoji: 😀 👍🏽 👨‍👩‍👧 🇫🇷 ❤️",
    "``quoted'' and ''odd`` quotes",
    "ΟΔΟΣ and Ϲ and σοφία",
    "İstanbul ǅemal ß ẞ",
    "a [MASK] b",
    "[MASK] starts, ends [MASK]",
    "  [MASK]  spaced  [MASK]  ",
    "[CLS] inline [SEP] specials <pad> <unk> [MASK][MASK]",
    "[mask] lower-case is not special",
    "a\u00a0non-breaking\u2003em\u3000ideographic space",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "Mixed CASE with ALL CAPS and camelCase and snake_case_names.",
    "def f(x): return x ** 2  # code-like text",
    "https://docs.python.org/3/library/functools.html?x=1#cache",
    "email@example.com, @mention, #hashtag, $100.00, 50%",
    "Ellipsis... dashes — and – hyphens - quotes “curly” ‘single’",
    "\u0301 combining accent alone, e\u0301 decomposed é",
    "Tabs\tbetween\twords\tand\ttrailing\t",
    "a" * 300,
    ("The quick brown fox jumps over the lazy dog. " * 60).strip(),
    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,",
]

_POOLS = [
    "abcdefghijklmnopqrstuvwxyz",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    ",.;:!?'\"()[]{}-_/\\@#$%^&*+=<>`~",
    " " * 10 + "\t\n",
    "éèêëàâäôöûüçñÉÀÇ",
    "你好世界日本語한국어",
    "😀👍🏽❤️🇫🇷",
    "ﬁﬂⅫ㎒½²①",
    "αβγδΣσςΩ",
]
_WORDS = ["[MASK]", "[CLS]", "[SEP]", "<pad>", "<unk>", "1,000", "12,", "``", "''", "  ", "\u00a0"]


def random_texts(rng: random.Random, n: int) -> list[str]:
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.15:
                parts.append(rng.choice(_WORDS))
            else:
                pool = rng.choice(_POOLS)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
            if rng.random() < 0.6:
                parts.append(" ")
        texts.append("".join(parts))
    return texts


def corpus_texts(rng: random.Random, n: int) -> list[str]:
    corpus = ROOT / "corpus_cache/pydocs"
    if not (corpus / "heldout.txt").exists():
        build_corpus(corpus)
    lines = [line for line in (corpus / "heldout.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = rng.sample(lines, n)
    # Cut long paragraphs at a random point so lengths vary.
    return [line[: rng.randint(20, 400)] for line in chosen]


VARIANTS = {
    "default": {},
    "keep_accents": {"keep_accents": True},
    "cased": {"do_lower_case": False},
}


def encode_case(slow, fast, text, pair=None, **kwargs) -> dict:
    enc = slow(text, pair, return_special_tokens_mask=True, **kwargs)
    case = {
        "text": text,
        "pair": pair,
        "kwargs": kwargs,
        "input_ids": enc["input_ids"],
        "token_type_ids": enc["token_type_ids"],
        "attention_mask": enc["attention_mask"],
        "special_tokens_mask": enc["special_tokens_mask"],
    }
    is_batch = isinstance(text, list)
    ids_list = enc["input_ids"] if is_batch else [enc["input_ids"]]
    case["decode"] = [slow.decode(ids) for ids in ids_list]
    case["decode_skip_special"] = [slow.decode(ids, skip_special_tokens=True) for ids in ids_list]
    try:
        fast_enc = fast(text, pair, return_offsets_mapping=True, **kwargs)
    except Exception:  # the fast tokenizer refuses some truncations the slow one performs
        fast_enc = {"input_ids": None}
    if fast_enc["input_ids"] == enc["input_ids"]:
        offsets = fast_enc["offset_mapping"]
        case["offset_mapping"] = [[list(o) for o in row] for row in offsets] if is_batch else [list(o) for o in offsets]
    return case


def main() -> None:
    rng = random.Random(SEED)
    singles = HANDWRITTEN + corpus_texts(rng, 160) + random_texts(rng, 140)
    golden = {
        "transformers_version": transformers.__version__,
        "spiece_model": str(MODEL.relative_to(ROOT)),
        "variants": {},
    }
    for name, settings in VARIANTS.items():
        slow = AlbertTokenizer(str(MODEL), **settings)
        fast = AlbertTokenizerFast(vocab_file=str(MODEL), **settings)
        texts = singles if name == "default" else singles[: len(HANDWRITTEN)] + random_texts(rng, 40)
        cases = [encode_case(slow, fast, t) for t in texts]
        if name == "default":
            for _ in range(60):  # pairs, some truncated
                a, b = rng.choice(singles), rng.choice(singles)
                kwargs = {}
                n_a, n_b = len(slow.tokenize(a)), len(slow.tokenize(b))
                if rng.random() < 0.5 and n_a + n_b > 6:
                    strategy = rng.choice(["longest_first", "only_first", "only_second"])
                    max_length = rng.randint(3 + 2, n_a + n_b + 2)
                    room = n_a + n_b + 3 - max_length
                    if strategy == "only_first" and room >= n_a or strategy == "only_second" and room >= n_b:
                        strategy = "longest_first"
                    kwargs = {"truncation": strategy, "max_length": max_length}
                case = encode_case(slow, fast, a, b, **kwargs)
                if kwargs and len(case["input_ids"]) > kwargs["max_length"]:
                    continue  # HF could not truncate (it logs and returns too long): not a golden case
                cases.append(case)
            for _ in range(20):  # batches with padding / truncation
                batch = rng.sample(singles, rng.randint(2, 6))
                kwargs = rng.choice(
                    [
                        {"padding": True},
                        {"padding": "max_length", "max_length": 48, "truncation": True},
                        {"padding": True, "truncation": True, "max_length": 16},
                        {"padding": True, "pad_to_multiple_of": 8},
                    ]
                )
                cases.append(encode_case(slow, fast, batch, **kwargs))
        golden["variants"][name] = {"settings": settings, "cases": cases}
        with_offsets = sum("offset_mapping" in c for c in cases)
        print(f"{name}: {len(cases)} cases, {with_offsets} with fast-tokenizer offsets")
    OUT.write_text(json.dumps(golden, ensure_ascii=False, indent=None) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
