"""Held-out MLM and sentence-order accuracy of a pretrained checkpoint, beside a unigram baseline.

    python scripts/evaluate_pretraining.py weights/albert-tiny-pydocs [--batches 40] [--backend torch]

The held-out examples are albert_core's PretrainingStream over the corpus's held-out documents
(corpus_cache/pydocs/heldout.txt: every 20th document, never trained on), seeded, so the masks are
the same on every run. The unigram baseline predicts, at every masked position, the one piece most
frequent in the training text (special tokens excluded): the best a model that ignores context can
do with a single guess. Prints JSON; the model card quotes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from albert_core.checkpoint import load_checkpoint  # noqa: E402
from albert_core.cli.runners import get_runner  # noqa: E402
from albert_core.data.metrics import accuracy_counts, masked_accuracy_counts  # noqa: E402
from albert_core.data.pretraining import PretrainingStream  # noqa: E402
from albert_core.data.text import iter_documents  # noqa: E402
from albert_core.schema import Head  # noqa: E402
from albert_core.tokenizer import AlbertTokenizer  # noqa: E402


def most_frequent_piece(tokenizer: AlbertTokenizer, train_file: Path) -> int:
    counts = np.zeros(tokenizer.vocab_size, np.int64)
    for document in iter_documents([train_file]):
        for ids in tokenizer(document, add_special_tokens=False)["input_ids"]:
            counts += np.bincount(ids, minlength=tokenizer.vocab_size)
    counts[tokenizer.all_special_ids] = 0
    return int(counts.argmax())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--tokenizer", default=None, help="default: the model folder's spiece.model")
    parser.add_argument("--corpus", default=str(REPO / "corpus_cache" / "pydocs"))
    parser.add_argument("--batches", type=int, default=40, help="held-out batches of --batch-size examples")
    parser.add_argument("--batch-size", type=int, default=24)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--backend", default="torch")
    args = parser.parse_args()

    tokenizer = AlbertTokenizer.from_pretrained(args.tokenizer or args.model)
    config, state = load_checkpoint(args.model)
    runner = get_runner(args.backend)
    model = runner.load(config, Head.PRETRAINING, state)
    stream = iter(PretrainingStream([Path(args.corpus) / "heldout.txt"], tokenizer, max_seq_length=args.max_seq_length,
                                    batch_size=args.batch_size, seed=args.seed))
    top = most_frequent_piece(tokenizer, Path(args.corpus) / "train.txt")
    mlm, sop, baseline = [0, 0], [0, 0], [0, 0]
    for _ in range(args.batches):
        batch = next(stream)
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
        outputs = runner.forward(model, inputs, {})
        for total, (hits, count) in (
            (mlm, masked_accuracy_counts(outputs["prediction_logits"], batch["labels"])),
            (sop, accuracy_counts(outputs["sop_logits"], batch["sentence_order_label"])),
        ):
            total[0] += hits
            total[1] += count
        masked = batch["labels"][batch["labels"] != -100]
        baseline[0] += int((masked == top).sum())
        baseline[1] += int(masked.size)
    result = {
        "model": str(args.model),
        "held_out_examples": sop[1],
        "masked_positions": mlm[1],
        "mlm_accuracy": mlm[0] / mlm[1],
        "sop_accuracy": sop[0] / sop[1],
        "unigram_baseline_piece": tokenizer.convert_ids_to_tokens(top),
        "unigram_baseline_mlm_accuracy": baseline[0] / baseline[1],
        "mlm_accuracy_over_baseline": (mlm[0] / mlm[1]) / max(baseline[0] / baseline[1], 1e-12),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
