"""Batch tokenization throughput: ours vs HF's AlbertTokenizer (slow) and AlbertTokenizerFast.

    python benchmarks/bench_tokenizer.py [--texts 4000] [--repeats 5] [--json out.json]

All tokenizers load the same spiece.model and encode the same texts (paragraphs of the pydocs
corpus, built on first use) as one batch call with padding, in one process; the runs are
interleaved (A B C D, A B C D, ...) so drift of the machine hits all alike, and the median is
reported. HF is optional: without transformers only our rows are printed. The measuring code is
albert_core.bench.tokenizer_bench (`albert bench` runs it too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_FLAX", "0")

from albert_core.bench.tokenizer_bench import (  # noqa: E402
    count_tokens,
    interleaved_times,
    pydocs_texts,
    summary_rows,
    tokenizer_candidates,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    texts = pydocs_texts(args.texts)
    candidates, versions = tokenizer_candidates(texts)
    if "HF AlbertTokenizerFast" not in candidates:
        print("transformers not installed: HF rows skipped", file=sys.stderr)
    n_tokens = count_tokens(texts)
    rows = summary_rows(interleaved_times(candidates, args.repeats), len(texts), n_tokens)
    print(f"{len(texts)} texts, {n_tokens} tokens, {os.cpu_count()} cores, {versions}")
    print(f"{'tokenizer':36s} {'median s':>9s} {'texts/s':>10s} {'tokens/s':>11s}")
    for r in rows:
        print(f"{r['tokenizer']:36s} {r['median_s']:9.3f} {r['texts_per_s']:10.0f} {r['tokens_per_s']:11.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"versions": versions, "texts": len(texts), "tokens": n_tokens, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
