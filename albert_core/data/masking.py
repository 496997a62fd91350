"""Whole-word n-gram masking for the masked-LM objective, as the ALBERT paper describes it.

- A word is the pieces from one piece starting with "▁" up to the next such piece. Special tokens
  ([CLS], [SEP], <pad>, ...) are never masked and also end a word, so a segment that starts with a
  "continuation" piece (cut mid-word by truncation) starts a new word there.
- Spans are n-grams of whole words, n <= max_ngram (3), drawn with p(n) ∝ 1/n, never across a
  special token (an n-gram does not straddle [SEP]).
- The budget is round(masked_lm_prob × the number of non-special tokens) (at least 1), capped at
  max_predictions. Word starts are visited in a random order; at each, n is drawn, shortened
  while the span would overshoot the budget, and the span is skipped if it still overshoots or
  overlaps one already chosen (google-research/albert's create_masked_lm_predictions, with its
  RNG made local and its overlap check actually applied).
- Each chosen token independently: 80% [MASK], 10% a random non-special id, 10% unchanged.
  labels hold the original id at chosen positions and -100 elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPIECE_UNDERLINE = "▁"
IGNORE_INDEX = -100


@dataclass(frozen=True)
class MaskingVocab:
    """What masking needs to know about a vocabulary, as arrays indexed by token id."""

    mask_id: int
    is_special: np.ndarray  # bool [vocab]
    is_word_start: np.ndarray  # bool [vocab]: the piece starts with "▁"
    random_ids: np.ndarray  # int32: the ids a "random token" replacement draws from (non-special)

    @classmethod
    def from_tokenizer(cls, tokenizer) -> "MaskingVocab":
        size = tokenizer.vocab_size
        pieces = tokenizer.convert_ids_to_tokens(list(range(size)))
        is_special = np.zeros(size, dtype=bool)
        is_special[list(tokenizer.all_special_ids)] = True
        is_word_start = np.array([p.startswith(SPIECE_UNDERLINE) for p in pieces], dtype=bool)
        random_ids = np.flatnonzero(~is_special).astype(np.int32)
        return cls(int(tokenizer.mask_token_id), is_special, is_word_start, random_ids)


def word_spans(ids: np.ndarray, vocab: MaskingVocab) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, run_ends) of the words in `ids`.

    Word w covers positions starts[w]:ends[w]; words w..run_ends[w]-1 lie between the same two
    special tokens, so an n-gram starting at word w may use at most run_ends[w] - w words.
    """
    special = vocab.is_special[ids]
    previous_special = np.concatenate([[True], special[:-1]])
    begins = ~special & (vocab.is_word_start[ids] | previous_special)
    starts = np.flatnonzero(begins)
    # A word ends where the next word begins, at the next special token, or at the end.
    boundaries = np.append(np.flatnonzero(begins | special), len(ids))
    ends = boundaries[np.searchsorted(boundaries, starts, side="right")]
    # Words between the same two special tokens share a run (the count of specials before them).
    runs = np.cumsum(special)[starts]
    run_ends = np.searchsorted(runs, runs, side="right")
    return starts, ends, run_ends


def choose_ngrams(
    starts: np.ndarray, ends: np.ndarray, run_ends: np.ndarray, budget: int, rng: np.random.Generator, max_ngram: int = 3
) -> list[tuple[int, int]]:
    """(first word, n) of each chosen n-gram: disjoint, within one run, at most `budget` pieces."""
    weights = 1.0 / np.arange(1, max_ngram + 1)
    covered = np.zeros(len(starts), dtype=bool)
    chosen: list[tuple[int, int]] = []
    pieces = 0
    for w in rng.permutation(len(starts)):
        if pieces >= budget:
            break
        if covered[w]:
            continue
        longest = min(max_ngram, int(run_ends[w]) - w)
        n = 1 + int(rng.choice(longest, p=weights[:longest] / weights[:longest].sum()))
        size = int(ends[w + n - 1] - starts[w])
        while n > 1 and pieces + size > budget:
            n -= 1
            size = int(ends[w + n - 1] - starts[w])
        if pieces + size > budget or covered[w : w + n].any():
            continue
        covered[w : w + n] = True
        chosen.append((int(w), n))
        pieces += size
    return chosen


def mask_ngrams(
    ids: np.ndarray,
    vocab: MaskingVocab,
    rng: np.random.Generator,
    masked_lm_prob: float = 0.15,
    max_ngram: int = 3,
    max_predictions: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mask whole-word n-grams of the 1-D id sequence `ids`; return (masked ids, labels)."""
    ids = np.asarray(ids)
    labels = np.full(ids.shape, IGNORE_INDEX, dtype=np.int32)
    out = ids.copy()
    starts, ends, run_ends = word_spans(ids, vocab)
    if masked_lm_prob == 0 or len(starts) == 0:
        return out, labels
    n_tokens = int((~vocab.is_special[ids]).sum())
    budget = max(1, int(np.floor(n_tokens * masked_lm_prob + 0.5)))
    if max_predictions is not None:
        budget = min(budget, max_predictions)
    spans = choose_ngrams(starts, ends, run_ends, budget, rng, max_ngram)
    if not spans:  # every word is longer than the budget (a short sequence of long words)
        return out, labels
    positions = np.sort(np.concatenate([np.arange(starts[w], ends[w + n - 1]) for w, n in spans]))
    labels[positions] = ids[positions]
    draw = rng.random(len(positions))  # per token: < 0.8 [MASK], < 0.9 random id, else unchanged
    replacement = rng.choice(vocab.random_ids, size=len(positions))
    out[positions[draw < 0.8]] = vocab.mask_id
    random = (draw >= 0.8) & (draw < 0.9)
    out[positions[random]] = replacement[random]
    return out, labels
