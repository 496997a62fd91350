"""Batch tokenization throughput: ours vs HF's AlbertTokenizer (slow) and AlbertTokenizerFast.

    python benchmarks/bench_tokenizer.py [--texts 4000] [--repeats 5] [--json out.json]

All tokenizers load the same spiece.model and encode the same texts (paragraphs of the pydocs
corpus, built on first use) as one batch call with padding, in one process; the runs are
interleaved (A B C D, A B C D, ...) so drift of the machine hits all alike, and the median is
reported. HF is optional: without transformers only our rows are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_FLAX", "0")

from albert_core.corpus import build_corpus  # noqa: E402
from albert_core.tokenizer import AlbertTokenizer  # noqa: E402

MODEL = ROOT / "tests/fixtures/spiece/spiece.model"


def load_texts(n: int) -> list[str]:
    corpus = ROOT / "corpus_cache/pydocs"
    if not (corpus / "train.txt").exists():
        build_corpus(corpus)
    lines = [l for l in (corpus / "train.txt").read_text(encoding="utf-8").splitlines() if l.strip()]
    return lines[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    texts = load_texts(args.texts)
    ours = AlbertTokenizer(MODEL)
    candidates = {
        "albert AlbertTokenizer": lambda: ours(texts, padding=True),
        "albert AlbertTokenizer (offsets)": lambda: ours(texts, padding=True, return_offsets_mapping=True),
    }
    versions = {"python": platform.python_version()}
    try:
        import sentencepiece
        import tokenizers
        import transformers

        slow = transformers.AlbertTokenizer(str(MODEL))
        fast = transformers.AlbertTokenizerFast(vocab_file=str(MODEL))
        candidates["HF AlbertTokenizer (slow)"] = lambda: slow(texts, padding=True)
        candidates["HF AlbertTokenizerFast"] = lambda: fast(texts, padding=True)
        candidates["HF AlbertTokenizerFast (offsets)"] = lambda: fast(texts, padding=True, return_offsets_mapping=True)
        versions.update(transformers=transformers.__version__, tokenizers=tokenizers.__version__, sentencepiece=sentencepiece.__version__)
    except ImportError:
        print("transformers not installed: HF rows skipped", file=sys.stderr)
    reference = ours(texts)["input_ids"]
    n_tokens = sum(len(r) for r in reference)
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for name, fn in candidates.items():  # warm-up
        fn()
    for _ in range(args.repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    rows = []
    for name, ts in times.items():
        median = statistics.median(ts)
        rows.append({"tokenizer": name, "median_s": median, "texts_per_s": len(texts) / median, "tokens_per_s": n_tokens / median})
    print(f"{len(texts)} texts, {n_tokens} tokens, {os.cpu_count()} cores, {versions}")
    print(f"{'tokenizer':36s} {'median s':>9s} {'texts/s':>10s} {'tokens/s':>11s}")
    for r in rows:
        print(f"{r['tokenizer']:36s} {r['median_s']:9.3f} {r['texts_per_s']:10.0f} {r['tokens_per_s']:11.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"versions": versions, "texts": len(texts), "tokens": n_tokens, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
