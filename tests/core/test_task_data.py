"""The committed fine-tuning sets in data/tasks/ (built by scripts/make_task_data.py) are well formed:
the fields and types the task loaders read, answer offsets that point at the answer, no text in both
splits, and dev labels that train has. The script's markup rules are checked on small reST pieces."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "tasks"
TASKS = ("classify", "tag", "choice", "qa")
SPLITS = ("train", "dev")
TAGS = {"O", "B-CODE", "I-CODE"}


def load(task: str, split: str) -> list[dict]:
    path = DATA / task / f"{split}.jsonl"
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise AssertionError(f"{path}:{number} is not JSON: {exc}") from None
    return records


def key(task: str, record: dict):
    """The text a model reads: two records with the same key are the same example."""
    return {
        "classify": lambda r: r["text"],
        "tag": lambda r: tuple(r["tokens"]),
        "choice": lambda r: r["question"],
        "qa": lambda r: (r["question"], r["context"]),
    }[task](record)


def check_classify(record: dict) -> None:
    assert set(record) == {"text", "label"}
    assert isinstance(record["text"], str) and record["text"].strip()
    assert isinstance(record["label"], str) and record["label"]


def check_tag(record: dict) -> None:
    assert set(record) == {"tokens", "tags"}
    tokens, tags = record["tokens"], record["tags"]
    assert len(tokens) == len(tags) > 0
    assert all(isinstance(t, str) and t and not re.search(r"\s", t) for t in tokens)
    assert set(tags) <= TAGS
    for previous, tag in zip(["O"] + tags, tags):  # BIO: I-CODE only continues a code span
        assert not (tag == "I-CODE" and previous == "O"), tokens


def check_choice(record: dict) -> None:
    assert set(record) == {"question", "choices", "label"}
    assert isinstance(record["question"], str) and record["question"].strip()
    choices = record["choices"]
    assert isinstance(choices, list) and len(choices) == 4 and len(set(choices)) == 4
    assert all(isinstance(c, str) and c.strip() for c in choices)
    assert type(record["label"]) is int and 0 <= record["label"] < 4


def check_qa(record: dict) -> None:
    assert set(record) == {"id", "question", "context", "answers"}
    assert all(isinstance(record[f], str) and record[f] for f in ("id", "question", "context"))
    answers = record["answers"]
    assert set(answers) == {"text", "answer_start"}
    assert len(answers["text"]) == len(answers["answer_start"]) <= 1
    for text, start in zip(answers["text"], answers["answer_start"]):
        assert isinstance(text, str) and text and type(start) is int
        assert record["context"][start : start + len(text)] == text, record["id"]


CHECKS = {"classify": check_classify, "tag": check_tag, "choice": check_choice, "qa": check_qa}


@pytest.mark.parametrize("task", TASKS)
def test_records_have_the_loaders_fields(task):
    for split in SPLITS:
        records = load(task, split)
        assert 100 <= len(records) <= 3000, (task, split, len(records))
        for record in records:
            CHECKS[task](record)


@pytest.mark.parametrize("task", TASKS)
def test_splits_are_disjoint_and_dev_labels_are_in_train(task):
    train, dev = load(task, "train"), load(task, "dev")
    train_keys = {key(task, r) for r in train}
    assert len(train_keys) == len(train), "a train example is repeated"
    assert not train_keys & {key(task, r) for r in dev}, "an example is in train and dev"
    if task in ("classify", "choice"):
        assert {r["label"] for r in dev} <= {r["label"] for r in train}
    if task == "tag":
        assert {t for r in dev for t in r["tags"]} <= {t for r in train for t in r["tags"]}
    if task == "qa":
        ids = [r["id"] for r in train + dev]
        assert len(set(ids)) == len(ids), "qa ids repeat"
        for records in (train, dev):  # v2 style: answerable and unanswerable questions, a third without
            unanswerable = sum(not r["answers"]["text"] for r in records) / len(records)
            assert 0.25 < unanswerable < 0.45


def test_classify_is_balanced_and_data_is_small():
    for split in SPLITS:
        counts = {}
        for record in load("classify", split):
            counts[record["label"]] = counts.get(record["label"], 0) + 1
        assert len(counts) == 6 and len(set(counts.values())) == 1, counts
    size = sum(path.stat().st_size for path in DATA.rglob("*") if path.is_file())
    assert size < 3_000_000


def test_readme_states_the_counts():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for task in TASKS:
        row = f"| {task} | {len(load(task, 'train'))} | {len(load(task, 'dev'))} |"
        assert row in readme, row


# --- the script's rules, on small reST pieces (no .deb needed) ---------------------------------
def script():
    spec = importlib.util.spec_from_file_location("make_task_data", ROOT / "scripts" / "make_task_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def test_code_markup_becomes_bio_tags():
    make = script()
    record = make.tag_record(*make.render("Call :func:`~os.path.join` or ``a  b``, see :pep:`8` and *x*."))
    assert record == {
        "tokens": ["Call", "os.path.join", "or", "a", "b,", "see", "PEP", "8", "and", "x."],
        "tags": ["O", "B-CODE", "O", "B-CODE", "I-CODE", "O", "O", "O", "O", "O"],
    }
    # two code spans side by side are two entities; a titled role shows its title
    assert make.tag_record(*make.render("``a`` ``b`` :ref:`the guide <guide>`"))["tags"] == ["B-CODE", "B-CODE", "O", "O"]
    for unclear in (":ref:`guide`", ":kbd:`C-x`", "`default role`"):
        with pytest.raises(make.Unrenderable):
            make.render(unclear)


def test_document_structure_titles_entries_and_first_sentences():
    make = script()
    source = "\n".join([
        "Tools", "=====", "",
        "Intro text about the tools here.", "",
        ".. function:: spam(eggs, \\", "                ham)", "   :noindex:", "",
        "   Return *eggs* fried. eggs must be fresh, e.g. laid today.", "",
        "   .. versionadded:: 3.2", "",
        ".. glossary::", "",
        "   duck", "   duck-typing", "      A style of typing. More text.", "",
    ])
    doc = make.parse_document("library/tools.rst.txt", source)
    assert doc.titles == ["Tools"]
    assert [(p.raw, p.title) for p in doc.paragraphs][0] == ("Intro text about the tools here.", "Tools")
    spam, duck = doc.entries
    assert (spam.kind, spam.signature, spam.name) == ("function", "spam(eggs, ham)", "spam")
    assert spam.description == "Return *eggs* fried. eggs must be fresh, e.g. laid today."
    assert (duck.kind, duck.name, duck.description) == ("term", "duck", "A style of typing. More text.")
    assert make.first_sentence(make.render_text(spam.description)) == "Return eggs fried."
    assert make.first_sentence("See e.g. the os.path module. Then stop.") == "See e.g. the os.path module."
