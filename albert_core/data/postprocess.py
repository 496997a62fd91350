"""Model outputs (numpy) → answers: fill-mask top-k, labels, word tags, choices, QA spans.

Every function takes the arrays a backend returns (converted to numpy) and the batch's own
fields, so the same code serves torch, TF and JAX.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax in float64."""
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def fill_mask(prediction_logits: np.ndarray, input_ids: np.ndarray, tokenizer, top_k: int = 5) -> list[list[dict]]:
    """For each row, for each [MASK] position: the top_k ids, pieces and softmax scores.

    prediction_logits [B, S, V], input_ids [B, S] → [[{"position", "token_ids", "tokens",
    "scores"}, ...] per mask, ...] per row, best first.
    """
    input_ids = np.asarray(input_ids)
    results = []
    for row in range(input_ids.shape[0]):
        masks = []
        for position in np.flatnonzero(input_ids[row] == tokenizer.mask_token_id):
            probs = softmax(prediction_logits[row, position])
            best = np.argsort(-probs, kind="stable")[:top_k]
            masks.append(
                {
                    "position": int(position),
                    "token_ids": best.tolist(),
                    "tokens": tokenizer.convert_ids_to_tokens(best.tolist()),
                    "scores": probs[best].tolist(),
                }
            )
        results.append(masks)
    return results


def classify(logits: np.ndarray, id2label: Mapping[int, str] | None = None) -> list[dict]:
    """Argmax label and class probabilities per row of logits [B, num_labels]."""
    probs = softmax(logits)
    best = probs.argmax(axis=-1)
    return [
        {
            "label_id": int(k),
            "label": id2label[int(k)] if id2label is not None else str(int(k)),
            "score": float(probs[i, k]),
            "probabilities": probs[i].tolist(),
        }
        for i, k in enumerate(best)
    ]


def choose(logits: np.ndarray) -> list[dict]:
    """Multiple choice: the best choice index and the probabilities over choices, per row of [B, C]."""
    return [{"choice": r["label_id"], "score": r["score"], "probabilities": r["probabilities"]} for r in classify(logits)]


def tag_words(logits: np.ndarray, word_ids: np.ndarray, id2label: Mapping[int, str] | None = None) -> list[list[str]]:
    """One tag per word, read at each word's first piece.

    logits [B, S, num_labels]; word_ids [B, S] (the batch's meta_word_ids: word index per piece,
    -1 for special tokens and padding). Words cut off by truncation are absent from the result.
    """
    best = np.asarray(logits).argmax(axis=-1)
    word_ids = np.asarray(word_ids)
    results = []
    for row in range(word_ids.shape[0]):
        words = word_ids[row]
        first = np.flatnonzero((words >= 0) & (words != np.concatenate([[-1], words[:-1]])))
        results.append([id2label[int(best[row, p])] if id2label is not None else str(int(best[row, p])) for p in first])
    return results


def best_answers(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    example_index: np.ndarray,
    offsets: np.ndarray,
    contexts: Sequence[str],
    n_best: int = 20,
    max_answer_length: int = 30,
    version_2: bool = False,
    null_threshold: float = 0.0,
) -> dict[int, dict]:
    """The best answer span per example, over all of the example's windows (features).

    start/end_logits [F, S], example_index [F] (meta_example_index), offsets [F, S, 2]
    (meta_offsets, -1 off the context), contexts: each example's context string. Candidates are
    the n_best start × n_best end positions of each window that lie on the context, with
    end >= start and at most max_answer_length pieces; a span's score is start + end logit.
    With version_2, the answer is "" when the null score (the [CLS] start + end logits, the
    lowest over the example's windows) exceeds the best span's score by more than null_threshold
    (HF run_qa's rule). Returns {example: {"text", "score", "start_char", "end_char"}}; the
    text starts at the first non-space character of its first piece (whose span includes the
    whitespace its "▁" stands for).
    """
    start_logits, end_logits = np.asarray(start_logits, np.float64), np.asarray(end_logits, np.float64)
    offsets = np.asarray(offsets)
    best: dict[int, dict] = {}
    null: dict[int, float] = {}
    for f in range(start_logits.shape[0]):
        example = int(example_index[f])
        null[example] = min(null.get(example, np.inf), start_logits[f, 0] + end_logits[f, 0])
        on_context = offsets[f, :, 0] >= 0
        starts = [p for p in np.argsort(-start_logits[f], kind="stable")[:n_best] if on_context[p]]
        ends = [p for p in np.argsort(-end_logits[f], kind="stable")[:n_best] if on_context[p]]
        for s in starts:
            for e in ends:
                if e < s or e - s + 1 > max_answer_length:
                    continue
                score = start_logits[f, s] + end_logits[f, e]
                if example not in best or score > best[example]["score"]:
                    best[example] = {"score": float(score), "start_char": int(offsets[f, s, 0]), "end_char": int(offsets[f, e, 1])}
    answers = {}
    for example in null:
        span = best.get(example)
        if span is None or (version_2 and null[example] - span["score"] > null_threshold):
            answers[example] = {"text": "", "score": float(null[example]), "start_char": -1, "end_char": -1}
            continue
        context = contexts[example]
        start = span["start_char"]
        while start < span["end_char"] and context[start].isspace():
            start += 1
        answers[example] = {**span, "start_char": start, "text": context[start : span["end_char"]]}
    return answers
