"""PretrainingStream: SOP within one document, whole-word n-gram masking, determinism, seek, streaming."""

import random
import tracemalloc

import numpy as np
import pytest

from albert_core.data import DataError, MaskingVocab, PretrainingStream, split_sentences
from albert_core.data.masking import IGNORE_INDEX, choose_ngrams, mask_ngrams, word_spans
from albert_core.data.pretraining import make_segment_pairs, truncate_pair

# Three documents whose words do not overlap (fruit words split into several pieces).
TOPICS = [
    "banana cherry grape mango orange peach pineapple apricot watermelon coconut".split(),
    "socket thread signal buffer semaphore mutex queue process pipe lock".split(),
    "river mountain forest valley glacier canyon island volcano lagoon waterfall".split(),
]


def write_corpus(path, paragraphs=6, sentences=5, seed=0):
    rng = random.Random(seed)
    documents = []
    for words in TOPICS:
        lines = []
        for _ in range(paragraphs):
            lines.append(" ".join(" ".join(rng.choice(words) for _ in range(rng.randint(4, 9))).capitalize() + "." for _ in range(sentences)))
        documents.append("\n".join(lines))
    path.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
    return path


def document_strings(path, tokenizer):
    """Each document's pieces as ",id,id,...," (to find a segment as a contiguous run of ids)."""
    out = []
    for document in path.read_text(encoding="utf-8").split("\n\n"):
        sentences = [s for line in document.splitlines() for s in split_sentences(line)]
        ids = [i for row in tokenizer(sentences, add_special_tokens=False)["input_ids"] for i in row]
        out.append("," + ",".join(map(str, ids)) + ",")
    return out


def original_ids(batch):
    """input_ids with every masked position put back to its label."""
    return np.where(batch["labels"] != IGNORE_INDEX, batch["labels"], batch["input_ids"])


def segments(batch, row):
    ids, types, mask = original_ids(batch)[row], batch["token_type_ids"][row], batch["attention_mask"][row]
    len_a = int(((types == 0) & (mask == 1)).sum()) - 2
    total = int(mask.sum())
    return ids[1 : 1 + len_a].tolist(), ids[2 + len_a : total - 1].tolist()


def take(stream, n):
    iterator = iter(stream)
    return [next(iterator) for _ in range(n)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.txt")


def test_batch_contract(corpus, tokenizer):
    batch = take(PretrainingStream(corpus, tokenizer, max_seq_length=32, batch_size=4), 1)[0]
    assert sorted(batch) == ["attention_mask", "input_ids", "labels", "sentence_order_label", "token_type_ids"]
    for key in ("input_ids", "attention_mask", "token_type_ids", "labels"):
        assert batch[key].shape == (4, 32) and batch[key].dtype == np.int32, key
    assert batch["sentence_order_label"].shape == (4,) and batch["sentence_order_label"].dtype == np.int32
    ids = original_ids(batch)
    for row in range(4):
        n = int(batch["attention_mask"][row].sum())
        assert ids[row, 0] == tokenizer.cls_token_id and ids[row, n - 1] == tokenizer.sep_token_id
        assert (batch["input_ids"][row, n:] == tokenizer.pad_token_id).all() and (batch["labels"][row, n:] == IGNORE_INDEX).all()
        assert (batch["token_type_ids"][row, n:] == 0).all()


def test_sop_segments_come_from_one_document_and_labels_balance(corpus, tokenizer):
    docs = document_strings(corpus, tokenizer)
    stream = PretrainingStream(corpus, tokenizer, max_seq_length=32, batch_size=8, seed=3, shuffle_buffer=50)
    labels, ordered, unique = [], 0, 0
    for batch in take(stream, 40):
        for row in range(8):
            a, b = segments(batch, row)
            assert len(a) and len(b)
            sa, sb = "," + ",".join(map(str, a)) + ",", "," + ",".join(map(str, b)) + ","
            home_a = {d for d, text in enumerate(docs) if sa in text}
            home_b = {d for d, text in enumerate(docs) if sb in text}
            assert home_a & home_b, "segments A and B must come from the same document"
            if len(home_a) == 1 and len(home_b) == 1:
                unique += 1
            label = int(batch["sentence_order_label"][row])
            labels.append(label)
            d = min(home_a & home_b)
            if docs[d].count(sa) == 1 and docs[d].count(sb) == 1:
                # label 0: A precedes B in the document; label 1: they were swapped.
                assert (docs[d].index(sa) < docs[d].index(sb)) == (label == 0)
                ordered += 1
    assert unique > 250 and ordered > 250  # of 320: the checks above bit on most examples
    assert 0.42 < np.mean(labels) < 0.58


def test_segment_pairs_follow_the_document():
    rng = np.random.default_rng(0)
    for _ in range(50):
        sentences = [[1, 2], [3], [4, 5, 6], [7, 8]]
        pairs = list(make_segment_pairs(sentences, 100, 0.0, rng))
        assert len(pairs) == 1
        a, b = pairs[0]
        assert a + b == [1, 2, 3, 4, 5, 6, 7, 8] and a[-1] in (2, 3, 6)  # cut at a sentence boundary
    # One sentence alone in its chunk is cut at a piece boundary; a 1-piece sentence is dropped.
    cuts = {tuple(map(tuple, p)) for _ in range(50) for p in make_segment_pairs([[7, 8, 9]], 100, 0.0, rng)}
    assert cuts == {((7,), (8, 9)), ((7, 8), (9,))}
    assert list(make_segment_pairs([[7]], 100, 0.0, rng)) == []
    # Chunks close when they reach the target length (here 4 pieces).
    pairs = list(make_segment_pairs([[1, 2], [3, 4], [5, 6], [7, 8]], 4, 0.0, np.random.default_rng(1)))
    assert [a + b for a, b in pairs] == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_truncate_pair_trims_the_longer_segment():
    a, b = truncate_pair(list(range(10)), [100, 101, 102], 8, np.random.default_rng(0))
    assert len(a) + len(b) == 8 and b == [100, 101, 102]
    assert a == list(range(a[0], a[0] + 5))  # a contiguous run of the original
    assert truncate_pair([1], [2], 8, np.random.default_rng(0)) == ([1], [2])


def test_single_sentence_documents_make_examples_and_tiny_ones_are_dropped(tmp_path, tokenizer):
    long_doc = " ".join(TOPICS[2] * 6)  # one 60-word sentence without a full stop
    path = tmp_path / "single.txt"
    path.write_text(f"{long_doc}\n\nsocket\n", encoding="utf-8")
    (home,) = document_strings(path, tokenizer)[:1]
    socket_id = tokenizer.convert_tokens_to_ids("▁socket")
    for batch in take(PretrainingStream(path, tokenizer, max_seq_length=32, batch_size=4, seed=1), 5):
        for row in range(4):
            a, b = segments(batch, row)
            assert socket_id not in a + b  # the 1-piece document gives no example
            assert "," + ",".join(map(str, a)) + "," in home and "," + ",".join(map(str, b)) + "," in home
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("socket\n\nthread\n", encoding="utf-8")
    with pytest.raises(DataError, match="no pretraining example"):
        take(PretrainingStream(tiny, tokenizer, max_seq_length=32), 1)


def test_masking_rate_and_replacement_split(corpus, tokenizer):
    stream = PretrainingStream(corpus, tokenizer, max_seq_length=64, batch_size=16, seed=5, shuffle_buffer=20)
    vocab = MaskingVocab.from_tokenizer(tokenizer)
    chosen = real = as_mask = kept = random_id = 0
    for batch in take(stream, 30):
        labels, inputs = batch["labels"], batch["input_ids"]
        picked = labels != IGNORE_INDEX
        real += int((~vocab.is_special[original_ids(batch)]).sum())
        chosen += int(picked.sum())
        as_mask += int((inputs[picked] == tokenizer.mask_token_id).sum())
        kept += int((inputs[picked] == labels[picked]).sum())
        replaced = picked & (inputs != labels) & (inputs != tokenizer.mask_token_id)
        random_id += int(replaced.sum())
        assert not vocab.is_special[inputs[replaced]].any()  # random replacements are never special ids
        assert not vocab.is_special[labels[picked]].any()  # special tokens are never chosen
    assert 0.13 < chosen / real <= 0.15 + 1e-9  # 15% of the tokens, never more (whole words may undershoot)
    assert abs(as_mask / chosen - 0.8) < 0.03
    assert abs(kept / chosen - 0.1) < 0.025 and abs(random_id / chosen - 0.1) < 0.025


def test_masked_runs_are_whole_words(corpus, tokenizer):
    vocab = MaskingVocab.from_tokenizer(tokenizer)
    runs = 0
    for batch in take(PretrainingStream(corpus, tokenizer, max_seq_length=64, batch_size=16, seed=2), 10):
        ids = original_ids(batch)
        for row in range(len(ids)):
            special = vocab.is_special[ids[row]]
            starts_word = ~special & (vocab.is_word_start[ids[row]] | np.r_[True, special[:-1]])
            picked = np.r_[batch["labels"][row] != IGNORE_INDEX, False]
            begins = np.flatnonzero(picked[1:-1] & ~picked[:-2]) + 1
            ends = np.flatnonzero(picked[:-1] & ~picked[1:]) + 1  # first position after a run
            for begin, end in zip(begins, ends):
                assert starts_word[begin], "a masked span starts mid-word"
                assert special[end] or starts_word[end], "a masked span ends mid-word"
                runs += 1
    assert runs > 300


def synthetic_vocab():
    """ids 0-4 special, 5-49 word starts ("▁..."), 50-99 continuation pieces."""
    is_special = np.zeros(100, dtype=bool)
    is_special[:5] = True
    is_word_start = np.zeros(100, dtype=bool)
    is_word_start[5:50] = True
    return MaskingVocab(4, is_special, is_word_start, np.arange(5, 100, dtype=np.int32))


def test_word_spans_and_ngram_choice():
    vocab = synthetic_vocab()
    #           CLS  w0       w1  w2           SEP w3(cont. after SEP) w4      SEP
    ids = np.array([2, 10, 60, 11, 12, 61, 62, 3, 63, 13, 64, 3])
    starts, ends, run_ends = word_spans(ids, vocab)
    assert starts.tolist() == [1, 3, 4, 8, 9] and ends.tolist() == [3, 4, 7, 9, 11]
    assert run_ends.tolist() == [3, 3, 3, 5, 5]  # an n-gram never crosses [SEP]

    rng = np.random.default_rng(0)
    words = np.array([5 + (k % 40) for k in range(120)])
    pieces = np.stack([words, 50 + words % 7]).T.reshape(-1)[: 200]  # every word two pieces
    ids = np.r_[2, pieces, 3]
    starts, ends, run_ends = word_spans(ids, vocab)
    lengths = []
    for _ in range(300):
        spans = choose_ngrams(starts, ends, run_ends, budget=30, rng=rng, max_ngram=3)
        covered = [w for first, n in spans for w in range(first, first + n)]
        assert len(covered) == len(set(covered))  # disjoint
        assert sum(ends[f + n - 1] - starts[f] for f, n in spans) <= 30
        lengths += [n for _, n in spans]
    counts = np.bincount(lengths, minlength=4)[1:]
    assert counts.max() == counts[0] and set(lengths) <= {1, 2, 3}
    # p(n) ∝ 1/n: 6/11, 3/11, 2/11 before the budget shortens a few spans at the end.
    share = counts / counts.sum()
    assert abs(share[1] - 3 / 11) < 0.05 and abs(share[2] - 2 / 11) < 0.05


def test_mask_ngrams_budget_and_no_special():
    vocab = synthetic_vocab()
    ids = np.r_[2, np.arange(5, 45), 3]  # 40 one-piece words
    out, labels = mask_ngrams(ids, vocab, np.random.default_rng(0), masked_lm_prob=0.15, max_predictions=100)
    assert (labels != IGNORE_INDEX).sum() == 6  # round(0.15 * 40)
    assert labels[0] == labels[-1] == IGNORE_INDEX and out[0] == 2 and out[-1] == 3
    _, capped = mask_ngrams(ids, vocab, np.random.default_rng(0), masked_lm_prob=0.5, max_predictions=4)
    assert (capped != IGNORE_INDEX).sum() == 4
    untouched, none = mask_ngrams(ids, vocab, np.random.default_rng(0), masked_lm_prob=0.0)
    assert (untouched == ids).all() and (none == IGNORE_INDEX).all()


def test_same_seed_same_bytes_other_seed_differs(corpus, tokenizer):
    def first_batches(seed):
        return take(PretrainingStream(corpus, tokenizer, max_seq_length=32, batch_size=8, seed=seed, shuffle_buffer=30), 6)

    one, two, other = first_batches(7), first_batches(7), first_batches(8)
    for a, b in zip(one, two):
        assert all(a[k].tobytes() == b[k].tobytes() for k in a)
    assert any(a["input_ids"].tobytes() != c["input_ids"].tobytes() for a, c in zip(one, other))


def test_seek_gives_the_fresh_streams_batch(corpus, tokenizer):
    def stream():
        return PretrainingStream(corpus, tokenizer, max_seq_length=32, batch_size=8, seed=11, shuffle_buffer=25)

    fresh = stream()
    reference = take(fresh, 14)
    assert fresh.position == 14
    per_epoch = sum(1 for _ in fresh._epoch_pairs(0))
    assert 14 * 8 > 2 * per_epoch  # the batches below run across epoch ends
    for position in (0, 1, 6, 13):
        resumed = stream()
        resumed.seek(position)
        batch = next(iter(resumed))
        assert resumed.position == position + 1
        assert all(np.array_equal(batch[k], reference[position][k]) for k in batch), position
    # Epochs differ: the second epoch's first examples are not the first epoch's.
    pairs = fresh.iter_segment_pairs()
    first_epoch = [(a.tolist(), b.tolist(), swapped) for a, b, swapped in (next(pairs) for _ in range(per_epoch))]
    second_epoch = [(a.tolist(), b.tolist(), swapped) for a, b, swapped in (next(pairs) for _ in range(per_epoch))]
    assert first_epoch != second_epoch


def test_files_stream_without_being_read_whole(tmp_path, tokenizer):
    """A ~24 MB file: the first batch needs only its first documents, and Python memory stays far
    below the file's size (tracemalloc counts every str and list the pipeline makes)."""
    path = tmp_path / "big.txt"
    rng = random.Random(0)
    documents = []
    for k in range(300):  # documents of 3 paragraphs of 8 sentences
        words = TOPICS[k % 3]
        paragraphs = [" ".join(" ".join(rng.choice(words) for _ in range(8)).capitalize() + "." for _ in range(8)) for _ in range(3)]
        documents.append("\n".join(paragraphs))
    chunk = ("\n\n".join(documents) + "\n\n").encode()
    with open(path, "wb") as handle:
        for _ in range(24_000_000 // len(chunk)):
            handle.write(chunk)
    assert path.stat().st_size > 20_000_000
    stream = PretrainingStream(path, tokenizer, max_seq_length=64, batch_size=8, shuffle_buffer=16)
    tracemalloc.start()
    try:
        batch = next(iter(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert batch["input_ids"].shape == (8, 64)
    assert peak < 2_000_000, f"peak Python memory {peak:,} bytes for a {path.stat().st_size:,}-byte file"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size must be a positive int"),
        ({"max_seq_length": 4}, "max_seq_length must be at least 5"),
        ({"masked_lm_prob": 1.5}, "masked_lm_prob must be a probability"),
        ({"seed": -1}, "seed must be a non-negative int"),
        ({"shuffle_buffer": 0}, "shuffle_buffer must be a positive int"),
    ],
)
def test_bad_arguments(corpus, tokenizer, kwargs, message):
    with pytest.raises(DataError, match=message):
        PretrainingStream(corpus, tokenizer, **kwargs)


def test_missing_file_and_bad_seek(corpus, tokenizer, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        PretrainingStream([corpus, tmp_path / "nowhere.txt"], tokenizer)
    with pytest.raises(DataError, match="position must be a non-negative int"):
        PretrainingStream(corpus, tokenizer).seek(-1)
