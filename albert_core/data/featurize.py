"""Records → fixed-shape int32 arrays for sequence classification, token classification and
multiple choice (extractive QA, which needs windows and offsets, is in squad.py).

Every featuriser returns a dict of arrays with one row per example; keys are the model inputs,
the labels (the names the models take) and meta_* fields that evaluation uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .labels import build_label_list, check_label_list, label_name
from .masking import IGNORE_INDEX
from .records import Record


def _label_ids(records: Sequence[Record], names: Sequence[str], label_list: list[str], field: str) -> np.ndarray:
    """Each record's label id; DataError naming the record whose label is not in the list."""
    label2id = {name: i for i, name in enumerate(label_list)}
    ids = []
    for record, name in zip(records, names):
        if name not in label2id:
            raise record.error(f"label {name!r} is not in the label list {label_list}", field)
        ids.append(label2id[name])
    return np.asarray(ids, dtype=np.int32)


def _encode(tokenizer, firsts, seconds, max_seq_length: int) -> dict[str, np.ndarray]:
    """HF-style (pair) encoding: longest_first truncation, padded to max_seq_length, int32."""
    enc = tokenizer(firsts, seconds, truncation=True, max_length=max_seq_length, padding="max_length", return_tensors="np")
    return {key: enc[key].astype(np.int32) for key in ("input_ids", "attention_mask", "token_type_ids")}


def featurize_classify(records: Sequence[Record], tokenizer, max_seq_length: int, label_list=None):
    """{"text", "label"} or {"text", "text_pair", "label"} → (arrays with labels [N], label_list)."""
    texts, pairs, names = [], [], []
    has_pair = records[0].get("text_pair", optional=True) is not None
    for record in records:
        texts.append(record.get("text"))
        pair = record.get("text_pair", optional=True)
        if (pair is not None) != has_pair:
            raise record.error(
                f"present in some records and not others (first record, line {records[0].line}); "
                "a file is either single texts or pairs", "text_pair",
            )
        pairs.append(pair)
        names.append(label_name(record.get("label", (str, int))))
    label_list = check_label_list(label_list) if label_list is not None else build_label_list(names)
    arrays = _encode(tokenizer, texts, pairs if has_pair else None, max_seq_length)
    arrays["labels"] = _label_ids(records, names, label_list, "label")
    arrays["meta_example_index"] = np.arange(len(records), dtype=np.int32)
    return arrays, label_list


def featurize_tag(records: Sequence[Record], tokenizer, max_seq_length: int, label_list=None):
    """{"tokens": [...], "tags": [...]} (one tag per word) → arrays with labels [N, S].

    Each word is encoded on its own (as HF's is_split_into_words: every word gets its "▁"), and
    its tag labels the word's first piece; other pieces, special tokens and padding get -100
    (HF's word_ids() recipe). meta_word_ids [N, S] gives each position's word index (-1 for none),
    which turns piece predictions back into one tag per word. Words past max_seq_length - 2
    pieces are cut off (and so not evaluated); a word that encodes to no piece gets no label.
    """
    all_words, all_tags = [], []
    for record in records:
        words = record.get_list("tokens", split_spaces=True)
        tags = [label_name(t) for t in record.get_list("tags", (str, int), split_spaces=True)]
        if len(tags) != len(words):
            raise record.error(f"has {len(tags)} tags for {len(words)} tokens", "tags")
        all_words.append(words)
        all_tags.append(tags)
    if label_list is None:
        label_list = build_label_list(t for tags in all_tags for t in tags)
    label_list = check_label_list(label_list)
    label2id = {name: i for i, name in enumerate(label_list)}
    flat = [w for words in all_words for w in words]
    word_pieces = iter(tokenizer(flat, add_special_tokens=False)["input_ids"])

    n, room = len(records), max_seq_length - 2
    arrays = {
        "input_ids": np.full((n, max_seq_length), tokenizer.pad_token_id, dtype=np.int32),
        "attention_mask": np.zeros((n, max_seq_length), dtype=np.int32),
        "token_type_ids": np.zeros((n, max_seq_length), dtype=np.int32),
        "labels": np.full((n, max_seq_length), IGNORE_INDEX, dtype=np.int32),
        "meta_word_ids": np.full((n, max_seq_length), -1, dtype=np.int32),
        "meta_example_index": np.arange(n, dtype=np.int32),
    }
    for row, (record, tags) in enumerate(zip(records, all_tags)):
        ids, labels, word_ids = [], [], []
        for word_index, tag in enumerate(tags):
            pieces = next(word_pieces)
            if tag not in label2id:
                raise record.error(f"tag {tag!r} (word {word_index}) is not in the label list {label_list}", "tags")
            ids.extend(pieces)
            labels.extend([label2id[tag]] + [IGNORE_INDEX] * (len(pieces) - 1))
            word_ids.extend([word_index] * len(pieces))
        ids, labels, word_ids = ids[:room], labels[:room], word_ids[:room]
        length = len(ids) + 2
        arrays["input_ids"][row, :length] = [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id]
        arrays["attention_mask"][row, :length] = 1
        arrays["labels"][row, 1 : length - 1] = labels
        arrays["meta_word_ids"][row, 1 : length - 1] = word_ids
    return arrays, label_list


def featurize_choice(records: Sequence[Record], tokenizer, max_seq_length: int):
    """{"question", "choices": [...], "label": int} (+ optional "context") → arrays [N, C, S].

    Choice c of an example is the pair (context + " " + question, choice c), as HF's multiple
    choice examples build it; every example must have the same number of choices C.
    """
    firsts, seconds, labels = [], [], []
    num_choices = None
    for record in records:
        question = record.get("question")
        context = record.get("context", optional=True)
        choices = record.get_list("choices")
        if num_choices is None:
            num_choices = len(choices)
            if num_choices < 2:
                raise record.error(f"needs at least 2 choices, got {num_choices}", "choices")
        elif len(choices) != num_choices:
            raise record.error(
                f"has {len(choices)} choices; the first record (line {records[0].line}) has {num_choices}, "
                "and every example of a file must have the same number", "choices",
            )
        label = record.get_int("label")
        if not 0 <= label < num_choices:
            raise record.error(f"must be a choice index in [0, {num_choices}), got {label}", "label")
        first = f"{context} {question}" if context else question
        firsts.extend([first] * num_choices)
        seconds.extend(choices)
        labels.append(label)
    flat = _encode(tokenizer, firsts, seconds, max_seq_length)
    arrays = {key: value.reshape(len(records), num_choices, max_seq_length) for key, value in flat.items()}
    arrays["labels"] = np.asarray(labels, dtype=np.int32)
    arrays["meta_example_index"] = np.arange(len(records), dtype=np.int32)
    return arrays, num_choices
