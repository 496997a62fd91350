"""tests/fixtures/heldout_sentences.txt: 100 sentences of the corpus's held-out documents (never
pretrained on), 8 to 24 words each, one a line, for the shipped model's fill-mask agreement test.

    python scripts/make_heldout_sentences.py   # needs corpus_cache/pydocs (albert_core.corpus.build_corpus)
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from albert_core.data.text import iter_documents, split_sentences  # noqa: E402

COUNT = 100


def main() -> int:
    sentences = []
    for document in iter_documents([REPO / "corpus_cache" / "pydocs" / "heldout.txt"]):
        for paragraph in document:
            for sentence in split_sentences(paragraph):
                if 8 <= len(sentence.split()) <= 24 and sentence.isascii():
                    sentences.append(sentence)
    step = len(sentences) // COUNT  # spread over all held-out documents
    chosen = sentences[::step][:COUNT]
    out = REPO / "tests" / "fixtures" / "heldout_sentences.txt"
    out.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    print(f"{out}: {len(chosen)} of {len(sentences)} sentences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
