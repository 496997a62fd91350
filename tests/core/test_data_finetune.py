"""FinetuneDataset: each task's loader on small files, tag alignment, QA windows, streams, errors."""

import json

import numpy as np
import pytest

from albert_core.data import BatchList, DataError, FinetuneDataset, build_label_list, load_label_list
from albert_core.data.postprocess import best_answers

CLS, SEP, PAD = 2, 3, 0


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def ids_of(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


# ----- classify --------------------------------------------------------------------------------
def test_classify_single_texts(tmp_path, tokenizer):
    path = write_jsonl(tmp_path / "train.jsonl", [
        {"text": "The list sorts items", "label": "pos"},
        {"text": "Lists are mutable.", "label": "neg"},
        {"text": "Is it mutable?", "label": "pos"},
    ])
    data = FinetuneDataset("classify", path, tokenizer, max_seq_length=8, batch_size=2, shuffle=False)
    assert data.label_list == ["neg", "pos"] and data.id2label == {0: "neg", 1: "pos"} and data.num_labels == 2
    f = data.features
    assert f["input_ids"][0].tolist() == [CLS, 5, 76, 3871, 435, SEP, PAD, PAD]
    assert f["attention_mask"][0].tolist() == [1] * 6 + [0, 0] and f["token_type_ids"][0].tolist() == [0] * 8
    assert f["labels"].tolist() == [1, 0, 1] and f["meta_example_index"].tolist() == [0, 1, 2]
    assert all(v.dtype == np.int32 for v in f.values())
    assert data.majority_label() == 1 and data.majority_baseline() == {"accuracy": pytest.approx(2 / 3)}
    assert data.majority_baseline(0) == {"accuracy": pytest.approx(1 / 3)}


def test_classify_pairs_from_csv_with_a_given_label_list(tmp_path, tokenizer):
    path = tmp_path / "pairs.csv"
    path.write_text('text,text_pair,label\nIs it mutable?,yes,1\n"Is it mutable?","no",0\n', encoding="utf-8")
    data = FinetuneDataset("classify", path, tokenizer, max_seq_length=10, label_list=["0", "1"], shuffle=False)
    assert data.features["input_ids"][0].tolist() == [CLS, 10, 27, 1068, 972, SEP, 3755, SEP, PAD, PAD]
    assert data.features["token_type_ids"][0].tolist() == [0] * 6 + [1, 1, 0, 0]
    assert data.features["labels"].tolist() == [1, 0]
    # Truncation (longest_first) keeps the fixed shape.
    short = FinetuneDataset("classify", path, tokenizer, max_seq_length=6)
    assert short.features["input_ids"].shape == (2, 6) and short.features["input_ids"][0, -1] == SEP


def test_label_lists_sort_deterministically_and_round_trip(tmp_path, tokenizer):
    assert build_label_list(["10", 2, "1", 2]) == ["1", "2", "10"]  # integers sort numerically
    assert build_label_list(["pos", "neg", "neutral"]) == ["neg", "neutral", "pos"]
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "a", "label": 2}, {"text": "b", "label": 10}])
    data = FinetuneDataset("classify", path, tokenizer)
    data.save_label_list(tmp_path / "labels.json")
    saved = json.loads((tmp_path / "labels.json").read_text())
    assert saved == {"id2label": {"0": "2", "1": "10"}, "label2id": {"2": 0, "10": 1}}
    assert load_label_list(tmp_path / "labels.json") == ["2", "10"]
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 8, "id2label": {"1": "b", "0": "a"}}))
    assert load_label_list(tmp_path / "config.json") == ["a", "b"]  # a model's config.json works too


# ----- tag -------------------------------------------------------------------------------------
TAG_RECORD = {
    "tokens": ["Guido", "van", "Rossum", "wrote", "Python", "in", "Amsterdam"],
    "tags": ["B-PER", "I-PER", "I-PER", "O", "B-MISC", "O", "B-LOC"],
}


def test_tag_labels_sit_on_each_words_first_piece(tmp_path, tokenizer):
    path = write_jsonl(tmp_path / "tag.jsonl", [TAG_RECORD, {"tokens": ["asyncio", "runs"], "tags": ["B-MISC", "O"]}])
    data = FinetuneDataset("tag", path, tokenizer, max_seq_length=16, shuffle=False)
    assert data.label_list == ["B-LOC", "B-MISC", "B-PER", "I-PER", "O"]
    f = data.features
    # pieces: ▁guido ▁van ▁rossum ▁w rote ▁python ▁in ▁a m st er dam (worked out by hand from the vocab)
    assert tokenizer.convert_ids_to_tokens(f["input_ids"][0, :14].tolist()) == [
        "[CLS]", "▁guido", "▁van", "▁rossum", "▁w", "rote", "▁python", "▁in", "▁a", "m", "st", "er", "dam", "[SEP]"]
    x = -100
    assert f["labels"][0].tolist() == [x, 2, 3, 3, 4, x, 1, 4, 0, x, x, x, x, x, x, x]
    assert f["meta_word_ids"][0].tolist() == [-1, 0, 1, 2, 3, 3, 4, 5, 6, 6, 6, 6, 6, -1, -1, -1]
    assert f["labels"][1].tolist()[:5] == [x, 1, 4, x, x] and f["attention_mask"][1].sum() == 4
    # Truncation: only the first max_seq_length - 2 pieces (and their words) remain.
    cut = FinetuneDataset("tag", path, tokenizer, max_seq_length=8, shuffle=False)
    assert cut.features["labels"][0].tolist() == [x, 2, 3, 3, 4, x, 1, x]
    assert cut.features["input_ids"][0, -1] == SEP


def test_tag_csv_cells_as_words_or_json(tmp_path, tokenizer):
    path = tmp_path / "tag.csv"
    path.write_text('tokens,tags\nasyncio runs,B-MISC O\n"[""asyncio"", ""runs""]","[""B-MISC"", ""O""]"\n', encoding="utf-8")
    data = FinetuneDataset("tag", path, tokenizer, max_seq_length=6)
    assert data.features["labels"].tolist() == [[-100, 0, 1, -100, -100, -100]] * 2


# ----- choice ----------------------------------------------------------------------------------
def test_choice_rows_are_question_choice_pairs(tmp_path, tokenizer):
    path = write_jsonl(tmp_path / "choice.jsonl", [
        {"question": "Is it mutable?", "choices": ["yes", "no", "Lists are mutable."], "label": 0},
        {"context": "The list sorts items", "question": "Is it mutable?", "choices": ["no", "yes", "yes"], "label": 2},
    ])
    data = FinetuneDataset("choice", path, tokenizer, max_seq_length=16, shuffle=False)
    f = data.features
    assert f["input_ids"].shape == (2, 3, 16) and data.num_labels == 3 and f["labels"].tolist() == [0, 2]
    assert f["input_ids"][0, 1, :8].tolist() == [CLS, 10, 27, 1068, 972, SEP, 79, SEP]
    context_first = [CLS, *ids_of(tokenizer, "The list sorts items Is it mutable?"), SEP, 3755, SEP]
    assert f["input_ids"][1, 2, : len(context_first)].tolist() == context_first
    assert data.majority_baseline() == {"accuracy": 0.5}


# ----- qa --------------------------------------------------------------------------------------
CONTEXT = "The json module encodes objects. It was added in Python 2.6 by Bob Ippolito. Many other modules use it daily."
QUESTION = "Who added the json module?"  # 6 pieces


def qa_dataset(tmp_path, tokenizer, records, **kwargs):
    path = write_jsonl(tmp_path / "qa.jsonl", records)
    options = {"max_seq_length": 17, "doc_stride": 3, "shuffle": False}
    return FinetuneDataset("qa", path, tokenizer, **{**options, **kwargs})


def qa_record(example_id, answer=None):
    answers = {"text": [], "answer_start": []}
    if answer is not None:
        answers = {"text": [answer], "answer_start": [CONTEXT.index(answer)]}
    return {"id": example_id, "question": QUESTION, "context": CONTEXT, "answers": answers}


def test_qa_windows_hold_the_answer_where_it_fits(tmp_path, tokenizer):
    """26 context pieces, 8 per window (17 - 6 question - 3 specials), neighbours sharing 3:
    windows start at pieces 0, 5, 10, 15, 20. "Bob Ippolito" is pieces 14-16 (▁bo b ▁ippolito),
    whole only in the window starting at 10; "json module" is pieces 1-2, in the first window."""
    data = qa_dataset(tmp_path, tokenizer, [qa_record("a", "Bob Ippolito"), qa_record("b", "json module"), qa_record("c")])
    f = data.features
    assert f["meta_example_index"].tolist() == [0] * 5 + [1] * 5 + [2] * 5
    first_context = 1 + 6 + 1
    assert f["start_positions"][:5].tolist() == [0, 0, first_context + 4, 0, 0]
    assert f["end_positions"][:5].tolist() == [0, 0, first_context + 6, 0, 0]
    assert f["start_positions"][5:10].tolist() == [first_context + 1, 0, 0, 0, 0]
    assert f["end_positions"][5:10].tolist() == [first_context + 2, 0, 0, 0, 0]
    assert (f["start_positions"][10:] == 0).all() and (f["end_positions"][10:] == 0).all()  # unanswerable
    question = ids_of(tokenizer, QUESTION)
    context = ids_of(tokenizer, CONTEXT)
    for window, start in enumerate([0, 5, 10, 15, 20]):
        pieces = context[start : start + 8]
        row = f["input_ids"][window].tolist()
        assert row[: first_context + len(pieces) + 1] == [CLS, *question, SEP, *pieces, SEP]
        types = f["token_type_ids"][window].tolist()
        assert types[:first_context] == [0] * first_context and types[first_context : first_context + len(pieces) + 1] == [1] * (len(pieces) + 1)
    # Offsets: -1 off the context; on it they map back to the answer text exactly.
    offsets = f["meta_offsets"]
    assert (offsets[:, :first_context] == -1).all()
    s, e = f["start_positions"][2], f["end_positions"][2]
    span = CONTEXT[offsets[2, s, 0] : offsets[2, e, 1]]
    assert span == " Bob Ippolito" and span.lstrip() == "Bob Ippolito"  # a ▁ piece spans its space
    assert data.num_features == 15 and len(data) == 2


def test_qa_labels_recover_the_answers_through_postprocessing(tmp_path, tokenizer):
    data = qa_dataset(tmp_path, tokenizer, [qa_record("a", "Bob Ippolito"), qa_record("b", "json module"), qa_record("c")])
    f = data.features
    start = np.zeros(f["input_ids"].shape)
    end = np.zeros(f["input_ids"].shape)
    rows = np.arange(len(start))
    start[rows, f["start_positions"]] = 4.0  # a model that has learned the labels exactly
    end[rows, f["end_positions"]] = 4.0
    answers = best_answers(start, end, f["meta_example_index"], f["meta_offsets"], [e.context for e in data.examples], version_2=True)
    assert [answers[k]["text"] for k in range(3)] == ["Bob Ippolito", "json module", ""]
    evaluator = data.evaluator()
    for batch in data.eval_batches():
        n = len(batch["input_ids"])
        s = np.zeros(batch["input_ids"].shape)
        e = np.zeros(batch["input_ids"].shape)
        s[np.arange(n), batch["start_positions"]] = 4.0
        e[np.arange(n), batch["end_positions"]] = 4.0
        evaluator.update(batch, {"start_logits": s, "end_logits": e})
    assert evaluator.result() == {"exact_match": 1.0, "f1": 1.0}
    assert data.majority_baseline() == {"exact_match": pytest.approx(1 / 3), "f1": pytest.approx(1 / 3)}


def test_qa_question_is_capped_and_stride_must_fit(tmp_path, tokenizer):
    data = qa_dataset(tmp_path, tokenizer, [qa_record("a", "Bob Ippolito")], max_query_length=3, max_seq_length=20)
    assert data.features["input_ids"][0, :5].tolist() == [CLS, *ids_of(tokenizer, QUESTION)[:3], SEP]
    with pytest.raises(DataError, match=r"doc_stride \(8\) must be smaller"):
        qa_dataset(tmp_path, tokenizer, [qa_record("a")], doc_stride=8)


# ----- the stream interface --------------------------------------------------------------------
@pytest.fixture
def ten_texts(tmp_path):
    return write_jsonl(tmp_path / "ten.jsonl", [{"text": f"text number {k}", "label": k % 3} for k in range(10)])


def test_stream_epochs_seek_and_eval_batches(ten_texts, tokenizer):
    data = FinetuneDataset("classify", ten_texts, tokenizer, max_seq_length=8, batch_size=4, seed=3)
    iterator = iter(data)
    batches = [next(iterator) for _ in range(10)]  # 40 rows: 4 epochs of 10
    assert data.position == 10
    order = np.concatenate([b["meta_example_index"] for b in batches])
    for epoch in range(4):
        assert sorted(order[epoch * 10 : (epoch + 1) * 10]) == list(range(10))  # each epoch: every row once
    assert not np.array_equal(order[:10], order[10:20])  # a new permutation per epoch
    for position in (0, 2, 7, 9):
        other = FinetuneDataset("classify", ten_texts, tokenizer, max_seq_length=8, batch_size=4, seed=3)
        other.seek(position)
        batch = next(iter(other))
        assert all(np.array_equal(batch[k], batches[position][k]) for k in batch)
    reseeded = FinetuneDataset("classify", ten_texts, tokenizer, max_seq_length=8, batch_size=4, seed=4)
    assert not np.array_equal(next(iter(reseeded))["meta_example_index"], batches[0]["meta_example_index"])
    restored = FinetuneDataset("classify", ten_texts, tokenizer, max_seq_length=8, batch_size=4, seed=3)
    restored.seek(np.int64(7))  # a position read back from a checkpoint may be a numpy int
    assert restored.position == 7 and type(restored.position) is int
    evaluation = list(data.eval_batches())
    assert [b["meta_example_index"].tolist() for b in evaluation] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(data) == 3


def test_batch_list_freezes_a_stream(ten_texts, tokenizer):
    data = FinetuneDataset("classify", ten_texts, tokenizer, max_seq_length=8, batch_size=4, seed=3)
    frozen = BatchList.take(data, 2)
    assert len(frozen) == 2 and frozen.batch_size == 4 and data.position == 2
    again = [b["meta_example_index"].tolist() for b in frozen.eval_batches()]
    assert again == [b["meta_example_index"].tolist() for b in frozen.eval_batches()]  # the same at every evaluation
    frozen.seek(3)
    assert next(iter(frozen))["meta_example_index"].tolist() == again[1] and frozen.position == 4  # cycles
    with pytest.raises(DataError, match="at least one micro-batch"):
        BatchList([])


# ----- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "task, records, kwargs, message",
    [
        ("classify", [{"text": "a", "label": "x"}, {"text": "b"}], {}, r"bad\.jsonl:2: field 'label': missing"),
        ("classify", [{"text": "a", "label": "meh"}], {"label_list": ["neg", "pos"]},
         r"bad\.jsonl:1: field 'label': label 'meh' is not in the label list \['neg', 'pos'\]"),
        ("classify", [{"text": "a", "text_pair": "b", "label": 0}, {"text": "c", "label": 1}], {},
         r"bad\.jsonl:2: field 'text_pair': present in some records"),
        ("classify", [{"text": 5, "label": 0}], {}, r"bad\.jsonl:1: field 'text': must be str, got int"),
        ("tag", [{"tokens": ["a", "b", "c"], "tags": ["O", "O"]}], {}, r"bad\.jsonl:1: field 'tags': has 2 tags for 3 tokens"),
        ("tag", [{"tokens": ["a"], "tags": ["B-X"]}], {"label_list": ["O"]}, r"field 'tags': tag 'B-X' \(word 0\) is not in"),
        ("tag", [{"tokens": [], "tags": []}], {}, r"field 'tokens': must not be empty"),
        ("choice", [{"question": "q", "choices": ["a", "b"], "label": 0}, {"question": "q", "choices": ["a"], "label": 0}], {},
         r"bad\.jsonl:2: field 'choices': has 1 choices; the first record \(line 1\) has 2"),
        ("choice", [{"question": "q", "choices": ["a", "b"], "label": 2}], {}, r"field 'label': must be a choice index in \[0, 2\)"),
        ("qa", [{"id": "x", "question": "q", "context": "Bob wrote it.", "answers": {"text": ["Bob"], "answer_start": [3]}}], {},
         r"bad\.jsonl:1: field 'answers.answer_start': answer 0 'Bob' does not match the context at answer_start 3"),
        ("qa", [{"id": "x", "question": "q", "context": "c"}], {}, r"field 'answers': missing"),
        ("summarise", [{"text": "a"}], {}, r"unknown task 'summarise'"),
    ],
)
def test_bad_records_name_file_line_and_field(tmp_path, tokenizer, task, records, kwargs, message):
    path = write_jsonl(tmp_path / "bad.jsonl", records)
    with pytest.raises(DataError, match=message) as caught:
        FinetuneDataset(task, path, tokenizer, max_seq_length=16, **kwargs)
    if caught.value.line is not None:
        assert caught.value.path == str(path)


def test_bad_files(tmp_path, tokenizer):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a", "label": 0}\n\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"broken\.jsonl:3: not valid JSON"):
        FinetuneDataset("classify", broken, tokenizer)
    csv_path = tmp_path / "short.csv"
    for rows, message in [
        ("fine,1\n,\nno label cell\n", r"short\.csv:4: field 'label': missing"),  # line 3: an empty row, skipped
        ("empty label,\n", r"short\.csv:2: field 'label': missing"),  # an empty cell is a missing field
        ("fine,1,extra\n", r"short\.csv:2: more cells than the header's 2 columns"),
    ]:
        csv_path.write_text("text,label\n" + rows, encoding="utf-8")
        with pytest.raises(DataError, match=message):
            FinetuneDataset("classify", csv_path, tokenizer)
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty\.jsonl: holds no records"):
        FinetuneDataset("classify", tmp_path / "empty.jsonl", tokenizer)
    (tmp_path / "data.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match=r"unknown data file type '\.txt'"):
        FinetuneDataset("classify", tmp_path / "data.txt", tokenizer)
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        FinetuneDataset("classify", tmp_path / "missing.jsonl", tokenizer)
    with pytest.raises(DataError, match="batch_size must be a positive int"):
        FinetuneDataset("classify", tmp_path / "empty.jsonl", tokenizer, batch_size=0)
