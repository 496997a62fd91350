"""Fine-tuning datasets from CSV/JSONL: classify, tag, choice, qa, with the stream interface.

    FinetuneDataset(task, path, tokenizer, max_seq_length, batch_size, seed, label_list=None, ...)

All records are featurised once, at construction (fine-tuning sets fit in memory), into
fixed-shape int32 arrays: one row per example, or per context window for qa. Training iterates
forever over seeded permutations of the rows, one per epoch (the epoch index mixed into the seed),
and batches run on across epoch ends, so every batch is full and batch p is a pure function of
(seed, p): `seek` is O(1). `eval_batches()` is one ordered pass, the last batch possibly short.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from . import seeding
from .errors import DataError, check_position, check_positive
from .featurize import featurize_choice, featurize_classify, featurize_tag
from .labels import save_label_list
from .metrics import Evaluator, squad_scores
from .records import read_records
from .squad import featurize_qa, parse_qa_record

TASKS = ("classify", "tag", "choice", "qa")


class FinetuneDataset:
    """A labelled CSV/JSONL file as fixed-shape micro-batches for one fine-tuning task.

    Micro-batches hold input_ids, attention_mask, token_type_ids ([B, S], or [B, C, S] for
    choice), the task's labels (labels, or start_positions/end_positions for qa) and meta_*
    fields for evaluation (meta_example_index always; meta_word_ids for tag; meta_offsets for qa).

    Attributes: `features` (the arrays, one row per example or qa window), `examples` (the
    parsed records; QAExample for qa, indexed by meta_example_index), `label_list` (classify and
    tag), `num_choices` (choice), `num_features`, and the stream's `batch_size` and `position`.
    """

    def __init__(
        self,
        task: str,
        path: str | os.PathLike,
        tokenizer,
        max_seq_length: int = 128,
        batch_size: int = 8,
        seed: int = 0,
        label_list: list[str] | None = None,
        shuffle: bool = True,
        doc_stride: int = 128,
        max_query_length: int = 64,
    ):
        if task not in TASKS:
            raise DataError(f"unknown task {task!r}; one of {', '.join(TASKS)}")
        self.task = task
        self.path = Path(path)
        self.max_seq_length = check_positive("max_seq_length", max_seq_length)
        if max_seq_length < 3:
            raise DataError(f"max_seq_length must be at least 3 ([CLS] a piece [SEP]), got {max_seq_length}")
        self.batch_size = check_positive("batch_size", batch_size)
        self.seed = seeding.check_seed(seed)
        self.shuffle = bool(shuffle)
        records = list(read_records(path))
        if not records:
            raise DataError("holds no records", path)
        self.label_list: list[str] | None = None
        self.num_choices: int | None = None
        self.examples: list = records
        if task == "classify":
            self.features, self.label_list = featurize_classify(records, tokenizer, max_seq_length, label_list)
        elif task == "tag":
            self.features, self.label_list = featurize_tag(records, tokenizer, max_seq_length, label_list)
        elif task == "choice":
            self.features, self.num_choices = featurize_choice(records, tokenizer, max_seq_length)
        else:
            check_positive("doc_stride", doc_stride)
            check_positive("max_query_length", max_query_length)
            self.examples = [parse_qa_record(r) for r in records]
            self.features = featurize_qa(self.examples, tokenizer, max_seq_length, doc_stride, max_query_length)
        self.num_features = len(self.features["input_ids"])
        self.position = 0
        self._orders: dict[int, np.ndarray] = {}

    # ----- labels ------------------------------------------------------------------------------
    @property
    def num_labels(self) -> int:
        """Classes (classify), tags (tag), choices (choice), or 2 (qa: start and end)."""
        if self.label_list is not None:
            return len(self.label_list)
        return self.num_choices if self.task == "choice" else 2

    @property
    def id2label(self) -> dict[int, str] | None:
        """{id: label name} for classify and tag (a model config's id2label); None otherwise."""
        return None if self.label_list is None else dict(enumerate(self.label_list))

    @property
    def label2id(self) -> dict[str, int] | None:
        return None if self.label_list is None else {name: i for i, name in enumerate(self.label_list)}

    def save_label_list(self, path: str | os.PathLike) -> None:
        """Write the label list as {"id2label", "label2id"} JSON (atomic); load_label_list reads it."""
        if self.label_list is None:
            raise DataError(f"the {self.task} task has no label list")
        save_label_list(path, self.label_list)

    # ----- the stream interface ----------------------------------------------------------------
    def seek(self, position: int) -> None:
        """Continue as if `position` micro-batches had been read."""
        self.position = check_position(position)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        while True:
            first = self.position * self.batch_size
            rows = self._rows(np.arange(first, first + self.batch_size))
            self.position += 1
            yield {key: value[rows] for key, value in self.features.items()}

    def _rows(self, numbers: np.ndarray) -> np.ndarray:
        """Feature rows of stream items `numbers` (item n is row order(n // N)[n % N])."""
        epochs, within = np.divmod(numbers, self.num_features)
        rows = np.empty_like(numbers)
        for epoch in np.unique(epochs):
            rows[epochs == epoch] = self._order(int(epoch))[within[epochs == epoch]]
        return rows

    def _order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.num_features)
        if epoch not in self._orders:
            if len(self._orders) > 2:  # a stream only ever needs the current and next epoch
                self._orders.clear()
            self._orders[epoch] = seeding.rng_for(self.seed, seeding.EXAMPLE_ORDER, epoch).permutation(self.num_features)
        return self._orders[epoch]

    def eval_batches(self) -> Iterator[dict[str, np.ndarray]]:
        """One pass in file order, no shuffle; the last batch may be short."""
        for start in range(0, self.num_features, self.batch_size):
            yield {key: value[start : start + self.batch_size] for key, value in self.features.items()}

    def __len__(self) -> int:
        """Micro-batches in one eval pass (training streams are endless)."""
        return -(-self.num_features // self.batch_size)

    # ----- evaluation --------------------------------------------------------------------------
    def evaluator(self, **options) -> Evaluator:
        """An Evaluator for this task, given this dataset's labels (and examples for qa)."""
        examples = self.examples if self.task == "qa" else None
        return Evaluator(self.task, id2label=self.id2label, examples=examples, **options)

    def majority_label(self) -> int | None:
        """The most frequent label id (class, tag or choice index; ties → the smallest), None for qa."""
        if self.task == "qa":
            return None
        labels = self.features["labels"]
        counts = collections.Counter(labels[labels >= 0].tolist())
        return min(counts, key=lambda k: (-counts[k], k))

    def majority_baseline(self, label: int | None = None) -> dict[str, float]:
        """The metrics of always predicting `label` (default: this set's majority_label(); pass
        the training set's for an honest baseline on evaluation data). For qa: always "" (no answer)."""
        if self.task == "qa":
            return squad_scores({i: "" for i in range(len(self.examples))}, self.examples)
        label = self.majority_label() if label is None else int(label)
        if not 0 <= label < self.num_labels:
            raise DataError(f"label must be in [0, {self.num_labels}), got {label}")
        evaluator = self.evaluator()
        for batch in self.eval_batches():
            logits = np.zeros((*batch["labels"].shape, self.num_labels), dtype=np.float32)
            logits[..., label] = 1.0
            evaluator.update(batch, {"logits": logits})
        return evaluator.result()
