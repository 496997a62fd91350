"""Extractive QA (SQuAD v1/v2 layout) → windowed features with answer positions and offsets.

Record: {"id", "question", "context", "answers": {"text": [...], "answer_start": [...]}} (the
HF datasets layout); empty answer lists mark an unanswerable question (SQuAD v2).

A feature is [CLS] question [SEP] context window [SEP] <pad>..., with token_type_ids 0 on the
question part and 1 on the window and its [SEP]. Only the context is cut: the question is capped
at max_query_length pieces, and the context is covered by windows of the remaining room whose
neighbours share `doc_stride` pieces (HF tokenizers' `stride`: the overlap; google-research's
run_squad used the name for the step between window starts instead). start/end_positions are the
answer's first/last piece in the window, or 0 ([CLS]) when the window does not hold the whole
answer or the question has none. meta_offsets map each context position to its (start, end)
characters in the context ((-1, -1) elsewhere); a piece's span includes the whitespace its "▁"
stands for, so answer text is read from the first non-space character (postprocess.best_answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import DataError
from .records import Record


@dataclass(frozen=True)
class QAExample:
    """One question, with the gold answers evaluation compares against."""

    id: str
    question: str
    context: str
    answers: tuple[str, ...]  # empty: unanswerable
    answer_starts: tuple[int, ...]


def parse_qa_record(record: Record) -> QAExample:
    """A QAExample; DataError if a field is missing or an answer_start does not point at its text."""
    example_id = str(record.get("id", (str, int)))
    question = record.get("question")
    context = record.get("context")
    answers = record.get("answers", dict)
    texts, starts = answers.get("text"), answers.get("answer_start")
    if not isinstance(texts, list) or not isinstance(starts, list):
        raise record.error('must be {"text": [...], "answer_start": [...]} (two lists)', "answers")
    if len(texts) != len(starts):
        raise record.error(f"has {len(texts)} texts and {len(starts)} answer_start values", "answers")
    for k, (text, start) in enumerate(zip(texts, starts)):
        if not isinstance(text, str) or not text or isinstance(start, bool) or not isinstance(start, int):
            raise record.error(f"answer {k} must be a non-empty string with an int answer_start", "answers")
        found = context[start : start + len(text)] if start >= 0 else None
        if found != text:
            raise record.error(
                f"answer {k} {text!r:.60} does not match the context at answer_start {start} "
                f"(the context there reads {found!r:.60})", "answers.answer_start",
            )
    return QAExample(example_id, question, context, tuple(texts), tuple(starts))


def window_starts(num_pieces: int, room: int, doc_stride: int) -> list[int]:
    """Start index of each context window of `room` pieces, neighbours overlapping by doc_stride."""
    starts = [0]
    while starts[-1] + room < num_pieces:
        starts.append(starts[-1] + room - doc_stride)
    return starts


def answer_positions(offsets: np.ndarray, start_char: int, end_char: int) -> tuple[int, int] | None:
    """First and last piece (indexes into `offsets`, one window's context pieces) of the answer
    [start_char, end_char), or None if the window does not cover it all (HF run_qa's rule)."""
    if len(offsets) == 0 or not (offsets[0, 0] <= start_char and offsets[-1, 1] >= end_char):
        return None
    first = int(np.searchsorted(offsets[:, 0], start_char, side="right")) - 1
    last = len(offsets) - int(np.searchsorted(-offsets[::-1, 1], -end_char, side="right"))
    return first, last


def featurize_qa(
    examples: Sequence[QAExample], tokenizer, max_seq_length: int, doc_stride: int = 128, max_query_length: int = 64
) -> dict[str, np.ndarray]:
    """Features (windows) of all examples, in example order, as int32 arrays."""
    questions = tokenizer([e.question for e in examples], add_special_tokens=False)["input_ids"]
    contexts = tokenizer([e.context for e in examples], add_special_tokens=False, return_offsets_mapping=True)
    names = ("input_ids", "attention_mask", "token_type_ids", "start_positions", "end_positions", "meta_offsets", "meta_example_index")
    rows: dict[str, list] = {name: [] for name in names}
    for index, example in enumerate(examples):
        question = questions[index][:max_query_length]
        context_ids = contexts["input_ids"][index]
        context_offsets = np.asarray(contexts["offset_mapping"][index], dtype=np.int64).reshape(-1, 2)
        room = max_seq_length - len(question) - 3
        if room <= doc_stride:
            raise DataError(
                f"max_seq_length {max_seq_length} leaves {room} context pieces per window after a "
                f"{len(question)}-piece question; doc_stride ({doc_stride}) must be smaller"
            )
        prefix = [tokenizer.cls_token_id, *question, tokenizer.sep_token_id]
        first_context = len(prefix)
        for start in window_starts(len(context_ids), room, doc_stride):
            window = slice(start, min(start + room, len(context_ids)))
            ids = prefix + context_ids[window] + [tokenizer.sep_token_id]
            offsets = np.full((max_seq_length, 2), -1, dtype=np.int64)
            offsets[first_context : first_context + len(context_ids[window])] = context_offsets[window]
            span = None
            if example.answers:
                begin = example.answer_starts[0]
                span = answer_positions(context_offsets[window], begin, begin + len(example.answers[0]))
            pad = max_seq_length - len(ids)
            rows["input_ids"].append(ids + [tokenizer.pad_token_id] * pad)
            rows["attention_mask"].append([1] * len(ids) + [0] * pad)
            rows["token_type_ids"].append([0] * len(prefix) + [1] * (len(ids) - len(prefix)) + [0] * pad)
            rows["start_positions"].append(0 if span is None else first_context + span[0])
            rows["end_positions"].append(0 if span is None else first_context + span[1])
            rows["meta_offsets"].append(offsets)
            rows["meta_example_index"].append(index)
    return {key: np.asarray(value, dtype=np.int32) for key, value in rows.items()}
