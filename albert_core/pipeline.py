"""Task pipelines, framework-free: text in, answers out; a backend only runs the model.

    pipe = albert_torch.pipeline("fill-mask", "weights/albert-tiny-pydocs")   # or albert_tf / albert_flax
    pipe("The [MASK] statement imports a module.", top_k=5)

    text ──featurizer (albert_core.data)──▶ int32 numpy batch ──backend.forward──▶ numpy logits
         ──albert_core.data.postprocess──▶ answers (HF pipelines' output layout)

The featurizers are the ones fine-tuning trains with (albert_core.data.featurize / squad), so a
fine-tuned model sees its inputs built the same way at inference. Each backend supplies a
`Backend` (load a canonical state into its model class, run a batch, hand numpy back); everything
else, from reading the checkpoint to the answer dicts, is here, once.

Tasks (`TASKS`, with HF's names and a few aliases):
  fill-mask             text with [MASK] → per mask, the top_k [{"score", "token", "token_str", "sequence"}]
  text-classification   text (or {"text", "text_pair"}) → the top_k [{"label", "score"}]
  token-classification  text → word-level [{"entity", "score", "word", "start", "end"}]
                        (aggregation="simple": B-/I- words merged into {"entity_group", ...})
  question-answering    question=, context= → {"answer", "score", "start", "end"}
  multiple-choice       question=, choices= → {"label": index, "choice", "scores"}
A single input gives a single result; a list gives a list of results.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .checkpoint import infer_head, load_checkpoint, match_state
from .config import AlbertConfig
from .data import postprocess
from .data.featurize import featurize_choice, featurize_classify, featurize_tag
from .data.records import Record
from .data.squad import QAExample, featurize_qa
from .errors import AlbertError
from .schema import ARCHITECTURES, Head
from .tokenizer import AlbertTokenizer

# The model inputs a featurizer's arrays hold (the rest are labels and meta_* fields).
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# The outputs a task reads; a backend returns those of them its model produced, as numpy.
OUTPUT_FIELDS = ("logits", "prediction_logits", "start_logits", "end_logits")
# Batches are cut to their longest row, rounded up to this, so XLA (TF, JAX) sees few shapes.
LENGTH_BUCKET = 16


class PipelineError(AlbertError, ValueError):
    """A pipeline cannot be built or called as asked (unknown task, wrong head, bad input)."""


class Backend:
    """What a framework supplies: its name, how to load a model, how to run one batch.

    Subclasses live in albert_torch/tf/flax.pipelines; `forward` takes int32 numpy inputs and
    returns {field: numpy array} for the OUTPUT_FIELDS the model produced.
    """

    name: str = ""
    model_class: type = object  # the backend's AlbertPreTrainedModel, to check a model instance

    def load(self, config: AlbertConfig, head: Head, state: Mapping[str, np.ndarray]) -> Any:
        raise NotImplementedError

    def forward(self, model: Any, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def prepare(self, model: Any) -> Any:
        """A model instance the caller passed, made ready for inference (e.g. eval mode)."""
        return model


# ------------------------------------------------------------------------------------------------
# The pipeline machinery shared by every task
# ------------------------------------------------------------------------------------------------
class Pipeline:
    """Callable: examples in, answers out. Subclasses define one task (see TASKS)."""

    task: ClassVar[str] = ""
    heads: ClassVar[tuple[Head, ...]] = ()  # checkpoints that serve the task; the first is loaded
    defaults: ClassVar[dict[str, Any]] = {}  # the call's keyword parameters and their defaults

    def __init__(self, model, tokenizer: AlbertTokenizer, config: AlbertConfig, backend: Backend, batch_size: int = 8,
                 max_length: int | None = None, **params):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise PipelineError(f"batch_size must be a positive int, got {batch_size!r}")
        limit = min(config.max_position_embeddings, tokenizer.model_max_length)
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or not 3 <= max_length <= limit):
            raise PipelineError(f"max_length must be an int in [3, {limit}] (the model's position limit), got {max_length!r}")
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.backend = backend
        self.batch_size = batch_size
        self.max_length = max_length or limit
        self.params = self._params(params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, backend={self.backend.name!r}, head={self.model.head.value!r})"

    def _params(self, given: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        unknown = sorted(set(given) - set(self.defaults))
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise PipelineError(f"{self.task} takes no parameter(s) {unknown}; its parameters: {known}")
        params = {**(self.defaults if base is None else base), **given}
        top_k = params.get("top_k")
        if "top_k" in params and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise PipelineError(f"top_k must be a positive int, got {top_k!r}")
        return params

    def __call__(self, inputs: Any = None, **kwargs):
        examples, single = self.examples(inputs, kwargs)
        params = self._params(kwargs, self.params)
        if not examples:
            return []
        results: list[Any] = []
        for chunk in self._chunks(examples):
            arrays = self.featurize(chunk, params)
            outputs = self.run(arrays)
            results.extend(self.answers(chunk, arrays, outputs, params))
        return results[0] if single else results

    def _chunks(self, examples: list) -> Iterator[list]:
        """Runs of at most batch_size examples that can share one batch (same chunk_key)."""
        chunk: list = []
        for example in examples:
            if chunk and (len(chunk) == self.batch_size or self.chunk_key(example) != self.chunk_key(chunk[0])):
                yield chunk
                chunk = []
            chunk.append(example)
        yield chunk

    def chunk_key(self, example) -> Any:
        return None

    def run(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The model's outputs for a featurized batch, cut or padded to its longest row rounded up
        to LENGTH_BUCKET (padding columns change nothing but the cost; the bucket keeps the number
        of shapes XLA and jit compile small)."""
        mask = arrays["attention_mask"]
        longest = int(mask.reshape(-1, mask.shape[-1]).sum(axis=-1).max())
        length = min(-(-longest // LENGTH_BUCKET) * LENGTH_BUCKET, self.max_length)
        batch = {}
        for name in MODEL_INPUTS:
            array = np.asarray(arrays[name][..., :length], dtype=np.int32)
            missing = length - array.shape[-1]
            fill = self.tokenizer.pad_token_id if name == "input_ids" else 0
            batch[name] = np.pad(array, [(0, 0)] * (array.ndim - 1) + [(0, missing)], constant_values=fill)
        outputs = self.backend.forward(self.model, batch)
        if "prediction_logits" in outputs and "logits" not in outputs:  # an AlbertForPreTraining instance
            outputs["logits"] = outputs["prediction_logits"]
        return outputs

    # ----- what a task defines -------------------------------------------------------------------
    def examples(self, inputs: Any, kwargs: dict) -> tuple[list, bool]:
        """(the examples, whether a single one was given); removes input keywords from kwargs."""
        raise NotImplementedError

    def featurize(self, examples: list, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def answers(self, examples: list, arrays: Mapping[str, np.ndarray], outputs: Mapping[str, np.ndarray], params) -> list:
        raise NotImplementedError

    @staticmethod
    def agreement_key(result) -> Any:
        """What two backends must give identically for this result (tokens, labels, spans)."""
        raise NotImplementedError

    @staticmethod
    def scores(result) -> list[float]:
        """Every score in a result, in a fixed order (to measure max |Δ score| across backends)."""
        raise NotImplementedError

    # ----- shared helpers --------------------------------------------------------------------------
    def _labels(self) -> dict[int, str]:
        return self.config.id2label

    def _placeholder_records(self, fields: list[dict], label: Any) -> list[Record]:
        """Records for the training featurizers, which need a label: inference has none, so each
        gets `label` (a valid one, ignored: only the model inputs and meta_* fields are used)."""
        return [Record({**f, **label}, "<input>", i + 1) for i, f in enumerate(fields)]


def _texts(inputs: Any, what: str, kwargs: dict) -> tuple[list, bool]:
    """A single text or a list of texts or of {"text": ...} dicts (also given as text=), checked."""
    if "text" in kwargs:
        if inputs is not None:
            raise PipelineError("pass the input once: positionally or as text=, not both")
        inputs = kwargs.pop("text")
    single = isinstance(inputs, (str, Mapping))
    items = [inputs] if single else inputs
    if items is None or isinstance(items, (bytes, bytearray)) or not isinstance(items, Sequence):
        raise PipelineError(f"{what} takes a string or a list of strings, got {type(inputs).__name__}")
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            if "text" not in item or not isinstance(item["text"], str):
                raise PipelineError(f"input {i}: a dict input needs a 'text' string, got keys {sorted(item)}")
        elif not isinstance(item, str):
            raise PipelineError(f"input {i}: expected a string, got {type(item).__name__}")
    return list(items), single


def _plain_texts(inputs: Any, what: str, kwargs: dict) -> tuple[list[str], bool]:
    """Texts, for tasks that take one text per input ({"text": ...} dicts are unwrapped)."""
    items, single = _texts(inputs, what, kwargs)
    texts = [item["text"] if isinstance(item, Mapping) else item for item in items]
    _check_non_empty(texts, "the text")
    return texts, single


def _check_non_empty(texts: Sequence[str], what: str) -> None:
    for i, text in enumerate(texts):
        if not text.strip():
            raise PipelineError(f"input {i}: {what} is empty")


# ------------------------------------------------------------------------------------------------
# The tasks
# ------------------------------------------------------------------------------------------------
class FillMaskPipeline(Pipeline):
    task = "fill-mask"
    heads = (Head.MASKED_LM, Head.PRETRAINING)
    defaults = {"top_k": 5}

    def examples(self, inputs, kwargs):
        texts, single = _plain_texts(inputs, self.task, kwargs)
        mask = self.tokenizer.mask_token
        for i, text in enumerate(texts):
            if mask not in text:
                raise PipelineError(f"input {i}: no {mask} token in {text!r:.80}; fill-mask predicts the pieces at {mask}")
        return texts, single

    def featurize(self, texts, params):
        enc = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="np")
        arrays = {name: enc[name].astype(np.int32) for name in MODEL_INPUTS}
        for text, ids in zip(texts, arrays["input_ids"]):
            if not (ids == self.tokenizer.mask_token_id).any():
                raise PipelineError(f"the {self.tokenizer.mask_token} of {text!r:.80} lies past max_length={self.max_length} pieces")
        return arrays

    def answers(self, texts, arrays, outputs, params):
        tokenizer = self.tokenizer
        predictions = postprocess.fill_mask(outputs["logits"], arrays["input_ids"], tokenizer, top_k=params["top_k"])
        results = []
        for row, masks in enumerate(predictions):
            length = int(arrays["attention_mask"][row].sum())
            ids = arrays["input_ids"][row, 1 : length - 1].tolist()  # without [CLS] and [SEP]
            per_mask = []
            for mask in masks:
                candidates = []
                for token_id, score in zip(mask["token_ids"], mask["scores"]):
                    filled = list(ids)
                    filled[mask["position"] - 1] = token_id
                    candidates.append(
                        {
                            "score": score,
                            "token": token_id,
                            "token_str": tokenizer.decode([token_id]),
                            "sequence": tokenizer.decode(filled, skip_special_tokens=True),
                        }
                    )
                per_mask.append(candidates)
            results.append(per_mask[0] if len(per_mask) == 1 else per_mask)  # HF: one mask, one list
        return results

    @staticmethod
    def _masks(result) -> list[list[dict]]:
        return [result] if result and isinstance(result[0], dict) else result

    @classmethod
    def agreement_key(cls, result):
        return [[c["token"] for c in mask] for mask in cls._masks(result)]

    @classmethod
    def scores(cls, result):
        return [c["score"] for mask in cls._masks(result) for c in mask]


class TextClassificationPipeline(Pipeline):
    task = "text-classification"
    heads = (Head.SEQUENCE_CLASSIFICATION,)
    defaults = {"top_k": 1}

    def examples(self, inputs, kwargs):
        items, single = _texts(inputs, self.task, kwargs)
        fields = [dict(item) if isinstance(item, Mapping) else {"text": item} for item in items]
        pairs = {"text_pair" in f for f in fields}
        if len(pairs) > 1:
            raise PipelineError("either every input has a text_pair or none does")
        _check_non_empty([f["text"] for f in fields], "the text")
        return [{k: f[k] for k in ("text", "text_pair") if k in f} for f in fields], single

    def chunk_key(self, example):
        return "text_pair" in example

    def featurize(self, examples, params):
        label = {"label": self._labels()[0]}
        arrays, _ = featurize_classify(self._placeholder_records(examples, label), self.tokenizer, self.max_length,
                                       label_list=list(self._labels().values()))
        return arrays

    def answers(self, examples, arrays, outputs, params):
        labels = self._labels()
        results = []
        for row in postprocess.classify(outputs["logits"], labels):
            probabilities = np.asarray(row["probabilities"])
            best = np.argsort(-probabilities, kind="stable")[: params["top_k"]]
            results.append([{"label": labels[int(k)], "score": float(probabilities[k])} for k in best])
        return results

    @staticmethod
    def agreement_key(result):
        return [r["label"] for r in result]

    @staticmethod
    def scores(result):
        return [r["score"] for r in result]


class TokenClassificationPipeline(Pipeline):
    task = "token-classification"
    heads = (Head.TOKEN_CLASSIFICATION,)
    defaults = {"aggregation": "none", "ignore_labels": ("O",)}
    AGGREGATIONS = ("none", "simple")

    def examples(self, inputs, kwargs):
        return _plain_texts(inputs, self.task, kwargs)

    def featurize(self, texts, params):
        if params["aggregation"] not in self.AGGREGATIONS:
            raise PipelineError(f"aggregation must be one of {', '.join(self.AGGREGATIONS)}, got {params['aggregation']!r}")
        # Words are the text's whitespace-separated runs, as the tag training data splits them.
        fields = [{"tokens": text.split()} for text in texts]
        label = self._labels()[0]
        for f in fields:
            f["tags"] = [label] * len(f["tokens"])
        arrays, _ = featurize_tag(self._placeholder_records(fields, {}), self.tokenizer, self.max_length,
                                  label_list=list(self._labels().values()))
        return arrays

    def answers(self, texts, arrays, outputs, params):
        logits = outputs["logits"]
        word_ids = arrays["meta_word_ids"][:, : logits.shape[1]]
        tags = postprocess.tag_words(logits, word_ids, self._labels())
        probabilities = postprocess.softmax(logits)
        results = []
        for row, text in enumerate(texts):
            spans = [m.span() for m in re.finditer(r"\S+", text)]
            # A word's score is its tag's probability at the word's first piece (where it was read).
            # Words with no piece, or cut off by max_length, have no tag (tag_words skips them too).
            firsts: dict[int, int] = {}
            for position, word in enumerate(word_ids[row].tolist()):
                if word >= 0 and word not in firsts:
                    firsts[word] = position
            words = []
            for (word, position), tag in zip(sorted(firsts.items()), tags[row]):
                label_id = self.config.label2id[tag]
                start, end = spans[word]
                words.append({"entity": tag, "score": float(probabilities[row, position, label_id]),
                              "index": position, "word": text[start:end], "start": start, "end": end})
            if params["aggregation"] == "simple":
                words = _group_entities(words, text)
            key = "entity_group" if params["aggregation"] == "simple" else "entity"
            results.append([w for w in words if w[key] not in params["ignore_labels"]])
        return results

    @staticmethod
    def agreement_key(result):
        return [(r.get("entity", r.get("entity_group")), r["start"], r["end"]) for r in result]

    @staticmethod
    def scores(result):
        return [r["score"] for r in result]


def _entity_type(tag: str) -> tuple[str, str]:
    """("B" | "I" | "", type) of a BIO tag ("B-CODE" → ("B", "CODE"); "O" → ("", "O"))."""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BI":
        return tag[0], tag[2:]
    return "", tag


def _group_entities(words: list[dict], text: str) -> list[dict]:
    """HF's aggregation_strategy="simple": adjacent words of one type merge, B- starts a new group;
    the group's score is the mean of its words'."""
    groups: list[dict] = []
    members: list[list[dict]] = []
    for word in words:
        prefix, kind = _entity_type(word["entity"])
        if groups and groups[-1]["entity_group"] == kind and prefix != "B":
            members[-1].append(word)
        else:
            groups.append({"entity_group": kind})
            members.append([word])
    out = []
    for group, ws in zip(groups, members):
        start, end = ws[0]["start"], ws[-1]["end"]
        out.append({"entity_group": group["entity_group"], "score": float(np.mean([w["score"] for w in ws])),
                    "word": text[start:end], "start": start, "end": end})
    return out


class QuestionAnsweringPipeline(Pipeline):
    task = "question-answering"
    heads = (Head.QUESTION_ANSWERING,)
    # doc_stride None: HF's 128, or less where max_length leaves too little room for it.
    defaults = {"handle_impossible_answer": False, "doc_stride": None, "max_question_len": 64, "max_answer_len": 30, "n_best": 20}

    def __init__(self, *args, max_length: int | None = None, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        if max_length is None:
            self.max_length = min(self.max_length, 384)  # HF's question-answering default

    def examples(self, inputs, kwargs):
        if inputs is None and ("question" in kwargs or "context" in kwargs):
            question, context = kwargs.pop("question", None), kwargs.pop("context", None)
            if isinstance(question, str) and isinstance(context, str):
                inputs = {"question": question, "context": context}
            elif isinstance(question, list) and isinstance(context, list) and len(question) == len(context):
                inputs = [{"question": q, "context": c} for q, c in zip(question, context)]
            else:
                raise PipelineError("question-answering needs question= and context=, both strings or lists of one length")
        single = isinstance(inputs, Mapping)
        items = [inputs] if single else inputs
        if not isinstance(items, Sequence) or isinstance(items, str):
            raise PipelineError("question-answering takes question=..., context=... or a list of {'question', 'context'} dicts")
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or not all(isinstance(item.get(k), str) for k in ("question", "context")):
                raise PipelineError(f"input {i}: needs a 'question' and a 'context' string")
            _check_non_empty([item["question"]], "the question")
            _check_non_empty([item["context"]], "the context")
        return [QAExample(str(i), item["question"], item["context"], (), ()) for i, item in enumerate(items)], single

    def featurize(self, examples, params):
        stride = params["doc_stride"]
        if stride is None:  # at most half of a window's context room after the longest question
            stride = max(1, min(128, (self.max_length - params["max_question_len"] - 3) // 2))
        return featurize_qa(examples, self.tokenizer, self.max_length, doc_stride=stride,
                            max_query_length=params["max_question_len"])

    def answers(self, examples, arrays, outputs, params):
        found = postprocess.best_answers(
            outputs["start_logits"], outputs["end_logits"], arrays["meta_example_index"],
            arrays["meta_offsets"][:, : outputs["start_logits"].shape[1]], [e.context for e in examples],
            n_best=params["n_best"], max_answer_length=params["max_answer_len"],
            version_2=params["handle_impossible_answer"],
        )
        results = []
        for index in range(len(examples)):
            a = found[index]
            start, end = (0, 0) if a["start_char"] < 0 else (a["start_char"], a["end_char"])
            results.append({"answer": a["text"], "score": a["score"], "start": start, "end": end})
        return results

    @staticmethod
    def agreement_key(result):
        return (result["start"], result["end"])

    @staticmethod
    def scores(result):
        return [result["score"]]


class MultipleChoicePipeline(Pipeline):
    task = "multiple-choice"
    heads = (Head.MULTIPLE_CHOICE,)
    defaults: ClassVar[dict[str, Any]] = {}

    def examples(self, inputs, kwargs):
        if inputs is None and ("question" in kwargs or "choices" in kwargs):
            inputs = {k: kwargs.pop(k) for k in ("question", "choices", "context") if k in kwargs}
        single = isinstance(inputs, Mapping)
        items = [inputs] if single else inputs
        if not isinstance(items, Sequence) or isinstance(items, str):
            raise PipelineError("multiple-choice takes question=..., choices=[...] or a list of {'question', 'choices'} dicts")
        examples = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or not isinstance(item.get("question"), str):
                raise PipelineError(f"input {i}: needs a 'question' string and a 'choices' list")
            choices = item.get("choices")
            if isinstance(choices, str) or not isinstance(choices, Sequence) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
                raise PipelineError(f"input {i}: 'choices' must be a list of at least 2 strings, got {choices!r:.80}")
            example = {"question": item["question"], "choices": list(choices)}
            if item.get("context"):
                example["context"] = item["context"]
            examples.append(example)
        return examples, single

    def chunk_key(self, example):
        return len(example["choices"])  # one batch is [B, C, S]: the same C throughout

    def featurize(self, examples, params):
        arrays, _ = featurize_choice(self._placeholder_records(examples, {"label": 0}), self.tokenizer, self.max_length)
        return arrays

    def answers(self, examples, arrays, outputs, params):
        return [
            {"label": row["choice"], "choice": example["choices"][row["choice"]], "scores": row["probabilities"]}
            for example, row in zip(examples, postprocess.choose(outputs["logits"]))
        ]

    @staticmethod
    def agreement_key(result):
        return result["label"]

    @staticmethod
    def scores(result):
        return list(result["scores"])


TASKS: dict[str, type[Pipeline]] = {
    cls.task: cls
    for cls in (FillMaskPipeline, TextClassificationPipeline, TokenClassificationPipeline, QuestionAnsweringPipeline, MultipleChoicePipeline)
}
ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification", "qa": "question-answering"}


def task_class(task: str) -> type[Pipeline]:
    name = ALIASES.get(task, task)
    if name not in TASKS:
        raise PipelineError(f"unknown task {task!r}; known: {', '.join([*TASKS, *ALIASES])}")
    return TASKS[name]


# ------------------------------------------------------------------------------------------------
# Building a pipeline: a checkpoint (or a model instance) and its tokenizer, in a backend
# ------------------------------------------------------------------------------------------------
def _needs(cls: type[Pipeline]) -> str:
    return " or ".join(ARCHITECTURES[h] for h in cls.heads)


def _tokenizer_home(model: str | os.PathLike) -> str | Path:
    """Where the tokenizer of a checkpoint lives: its folder, the folder of a weights file, or
    the same hub repo."""
    path = Path(model)
    if path.is_dir():
        return path
    if path.is_file() or Path(f"{path}.index").is_file():  # a weights file or a TF1 prefix
        return path.parent
    return str(model)


def load_tokenizer(tokenizer: AlbertTokenizer | str | os.PathLike | None, model: Any) -> AlbertTokenizer:
    if isinstance(tokenizer, AlbertTokenizer):
        return tokenizer
    if tokenizer is None:
        if not isinstance(model, (str, os.PathLike)):
            raise PipelineError("a model instance needs tokenizer= (an AlbertTokenizer, a spiece.model or a folder holding one)")
        home = _tokenizer_home(model)
        try:
            return AlbertTokenizer.from_pretrained(home)
        except FileNotFoundError as exc:
            raise PipelineError(f"no tokenizer for {model}: {exc}; pass tokenizer= (a spiece.model or a folder holding one)") from exc
    if isinstance(tokenizer, (str, os.PathLike)):
        return AlbertTokenizer.from_pretrained(tokenizer)
    raise PipelineError(f"tokenizer must be an AlbertTokenizer or a path, got {type(tokenizer).__name__}")


def load_model(cls: type[Pipeline], model: Any, backend: Backend) -> tuple[Any, AlbertConfig]:
    """(the backend's model, its config) for task `cls`, from a path / hub id or an instance."""
    if not isinstance(model, (str, os.PathLike)):
        if not isinstance(model, backend.model_class):
            raise PipelineError(
                f"the {backend.name} pipeline needs a path, a hub id or an albert_{backend.name} model, got {type(model).__name__}"
            )
        if model.head not in cls.heads:
            raise PipelineError(f"{cls.task} needs {_needs(cls)}, got {type(model).__name__}")
        return backend.prepare(model), model.config
    config, state = load_checkpoint(model)
    head = infer_head(state, config)
    if head not in cls.heads:
        raise PipelineError(
            f"{model} holds an {ARCHITECTURES[head]} checkpoint; {cls.task} needs {_needs(cls)} "
            "(a checkpoint trained for that task)"
        )
    match = match_state(state, config, cls.heads[0])
    if match.initialised:  # e.g. a classifier saved without its pooler: the answers would be random
        raise PipelineError(f"{model} lacks {', '.join(match.initialised)}, which {cls.task} needs")
    return backend.load(config, cls.heads[0], match.state), config


def make_pipeline(task: str, model: Any, tokenizer: Any, backend: Backend, **kwargs) -> Pipeline:
    """The pipeline of `task` for `model` (a folder, a weights file, a hub id, or a model instance
    of the backend) run by `backend`; kwargs are batch_size, max_length and the task's parameters."""
    cls = task_class(task)
    loaded, config = load_model(cls, model, backend)
    tokenizer = load_tokenizer(tokenizer, model)
    if tokenizer.vocab_size > config.vocab_size:
        raise PipelineError(
            f"the tokenizer has {tokenizer.vocab_size} pieces but the model's vocab_size is {config.vocab_size}: "
            "they do not belong together (pass the model's own spiece.model as tokenizer=)"
        )
    return cls(loaded, tokenizer, config, backend, **kwargs)
