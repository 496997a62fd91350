"""albert_core.pipeline without a framework: a scripted backend returns chosen logits, so each
task's pre- and post-processing (layouts, spans across windows, word grouping, batching) and
every bad input are checked against values worked out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from albert_core.errors import AlbertError
from albert_core.pipeline import TASKS, PipelineError, make_pipeline, task_class
from albert_core.schema import Head
from albert_core.tokenizer import AlbertTokenizer

from .checkpoint_helpers import HF_TINY
from .pipeline_helpers import SPIECE, TAGS, Scripted, task_checkpoint, tiny_checkpoint, tiny_config

TOKENIZER = AlbertTokenizer.from_pretrained(SPIECE)


def piece_id(piece: str) -> int:
    return TOKENIZER.convert_tokens_to_ids(piece)


def one_hot_logits(batch, size: int, chosen: dict[int, int], default: int = 0) -> np.ndarray:
    """[..., S, size] logits: 5.0 at class chosen[input id] (default elsewhere), 0 otherwise."""
    ids = batch["input_ids"]
    classes = np.vectorize(lambda i: chosen.get(int(i), default))(ids)
    return 5.0 * np.eye(size, dtype=np.float32)[classes]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    return {task: task_checkpoint(root, task) for task in TASKS}


def test_fill_mask_layout_and_scores(folders):
    # Logits over the vocabulary rise with the id at every position: top-3 is the 3 highest ids.
    vocab = TOKENIZER.vocab_size
    row = np.arange(vocab, dtype=np.float32) / 100
    script = lambda b: {"logits": np.broadcast_to(row, (*b["input_ids"].shape, vocab)).copy()}
    backend = Scripted(script)
    pipe = make_pipeline("fill-mask", folders["fill-mask"], None, backend)
    got = pipe("The [MASK] statement imports a module.", top_k=3)
    # 9 pieces padded to the 16-piece bucket, so compiled backends see few shapes.
    assert backend.batches[-1]["input_ids"].shape == (1, 16)
    assert backend.batches[-1]["input_ids"][0, 9:].tolist() == [TOKENIZER.pad_token_id] * 7
    probabilities = np.exp(row.astype(np.float64)) / np.exp(row.astype(np.float64)).sum()
    assert [c["token"] for c in got] == [vocab - 1, vocab - 2, vocab - 3]
    np.testing.assert_allclose([c["score"] for c in got], probabilities[[vocab - 1, vocab - 2, vocab - 3]], rtol=1e-9)
    assert got[0]["token_str"] == TOKENIZER.decode([vocab - 1])
    assert got[0]["sequence"] == TOKENIZER.decode(TOKENIZER.encode("The [MASK] statement imports a module.")[1:-1][:1]
                                                  + [vocab - 1] + TOKENIZER.encode("statement imports a module.")[1:-1])
    # Two masks: a list per mask; a batch: a list per text.
    two = pipe("a [MASK] and a [MASK]", top_k=2)
    assert len(two) == 2 and all(len(m) == 2 for m in two)
    batch = pipe(["one [MASK]", "two [MASK] [MASK]"])
    assert len(batch) == 2 and isinstance(batch[0][0], dict) and isinstance(batch[1][0], list)


def test_fill_mask_bad_input(folders):
    pipe = make_pipeline("fill-mask", folders["fill-mask"], None, Scripted(None))
    with pytest.raises(PipelineError, match=r"input 1: no \[MASK\] token in 'no mask here'"):
        pipe(["a [MASK]", "no mask here"])
    with pytest.raises(PipelineError, match="input 0: the text is empty"):
        pipe("  ")
    with pytest.raises(PipelineError, match="lies past max_length=8"):
        make_pipeline("fill-mask", folders["fill-mask"], None, Scripted(None), max_length=8)("one two three four five six seven [MASK]")
    with pytest.raises(PipelineError, match="top_k must be a positive int"):
        pipe("a [MASK]", top_k=0)
    with pytest.raises(PipelineError, match=r"takes no parameter\(s\) \['aggregation'\]; its parameters: top_k"):
        pipe("a [MASK]", aggregation="simple")
    with pytest.raises(PipelineError, match="takes a string or a list of strings"):
        pipe(42)


def test_text_classification_top_k_order_and_pairs(folders):
    script = lambda b: {"logits": np.tile(np.array([[0.0, 2.0, 1.0]], np.float32), (len(b["input_ids"]), 1))}
    backend = Scripted(script)
    pipe = make_pipeline("text-classification", folders["text-classification"], None, backend)
    p = np.exp([0.0, 2.0, 1.0]) / np.exp([0.0, 2.0, 1.0]).sum()
    assert pipe("text") == [{"label": "tutorial", "score": pytest.approx(p[1])}]
    assert [r["label"] for r in pipe("text", top_k=3)] == ["tutorial", "reference", "library"]
    pipe([{"text": "a", "text_pair": "b"}])
    assert backend.batches[-1]["token_type_ids"][0].tolist().count(1) == 2  # "▁b" and the last [SEP]
    with pytest.raises(PipelineError, match="either every input has a text_pair or none does"):
        pipe([{"text": "a", "text_pair": "b"}, "c"])


def test_token_classification_words_and_simple_aggregation(folders):
    # B-CODE on "▁os", I-CODE on every piece after it up to "()", O elsewhere: the word
    # "os.path.join()" is B-CODE and the first "to" after it is O.
    code = {piece_id(p): 2 for p in [".", "path", "join", "()"]}
    code[piece_id("▁os")] = 1
    code[piece_id("▁two")] = 1
    code[piece_id("▁paths")] = 2
    script = lambda b: {"logits": one_hot_logits(b, 3, code)}
    pipe = make_pipeline("token-classification", folders["token-classification"], None, Scripted(script))
    text = "Call  os.path.join() to join two paths."
    words = pipe(text)
    assert [(w["word"], w["entity"], w["start"], w["end"]) for w in words] == [
        ("os.path.join()", "B-CODE", 6, 20), ("two", "B-CODE", 29, 32), ("paths.", "I-CODE", 33, 39)]
    assert words[0]["score"] == pytest.approx(np.exp(5) / (np.exp(5) + 2))
    groups = pipe(text, aggregation="simple")
    assert [(g["word"], g["entity_group"], g["start"], g["end"]) for g in groups] == [
        ("os.path.join()", "CODE", 6, 20), ("two paths.", "CODE", 29, 39)]
    every = pipe(text, ignore_labels=())
    assert [w["word"] for w in every] == text.split()
    with pytest.raises(PipelineError, match="aggregation must be one of none, simple"):
        pipe(text, aggregation="max")


def test_question_answering_across_windows_and_no_answer(folders):
    filler = " ".join(["Modules and classes are described in the library reference."] * 12)
    context = f"{filler} The join function joins paths. {filler}"
    target = piece_id("▁paths")

    def script(b):
        hit = (b["input_ids"] == target) & (b["token_type_ids"] == 1)
        return {"start_logits": 8.0 * hit, "end_logits": 8.0 * hit}

    backend = Scripted(script)
    pipe = make_pipeline("question-answering", folders["question-answering"], None, backend, max_length=64)
    got = pipe(question="What does join do?", context=context)
    start = context.index("paths.")
    assert got == {"answer": "paths", "score": 16.0, "start": start, "end": start + 5}
    assert len(backend.batches[-1]["input_ids"]) > 3  # the context needed several windows
    # The null answer wins where every span scores below [CLS].
    null = lambda b: {"start_logits": 9.0 * (np.arange(b["input_ids"].shape[1]) == 0) * np.ones(b["input_ids"].shape),
                      "end_logits": 9.0 * (np.arange(b["input_ids"].shape[1]) == 0) * np.ones(b["input_ids"].shape)}
    pipe = make_pipeline("question-answering", folders["question-answering"], None, Scripted(null))
    assert pipe(question="Q?", context="No answer here.", handle_impossible_answer=True) == {"answer": "", "score": 18.0, "start": 0, "end": 0}
    assert pipe(question="Q?", context="No answer here.")["answer"] != ""
    with pytest.raises(PipelineError, match="needs question= and context="):
        pipe(question="Q?")


def test_multiple_choice_batches_by_number_of_choices(folders):
    # Each choice scores its number of non-padding pieces: the longest choice wins.
    backend = Scripted(lambda b: {"logits": b["attention_mask"].sum(-1).astype(np.float32)})
    pipe = make_pipeline("multiple-choice", folders["multiple-choice"], None, backend)
    got = pipe([{"question": "q", "choices": ["a", "a b c"]}, {"question": "q", "choices": ["a b c d e", "a", "b"]}])
    assert [r["label"] for r in got] == [1, 0] and got[1]["choice"] == "a b c d e"
    assert [b["input_ids"].shape[:2] for b in backend.batches] == [(1, 2), (1, 3)]
    np.testing.assert_allclose(sum(got[1]["scores"]), 1.0)
    with pytest.raises(PipelineError, match="'choices' must be a list of at least 2 strings"):
        pipe(question="q", choices=["only one"])


def test_building_a_pipeline_reports_what_is_wrong(tmp_path, folders):
    with pytest.raises(PipelineError, match="unknown task 'summarize'; known: fill-mask, text-classification"):
        task_class("summarize")
    assert task_class("ner") is TASKS["token-classification"]
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        make_pipeline("fill-mask", tmp_path / "does-not-exist", None, Scripted(None))
    with pytest.raises(PipelineError, match="holds an AlbertForSequenceClassification checkpoint; fill-mask needs AlbertForMaskedLM or AlbertForPreTraining"):
        make_pipeline("fill-mask", folders["text-classification"], None, Scripted(None))
    bare = tiny_checkpoint(tmp_path / "no-tokenizer", "masked_lm", with_tokenizer=False)
    with pytest.raises(PipelineError, match="no tokenizer for .*no-tokenizer.*pass tokenizer="):
        make_pipeline("fill-mask", bare, None, Scripted(None))
    assert make_pipeline("fill-mask", bare / "model.safetensors", SPIECE, Scripted(None)).tokenizer.vocab_size == 8000
    # The HF fixture's vocabulary has 128 ids; the test tokenizer's 8000 would index past it.
    with pytest.raises(PipelineError, match="the tokenizer has 8000 pieces but the model's vocab_size is 128"):
        make_pipeline("fill-mask", HF_TINY / "tiny" / "masked_lm", SPIECE, Scripted(None))
    with pytest.raises(PipelineError, match="needs a path, a hub id or an albert_scripted model"):
        make_pipeline("fill-mask", object(), SPIECE, Scripted(None))
    with pytest.raises(PipelineError, match="a model instance needs tokenizer="):
        make_pipeline("fill-mask", SimpleNamespace(head=Head.MASKED_LM, config=tiny_config("masked_lm")), None, Scripted(None))
    with pytest.raises(PipelineError, match=r"max_length must be an int in \[3, 128\]"):
        make_pipeline("fill-mask", folders["fill-mask"], None, Scripted(None), max_length=1000)
    assert issubclass(PipelineError, AlbertError) and issubclass(PipelineError, ValueError)


def test_every_task_is_registered_with_its_heads():
    assert sorted(TASKS) == ["fill-mask", "multiple-choice", "question-answering", "text-classification", "token-classification"]
    assert TAGS[1] == "B-CODE"
