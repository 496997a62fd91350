"""Dev exact match and F1 of fine-tuned qa checkpoints over a range of null-score thresholds.

    python scripts/qa_threshold_sweep.py runs/qa/checkpoints/step-00000400 runs/qa/checkpoints/step-00000800

SQuAD v2 post-processing answers "no answer" when the [CLS] score beats the best span's score by
more than a threshold (HF run_qa's null_score_diff_threshold, 0 by default; albert_core's
best_answers(null_threshold=...)). A model whose spans are right but whose "no answer" is
mis-calibrated beats the always-"no answer" baseline at some threshold; this script shows whether
one does. It also reports the exact match on the answerable questions alone when the model always
answers (how often its best span is the gold one). It reads the dev logits once per checkpoint
(torch backend) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

import albert_torch  # noqa: E402
from albert_core.data.finetune import FinetuneDataset  # noqa: E402
from albert_core.data.metrics import squad_exact, squad_scores  # noqa: E402
from albert_core.data.postprocess import best_answers  # noqa: E402
from albert_core.tokenizer import AlbertTokenizer  # noqa: E402

THRESHOLDS = (-6.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 6.0, 10.0)
ALWAYS_ANSWER = 1e9  # a threshold no null score can beat by


def dev_logits(checkpoint: str, dataset: FinetuneDataset) -> tuple[np.ndarray, ...]:
    """(start_logits, end_logits, meta_example_index, meta_offsets) over every dev window."""
    model = albert_torch.AlbertForQuestionAnswering.from_pretrained(checkpoint).eval()
    parts: dict[str, list[np.ndarray]] = {"start": [], "end": [], "index": [], "offsets": []}
    with torch.no_grad():
        for batch in dataset.eval_batches():
            inputs = {k: torch.as_tensor(batch[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
            out = model(**inputs)
            parts["start"].append(out.start_logits.numpy())
            parts["end"].append(out.end_logits.numpy())
            parts["index"].append(batch["meta_example_index"])
            parts["offsets"].append(batch["meta_offsets"])
    return tuple(np.concatenate(parts[k]) for k in ("start", "end", "index", "offsets"))


def predictions(logits, dataset: FinetuneDataset, threshold: float) -> dict[int, str]:
    contexts = [e.context for e in dataset.examples]
    answers = best_answers(*logits, contexts, version_2=True, null_threshold=threshold)
    return {k: a["text"] for k, a in answers.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="qa checkpoint folders (albert finetune --task qa)")
    parser.add_argument("--eval", default=str(REPO / "data" / "tasks" / "qa" / "dev.jsonl"))
    parser.add_argument("--tokenizer", default=str(REPO / "weights" / "albert-tiny-pydocs" / "spiece.model"))
    parser.add_argument("--max-seq-length", type=int, default=128)
    args = parser.parse_args()
    tokenizer = AlbertTokenizer(args.tokenizer)
    # albert finetune's default doc_stride at this max_seq_length
    dataset = FinetuneDataset("qa", args.eval, tokenizer, max_seq_length=args.max_seq_length, batch_size=64,
                              shuffle=False, doc_stride=args.max_seq_length // 3)
    answerable = [i for i, e in enumerate(dataset.examples) if e.answers]
    baseline = dataset.majority_baseline()
    print(f"always 'no answer': EM {baseline['exact_match']:.3f}, F1 {baseline['f1']:.3f}\n")
    print("| checkpoint | " + " | ".join(f"{t:g}" for t in THRESHOLDS) + " | answerable EM, always answering |")
    print("|---|" + "---|" * (len(THRESHOLDS) + 1))
    for checkpoint in args.checkpoints:
        logits = dev_logits(checkpoint, dataset)
        cells = []
        for threshold in THRESHOLDS:
            scores = squad_scores(predictions(logits, dataset, threshold), dataset.examples)
            cells.append(f"{scores['exact_match']:.3f} / {scores['f1']:.3f}")
        always = predictions(logits, dataset, ALWAYS_ANSWER)
        hits = np.mean([squad_exact(always[i], dataset.examples[i].answers) for i in answerable])
        print(f"| {checkpoint} | " + " | ".join(cells) + f" | {hits:.3f} ({len(answerable)} questions) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
