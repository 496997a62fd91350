"""Train the project's SentencePiece unigram model on the pydocs corpus.

    python scripts/train_spiece.py [--corpus corpus_cache/pydocs] [--vocab-size 8000] [--out tests/fixtures/spiece]

Special pieces sit at the ids ALBERT uses: <pad> 0, <unk> 1, [CLS] 2, [SEP] 3, [MASK] 4.
Normalisation is sentencepiece's default nmt_nfkc, as in ALBERT's own spiece.model. Training is
deterministic for a given corpus file (single thread, no sampling of the input).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sentencepiece as spm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from albert_core.corpus import build_corpus  # noqa: E402
from albert_core.tokenizer import preprocess_text  # noqa: E402


def prepare_text(line: str) -> str:
    return preprocess_text(line, do_lower_case=True, remove_space=True, keep_accents=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="corpus_cache/pydocs", help="folder with train.txt (built if missing)")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--out", default="tests/fixtures/spiece")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not (corpus / "train.txt").exists():
        print(build_corpus(corpus))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # ALBERT's tokenizer lower-cases and strips accents before sentencepiece sees the text
    # (do_lower_case=True, keep_accents=False), so the pieces are learnt on text prepared the same way.
    prepared = out / "train.prepared.txt"
    with open(corpus / "train.txt", encoding="utf-8") as src, open(prepared, "w", encoding="utf-8") as dst:
        for line in src:
            dst.write(prepare_text(line.rstrip("\n")) + "\n")
    spm.SentencePieceTrainer.train(
        input=str(prepared),
        model_prefix=str(out / "spiece"),
        vocab_size=args.vocab_size,
        model_type="unigram",
        pad_id=0,
        pad_piece="<pad>",
        unk_id=1,
        unk_piece="<unk>",
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[CLS]", "[SEP]", "[MASK]"],
        character_coverage=0.9999,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        max_sentence_length=8192,
        minloglevel=2,
    )
    (out / "spiece.vocab").unlink(missing_ok=True)
    prepared.unlink()
    sp = spm.SentencePieceProcessor(model_file=str(out / "spiece.model"))
    specials = [sp.id_to_piece(i) for i in range(5)]
    assert specials == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"], specials
    print(f"wrote {out / 'spiece.model'}: {sp.get_piece_size()} pieces, specials {specials}")


if __name__ == "__main__":
    main()
