"""Tiny random checkpoints that fit the shipped test tokenizer, for the pipeline and task-command
tests of every backend (numpy + albert_core only, so importable from every test env).

The hf_tiny fixtures have a 128-piece vocabulary, smaller than tests/fixtures/spiece/spiece.model's
8000, so pipelines over real text need these instead: a 2-layer, 32-wide ALBERT with the
tokenizer's vocabulary, written as a canonical folder (config.json + model.safetensors +
spiece.model). Dropout is on in the config, so a pipeline that forgot eval mode would show.
initializer_range 0.5 spreads the random logits so that top-k orders are clear of float
rounding (the backends agree to ~1e-6; neighbouring scores differ by far more).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from albert_core.checkpoint import save_checkpoint
from albert_core.checkpoint.state import initial_value
from albert_core.config import AlbertConfig
from albert_core.pipeline import Backend
from albert_core.schema import ARCHITECTURES, Head, tensor_specs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPIECE = FIXTURES / "spiece" / "spiece.model"
TAGS = {0: "O", 1: "B-CODE", 2: "I-CODE"}
CLASSES = {0: "library", 1: "tutorial", 2: "reference"}
# The head each task loads, and the labels its checkpoint carries.
TASK_HEADS = {
    "fill-mask": (Head.MASKED_LM, None),
    "text-classification": (Head.SEQUENCE_CLASSIFICATION, CLASSES),
    "token-classification": (Head.TOKEN_CLASSIFICATION, TAGS),
    "question-answering": (Head.QUESTION_ANSWERING, None),
    "multiple-choice": (Head.MULTIPLE_CHOICE, None),
}


class Scripted(Backend):
    """A backend whose 'model' returns script(batch): logits chosen by the test."""

    name = "scripted"
    model_class = SimpleNamespace

    def __init__(self, script):
        self.script = script
        self.batches = []

    def load(self, config, head, state):
        return SimpleNamespace(head=head, config=config)

    def forward(self, model, batch):
        self.batches.append(batch)
        return self.script(batch)


def tiny_config(head: Head | str, id2label: dict[int, str] | None = None) -> AlbertConfig:
    extra = {} if id2label is None else {"id2label": id2label}
    return AlbertConfig(
        vocab_size=8000, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=37, max_position_embeddings=128, initializer_range=0.5, hidden_dropout_prob=0.1,
        architectures=[ARCHITECTURES[Head(head)]], **extra,
    )


def tiny_checkpoint(folder: Path, head: Head | str, id2label: dict[int, str] | None = None, seed: int = 0,
                    with_tokenizer: bool = True) -> Path:
    """A random checkpoint of `head` in `folder` (the tokenizer's spiece.model beside it)."""
    config = tiny_config(head, id2label)
    rng = np.random.default_rng(seed)
    state = {spec.name: initial_value(spec, config, rng) for spec in tensor_specs(config, head) if spec.tied_to is None}
    save_checkpoint(folder, config, state)
    if with_tokenizer:
        shutil.copy(SPIECE, Path(folder) / "spiece.model")
    return Path(folder)


def task_checkpoint(root: Path, task: str, seed: int = 0) -> Path:
    head, labels = TASK_HEADS[task]
    return tiny_checkpoint(Path(root) / task, head, labels, seed=seed)


# ------------------------------------------------------------------------------------------------
# Each task's answer recomputed from a plain forward of the backend's model (no pipeline code):
# the backend tests pass `forward(inputs) -> {output name: numpy}` built on their own model call.
# ------------------------------------------------------------------------------------------------
FILL_MASK_TEXT = "The [MASK] statement imports a module, and [MASK] names it."
CLASSIFY_TEXTS = ["A tutorial paragraph about lists.", "The reference manual defines the grammar."]
TAG_TEXT = "Call os.path.join() to join two paths."
QUESTION = "What does os.path.join do?"
CONTEXT = "The function os.path.join joins one or more path segments intelligently. It returns a string."
CHOICE_QUESTION = "Which module joins file system paths?"
CHOICES = ["os.path", "json", "re", "sys"]


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(np.asarray(x, np.float64) - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# A probability's relative error is the absolute error of the logits' differences: these random
# logits are O(10), and fp32 forwards (eager vs XLA vs jit) round them differently by ~1e-5.
SCORE_RTOL = 1e-4


def encode(tokenizer, *texts, **kwargs) -> dict[str, np.ndarray]:
    enc = tokenizer(*texts, return_tensors="np", **kwargs)
    return {k: enc[k].astype(np.int32) for k in ("input_ids", "attention_mask", "token_type_ids")}


def check_fill_mask(pipe, tokenizer, forward) -> None:
    got = pipe(FILL_MASK_TEXT, top_k=5)
    inputs = encode(tokenizer, [FILL_MASK_TEXT])
    logits = forward(inputs)["logits"][0]
    positions = np.flatnonzero(inputs["input_ids"][0] == tokenizer.mask_token_id)
    assert len(got) == len(positions) == 2  # two masks: one list of candidates each
    for candidates, position in zip(got, positions):
        want = np.argsort(-logits[position], kind="stable")[:5]
        assert [c["token"] for c in candidates] == want.tolist()
        np.testing.assert_allclose([c["score"] for c in candidates], softmax(logits[position])[want], rtol=SCORE_RTOL)
        assert candidates[0]["token_str"] == tokenizer.decode([int(want[0])])
        filled = inputs["input_ids"][0].copy()
        filled[position] = want[0]
        assert candidates[0]["sequence"] == tokenizer.decode(filled.tolist(), skip_special_tokens=True)


def check_classify(pipe, tokenizer, forward) -> None:
    got = pipe(CLASSIFY_TEXTS, top_k=3)
    logits = forward(encode(tokenizer, CLASSIFY_TEXTS, padding=True))["logits"]
    for row, result in zip(logits, got):
        order = np.argsort(-row, kind="stable")
        assert [r["label"] for r in result] == [CLASSES[int(k)] for k in order]
        np.testing.assert_allclose([r["score"] for r in result], softmax(row)[order], rtol=SCORE_RTOL)


def check_tag(pipe, tokenizer, forward) -> None:
    got = pipe(TAG_TEXT, ignore_labels=())
    # Words encoded one by one, each tag read at the word's first piece (HF's word_ids recipe).
    words = TAG_TEXT.split()
    ids, firsts = [tokenizer.cls_token_id], []
    for word in words:
        firsts.append(len(ids))
        ids += tokenizer(word, add_special_tokens=False)["input_ids"]
    ids.append(tokenizer.sep_token_id)
    inputs = {"input_ids": np.array([ids], np.int32), "attention_mask": np.ones((1, len(ids)), np.int32),
              "token_type_ids": np.zeros((1, len(ids)), np.int32)}
    logits = forward(inputs)["logits"][0]
    assert [r["word"] for r in got] == words
    assert [r["entity"] for r in got] == [TAGS[int(logits[p].argmax())] for p in firsts]
    np.testing.assert_allclose([r["score"] for r in got], [softmax(logits[p]).max() for p in firsts], rtol=SCORE_RTOL)
    assert all(TAG_TEXT[r["start"]:r["end"]] == r["word"] for r in got)


def check_answer(pipe, tokenizer, forward) -> None:
    got = pipe(question=QUESTION, context=CONTEXT)
    inputs = encode(tokenizer, [QUESTION], [CONTEXT])
    out = forward(inputs)
    start, end = out["start_logits"][0].astype(np.float64), out["end_logits"][0].astype(np.float64)
    # Every span of context pieces (token type 1, the final [SEP] excluded), at most 30 long.
    context_positions = np.flatnonzero(inputs["token_type_ids"][0] == 1)[:-1]
    spans = [(s, e) for s in context_positions for e in context_positions if 0 <= e - s < 30]
    best = max(spans, key=lambda se: start[se[0]] + end[se[1]])
    offsets = tokenizer(CONTEXT, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    first = int(context_positions[0])
    begin, finish = offsets[best[0] - first][0], offsets[best[1] - first][1]
    while CONTEXT[begin].isspace():  # a piece's span includes the space its "▁" stands for
        begin += 1
    assert (got["start"], got["end"]) == (begin, finish)
    assert got["answer"] == CONTEXT[begin:finish]
    np.testing.assert_allclose(got["score"], start[best[0]] + end[best[1]], rtol=SCORE_RTOL)


def check_choose(pipe, tokenizer, forward) -> None:
    got = pipe(question=CHOICE_QUESTION, choices=CHOICES)
    flat = encode(tokenizer, [CHOICE_QUESTION] * len(CHOICES), CHOICES, padding=True)
    logits = forward({k: v[None] for k, v in flat.items()})["logits"][0]
    assert got["label"] == int(logits.argmax()) and got["choice"] == CHOICES[got["label"]]
    np.testing.assert_allclose(got["scores"], softmax(logits), rtol=SCORE_RTOL)


CHECKS = {
    "fill-mask": check_fill_mask,
    "text-classification": check_classify,
    "token-classification": check_tag,
    "question-answering": check_answer,
    "multiple-choice": check_choose,
}


def check_task(tmp_path, task: str, pipeline, plain_forward, instance: bool = False):
    """CHECKS[task] on `pipeline` (a backend's) built from a checkpoint path, or from the model
    instance plain_forward(folder) returns (with the tokenizer passed alongside)."""
    from albert_core.tokenizer import AlbertTokenizer

    model, forward = plain_forward(task_checkpoint(tmp_path, task))
    pipe = pipeline(task, model, tokenizer=SPIECE) if instance else pipeline(task, str(tmp_path / task))
    CHECKS[task](pipe, AlbertTokenizer.from_pretrained(SPIECE), forward)
    return pipe


# ------------------------------------------------------------------------------------------------
# The task commands in one backend (--json), checked against that backend's pipeline
# ------------------------------------------------------------------------------------------------
CLI_CASES = {  # command: (task, arguments after MODEL, the pipeline parameters they mean)
    "fill-mask": ("fill-mask", [FILL_MASK_TEXT, "--top-k", "3"], {"top_k": 3}),
    "classify": ("text-classification", ["Some text.", "--top-k", "2"], {"top_k": 2}),
    "tag": ("token-classification", [TAG_TEXT, "--aggregation", "simple"], {"aggregation": "simple"}),
    "answer": ("question-answering", ["--question", QUESTION, "--context", CONTEXT], {}),
    "choose": ("multiple-choice", ["--question", CHOICE_QUESTION, "--choices", *CHOICES], {}),
}


def check_cli_json(tmp_path, capsys, pipeline, backend: str, command: str) -> None:
    from albert_core.cli import main

    task, arguments, params = CLI_CASES[command]
    folder = task_checkpoint(tmp_path, task)
    assert main([command, str(folder), *arguments, "--backend", backend, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["task"] == task and document["backends"] == [backend] and document["agreement"] is None
    (got,) = document["results"][backend]
    want = pipeline(task, str(folder))(document["inputs"][0], **params)
    assert got == json.loads(json.dumps(want))


def check_cli_batch_file(tmp_path, capsys, pipeline, backend: str) -> None:
    """--input: plain lines and JSON objects, blank lines skipped; --json and the table agree."""
    from albert_core.cli import main

    folder = task_checkpoint(tmp_path, "fill-mask")
    texts = ["One [MASK] here.", "Two [MASK] there.", "Three [MASK] everywhere."]
    (tmp_path / "in.txt").write_text("\n".join([texts[0], json.dumps({"text": texts[1]}), "", texts[2]]) + "\n", encoding="utf-8")
    args = ["fill-mask", str(folder), "--input", str(tmp_path / "in.txt"), "--backend", backend, "--top-k", "2"]
    assert main([*args, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    want = pipeline("fill-mask", str(folder))(texts, top_k=2)  # the same batches as the command (8 a batch)
    assert document["results"][backend] == json.loads(json.dumps(want))
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "[3] Three [MASK] everywhere." in table
    assert all(f"{r[0]['token_str']}  {r[0]['score']:.4f}" in table for r in want)
