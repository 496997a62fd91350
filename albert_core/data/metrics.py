"""Evaluation metrics on numpy model outputs, and an Evaluator that accumulates them over batches.

All scores are fractions in [0, 1] (SQuAD's exact match and F1 too, where the official script
prints percentages).
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Mapping, Sequence

import numpy as np

from .masking import IGNORE_INDEX
from .postprocess import best_answers


# ----- counting metrics: (correct, total) so that batches add up exactly ----------------------
def masked_accuracy_counts(logits: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """Argmax hits and count over positions whose label is not -100 (MLM, token tags)."""
    labels = np.asarray(labels)
    keep = labels != IGNORE_INDEX
    hits = np.asarray(logits).argmax(axis=-1)[keep] == labels[keep]
    return int(hits.sum()), int(keep.sum())


def accuracy_counts(logits: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """Argmax hits and count, one label per row (SOP, classification, multiple choice)."""
    labels = np.asarray(labels)
    return int((np.asarray(logits).argmax(axis=-1) == labels).sum()), int(labels.size)


def ratio(hits: int, total: int) -> float:
    return hits / total if total else 0.0


# ----- entity-level F1 for BIO tags (seqeval's default, non-strict rules) ---------------------
def _split_tag(tag: str) -> tuple[str, str]:
    """("B", "PER") from "B-PER"; "O" → ("O", "_"); a tag without a type has type "_"."""
    prefix = tag[:1] if tag else "O"
    kind = tag[1:].split("-", maxsplit=1)[-1] if len(tag) > 1 else ""
    return prefix, kind or "_"


def _chunk_ends(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    return (
        prev in ("E", "S")
        or (prev in ("B", "I") and tag in ("B", "S", "O"))
        or (prev not in ("O", ".") and prev_kind != kind)
    )


def _chunk_starts(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    return (
        tag in ("B", "S")
        or (prev in ("E", "S", "O") and tag in ("E", "I"))
        or (tag not in ("O", ".") and prev_kind != kind)
    )


def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """(type, first word, last word) of each entity in one tag sequence (IOB1/IOB2/IOBES tags),
    by seqeval's default rules: an I- after O or after another type starts an entity."""
    found = []
    prev, prev_kind, begin = "O", "", 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, kind = _split_tag(tag)
        if _chunk_ends(prev, prefix, prev_kind, kind):
            found.append((prev_kind, begin, i - 1))
        if _chunk_starts(prev, prefix, prev_kind, kind):
            begin = i
        prev, prev_kind = prefix, kind
    return found


def entity_scores(true_sequences: Sequence[Sequence[str]], pred_sequences: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro precision, recall and F1 over entities (an entity counts when type and span match)."""
    true, pred = set(), set()
    for k, (t, p) in enumerate(zip(true_sequences, pred_sequences, strict=True)):
        true.update((k, *e) for e in entities(t))
        pred.update((k, *e) for e in entities(p))
    hits = len(true & pred)
    precision, recall = ratio(hits, len(pred)), ratio(hits, len(true))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


# ----- SQuAD exact match and F1 (the official evaluate-v2.0.py normalisation) ------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def squad_exact(prediction: str, gold_answers: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals a normalised gold answer ("" for unanswerable)."""
    golds = [g for g in gold_answers if normalize_answer(g)] or [""]
    return float(max(normalize_answer(prediction) == normalize_answer(g) for g in golds))


def _token_f1(prediction: str, gold: str) -> float:
    pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = sum((collections.Counter(pred_tokens) & collections.Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_f1(prediction: str, gold_answers: Sequence[str]) -> float:
    """The best token-overlap F1 against the gold answers ("" for unanswerable)."""
    golds = [g for g in gold_answers if normalize_answer(g)] or [""]
    return max(_token_f1(prediction, g) for g in golds)


def squad_scores(predictions: Mapping[int, str], examples: Sequence) -> dict[str, float]:
    """Mean exact match and F1 over all examples (an example without a prediction scores 0)."""
    exact = [squad_exact(predictions[i], e.answers) if i in predictions else 0.0 for i, e in enumerate(examples)]
    f1 = [squad_f1(predictions[i], e.answers) if i in predictions else 0.0 for i, e in enumerate(examples)]
    return {"exact_match": float(np.mean(exact)) if exact else 0.0, "f1": float(np.mean(f1)) if f1 else 0.0}


# ----- the Evaluator ---------------------------------------------------------------------------
TASKS = ("pretrain", "classify", "tag", "choice", "qa")


class Evaluator:
    """Accumulates (batch, outputs) pairs over an evaluation pass; result() gives the metrics.

    `batch` is a micro-batch from the data pipeline (labels and meta_* included), `outputs` a
    dict of numpy arrays named as the models name them: prediction_logits and sop_logits
    (pretrain), logits (classify, tag, choice), start_logits and end_logits (qa), and
    optionally loss (a batch mean; the reported loss is the mean over batches weighted by rows).

    Metrics: pretrain → mlm_accuracy, sop_accuracy; classify and choice → accuracy;
    tag → accuracy (per word) and entity precision, recall, f1 (BIO, seqeval's default rules);
    qa → exact_match, f1. For tag, id2label names the tags; for qa, `examples` are the dataset's
    QAExamples (meta_example_index indexes them).
    """

    def __init__(
        self,
        task: str,
        id2label: Mapping[int, str] | None = None,
        examples: Sequence | None = None,
        n_best: int = 20,
        max_answer_length: int = 30,
        version_2: bool | None = None,
        null_threshold: float = 0.0,
    ):
        from .errors import DataError

        if task not in TASKS:
            raise DataError(f"unknown task {task!r}; one of {', '.join(TASKS)}")
        if task == "tag" and id2label is None:
            raise DataError("the tag Evaluator needs id2label (entity F1 reads the tag names)")
        if task == "qa" and examples is None:
            raise DataError("the qa Evaluator needs the dataset's examples (contexts and gold answers)")
        self.task = task
        self.id2label = id2label
        self.examples = examples
        self.qa_options = {
            "n_best": n_best,
            "max_answer_length": max_answer_length,
            "version_2": any(not e.answers for e in examples) if version_2 is None and examples else bool(version_2),
            "null_threshold": null_threshold,
        }
        self.counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        self.loss_sum, self.loss_rows = 0.0, 0
        self.tag_sequences: list[tuple[list[str], list[str]]] = []
        self.qa_parts: dict[str, list[np.ndarray]] = collections.defaultdict(list)

    def _add(self, name: str, counts: tuple[int, int]) -> None:
        self.counts[name][0] += counts[0]
        self.counts[name][1] += counts[1]

    def update(self, batch: Mapping[str, np.ndarray], outputs: Mapping[str, np.ndarray]) -> None:
        rows = len(batch["input_ids"])
        if outputs.get("loss") is not None:
            self.loss_sum += float(np.asarray(outputs["loss"], dtype=np.float64)) * rows
            self.loss_rows += rows
        if self.task == "pretrain":
            self._add("mlm_accuracy", masked_accuracy_counts(outputs["prediction_logits"], batch["labels"]))
            if outputs.get("sop_logits") is not None:
                self._add("sop_accuracy", accuracy_counts(outputs["sop_logits"], batch["sentence_order_label"]))
        elif self.task in ("classify", "choice"):
            self._add("accuracy", accuracy_counts(outputs["logits"], batch["labels"]))
        elif self.task == "tag":
            self._add("accuracy", masked_accuracy_counts(outputs["logits"], batch["labels"]))
            best = np.asarray(outputs["logits"]).argmax(axis=-1)
            labels = np.asarray(batch["labels"])
            for row in range(rows):
                keep = labels[row] != IGNORE_INDEX
                self.tag_sequences.append(
                    ([self.id2label[int(k)] for k in labels[row][keep]], [self.id2label[int(k)] for k in best[row][keep]])
                )
        else:
            for key in ("start_logits", "end_logits"):
                self.qa_parts[key].append(np.asarray(outputs[key]))
            for key in ("meta_example_index", "meta_offsets"):
                self.qa_parts[key].append(np.asarray(batch[key]))

    def result(self) -> dict[str, float]:
        metrics = {name: ratio(*counts) for name, counts in self.counts.items()}
        if self.task == "tag":
            true, pred = zip(*self.tag_sequences) if self.tag_sequences else ((), ())
            metrics.update(entity_scores(true, pred))
        if self.task == "qa":
            metrics.update(squad_scores(self.qa_predictions(), self.examples))
        if self.loss_rows:
            metrics["loss"] = self.loss_sum / self.loss_rows
        return metrics

    def qa_predictions(self) -> dict[int, str]:
        """The predicted answer text per example index (qa only)."""
        if not self.qa_parts:
            return {}
        parts = {key: np.concatenate(value) for key, value in self.qa_parts.items()}
        answers = best_answers(
            parts["start_logits"], parts["end_logits"], parts["meta_example_index"], parts["meta_offsets"],
            [e.context for e in self.examples], **self.qa_options,
        )
        return {k: a["text"] for k, a in answers.items()}
