"""Pretraining batches (masked LM + sentence-order prediction) streamed from raw text files.

    documents (text.iter_documents) ─▶ sentences (text.split_sentences) ─▶ pieces (tokenizer)
      ─▶ segment pairs A/B per document (make_segment_pairs) ─▶ SOP swap (p=0.5) + truncation
      ─▶ seeded shuffle buffer ─▶ example k masked with its own RNG (masking.mask_ngrams)
      ─▶ micro-batches of batch_size rows, padded to max_seq_length

Segments follow google-research/albert's create_pretraining_data: sentences fill a chunk up to a
target length (max_seq_length - 3, or with probability short_seq_prob a random shorter one), and
A is the chunk's first 1..len-1 sentences, B the rest. Sentence order: both segments always come
from the same document, and with p=0.5 they are swapped (sentence_order_label 1). The original
code takes B from a random *other* document when a chunk holds a single sentence, which turns
those examples into next-sentence prediction; here a single-sentence chunk is instead split at a
random piece boundary, and dropped when it has fewer than 2 pieces.

Everything random derives from `seed` (seeding.rng_for): the file order and the shuffle per
epoch, the chunking per (epoch, document), the masking per example number. So the stream is the
same bit for bit for a seed, and `seek(p)` re-reads the text up to example p·batch_size without
masking the skipped examples.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from . import seeding
from .errors import DataError, check_position, check_positive, check_probability
from .masking import IGNORE_INDEX, MaskingVocab, mask_ngrams
from .text import check_files, iter_documents, split_sentences

# (segment A ids, segment B ids, swapped): one example before masking.
SegmentPair = tuple[np.ndarray, np.ndarray, bool]


def make_segment_pairs(
    sentences: Sequence[list[int]], max_num_tokens: int, short_seq_prob: float, rng: np.random.Generator
) -> Iterator[tuple[list[int], list[int]]]:
    """(A, B) piece lists, in document order, from one document's tokenised sentences."""
    target = max_num_tokens
    if rng.random() < short_seq_prob:
        target = int(rng.integers(2, max_num_tokens + 1))
    chunk: list[list[int]] = []
    length = 0
    for i, sentence in enumerate(sentences):
        chunk.append(sentence)
        length += len(sentence)
        if i == len(sentences) - 1 or length >= target:
            if len(chunk) >= 2:
                a_end = int(rng.integers(1, len(chunk)))
                yield [t for s in chunk[:a_end] for t in s], [t for s in chunk[a_end:] for t in s]
            elif len(chunk[0]) >= 2:  # one sentence: cut it, rather than borrow another document
                cut = int(rng.integers(1, len(chunk[0])))
                yield chunk[0][:cut], chunk[0][cut:]
            chunk, length = [], 0


def truncate_pair(a: list[int], b: list[int], max_num_tokens: int, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Trim the longer segment, one piece at a time from its front or back at random, to fit."""
    a_lo, a_hi, b_lo, b_hi = 0, len(a), 0, len(b)
    while (a_hi - a_lo) + (b_hi - b_lo) > max_num_tokens:
        front = rng.random() < 0.5
        if a_hi - a_lo > b_hi - b_lo:
            a_lo, a_hi = (a_lo + 1, a_hi) if front else (a_lo, a_hi - 1)
        else:
            b_lo, b_hi = (b_lo + 1, b_hi) if front else (b_lo, b_hi - 1)
    return a[a_lo:a_hi], b[b_lo:b_hi]


class PretrainingStream:
    """Endless, deterministic micro-batches for AlbertForPreTraining from text files.

    Each batch is a dict of int32 numpy arrays: input_ids, attention_mask, token_type_ids,
    labels ([B, S], -100 where not masked) and sentence_order_label ([B], 1 = swapped).

    Files stream line by line; memory holds one document and the shuffle buffer. Epochs repeat
    forever, each with its own file order, chunking and shuffle (the epoch index is mixed into the
    seed); examples run on across epoch ends, so every batch is full.
    """

    def __init__(
        self,
        files: str | os.PathLike | Iterable[str | os.PathLike],
        tokenizer,
        max_seq_length: int = 128,
        batch_size: int = 8,
        seed: int = 0,
        masked_lm_prob: float = 0.15,
        max_ngram: int = 3,
        short_seq_prob: float = 0.1,
        shuffle_buffer: int = 10000,
        max_predictions_per_seq: int | None = None,
    ):
        self.files = check_files(files)
        self.tokenizer = tokenizer
        self.max_seq_length = check_positive("max_seq_length", max_seq_length)
        if max_seq_length < 5:
            raise DataError(f"max_seq_length must be at least 5 ([CLS] A [SEP] B [SEP]), got {max_seq_length}")
        self.batch_size = check_positive("batch_size", batch_size)
        self.seed = seeding.check_seed(seed)
        self.masked_lm_prob = check_probability("masked_lm_prob", masked_lm_prob)
        self.max_ngram = check_positive("max_ngram", max_ngram)
        self.short_seq_prob = check_probability("short_seq_prob", short_seq_prob)
        self.shuffle_buffer = check_positive("shuffle_buffer", shuffle_buffer)
        if max_predictions_per_seq is None:
            max_predictions_per_seq = max(1, round(masked_lm_prob * max_seq_length))
        self.max_predictions_per_seq = check_positive("max_predictions_per_seq", max_predictions_per_seq)
        self.vocab = MaskingVocab.from_tokenizer(tokenizer)
        self.position = 0

    def for_workers(self, workers: int) -> list["PretrainingStream"]:
        """`workers` copies of this stream for ParallelStream: the same files and settings, worker w
        seeded seeding.worker_seed(seed, w), so worker 0 is this stream and the others are
        independent passes over the same text (their own file order, chunking, shuffle, masking)."""
        workers = check_positive("workers", workers)
        copies = [copy.copy(self) for _ in range(workers)]
        for w, stream in enumerate(copies):
            stream.seed, stream.position = seeding.worker_seed(self.seed, w), 0
        return copies

    # ----- the stream interface ----------------------------------------------------------------
    def seek(self, position: int) -> None:
        """Continue as if `position` micro-batches had been read (takes effect at the next iter)."""
        self.position = check_position(position)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        examples = self.iter_segment_pairs()
        number = self.position * self.batch_size
        for _ in range(number):  # skipped examples are built (the text must be read) but not masked
            next(examples)
        while True:
            rows = []
            for _ in range(self.batch_size):
                rows.append(self.encode(next(examples), number))
                number += 1
            self.position += 1
            yield {key: np.stack([row[key] for row in rows]) for key in rows[0]}

    # ----- the pipeline's stages ---------------------------------------------------------------
    def iter_segment_pairs(self) -> Iterator[SegmentPair]:
        """Every example before masking, shuffled, epoch after epoch (forever)."""
        epoch = 0
        while True:
            count = 0
            for pair in self._shuffled(self._epoch_pairs(epoch), epoch):
                count += 1
                yield pair
            if count == 0:
                raise DataError(
                    "no pretraining example can be built: the files hold no document with at least 2 pieces",
                    ", ".join(map(str, self.files)),
                )
            epoch += 1

    def _epoch_pairs(self, epoch: int) -> Iterator[SegmentPair]:
        max_num_tokens = self.max_seq_length - 3  # [CLS] A [SEP] B [SEP]
        order = seeding.rng_for(self.seed, seeding.FILE_ORDER, epoch).permutation(len(self.files))
        documents = iter_documents(self.files[i] for i in order)
        for index, paragraphs in enumerate(documents):
            sentences = [s for paragraph in paragraphs for s in split_sentences(paragraph)]
            pieces = [ids for ids in self.tokenizer(sentences, add_special_tokens=False)["input_ids"] if ids]
            rng = seeding.rng_for(self.seed, seeding.DOCUMENT, epoch, index)
            for a, b in make_segment_pairs(pieces, max_num_tokens, self.short_seq_prob, rng):
                swapped = bool(rng.random() < 0.5)
                if swapped:
                    a, b = b, a
                a, b = truncate_pair(a, b, max_num_tokens, rng)
                # int32 arrays: a full shuffle buffer takes a ninth of the memory of int lists
                yield np.asarray(a, dtype=np.int32), np.asarray(b, dtype=np.int32), swapped

    def _shuffled(self, pairs: Iterator[SegmentPair], epoch: int) -> Iterator[SegmentPair]:
        """A seeded shuffle buffer: keep `shuffle_buffer` examples, emit a random one per arrival."""
        rng = seeding.rng_for(self.seed, seeding.SHUFFLE, epoch)
        buffer: list[SegmentPair] = []
        for pair in pairs:
            if len(buffer) < self.shuffle_buffer:
                buffer.append(pair)
                continue
            j = int(rng.integers(len(buffer)))
            yield buffer[j]
            buffer[j] = pair
        for j in rng.permutation(len(buffer)):
            yield buffer[j]

    def encode(self, pair: SegmentPair, number: int) -> dict[str, np.ndarray]:
        """One padded, masked row for example `number` of the stream."""
        a, b, swapped = pair
        tok = self.tokenizer
        cls, sep = np.array([tok.cls_token_id], np.int32), np.array([tok.sep_token_id], np.int32)
        ids = np.concatenate([cls, a, sep, b, sep])
        rng = seeding.rng_for(self.seed, seeding.MASKING, number)
        masked, labels = mask_ngrams(ids, self.vocab, rng, self.masked_lm_prob, self.max_ngram, self.max_predictions_per_seq)
        n, pad = len(ids), self.max_seq_length - len(ids)
        types = np.zeros(n, dtype=np.int32)
        types[len(a) + 2 :] = 1
        return {
            "input_ids": np.pad(masked.astype(np.int32), (0, pad), constant_values=tok.pad_token_id),
            "attention_mask": np.pad(np.ones(n, dtype=np.int32), (0, pad)),
            "token_type_ids": np.pad(types, (0, pad)),
            "labels": np.pad(labels, (0, pad), constant_values=IGNORE_INDEX),
            "sentence_order_label": np.int32(swapped),
        }
