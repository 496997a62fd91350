"""The task commands: `albert fill-mask | classify | tag | answer | choose MODEL ...`.

    albert fill-mask weights/albert-tiny-pydocs "The [MASK] statement imports a module." --top-k 5
    albert classify MODEL "Some text." --backend tf
    albert tag MODEL "Call os.path.join() here." --aggregation simple
    albert answer MODEL --question "What does join do?" --context "os.path.join joins paths."
    albert choose MODEL --question "Which module joins paths?" --choices os.path json re sys
    albert fill-mask MODEL --input sentences.txt --backend all --json

MODEL is a checkpoint folder (config.json + weights + spiece.model), a weights file (spiece.model
beside it) or a hub id. Each command runs albert_core.pipeline's task pipeline in the chosen
backend (default: the first installed of torch, tf, flax). `--backend all` runs every installed
backend on the same inputs, prints them side by side and an agreement line (the same tokens,
labels, entities, span or choice from every backend, and the largest score difference); the exit
status is 1 when they disagree. `--input FILE` reads one input per line: a JSON object (the
pipeline's fields: text [, text_pair] / question, context / question, choices [, context]) or,
for fill-mask, classify and tag, plain text. `--json` prints one JSON document for scripts.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import MissingDependencyError
from ..pipeline import PipelineError, task_class
from .runners import BACKENDS, RUNNERS, installed_backends


@dataclass(frozen=True)
class Command:
    name: str  # the sub-command
    task: str  # the pipeline task it runs
    help: str
    same: str  # what "agree" means for this task, for the agreement line
    lines: Callable[[Any, Any], list[str]]  # (input, result) -> the lines of one table column
    text_inputs: bool = True  # takes TEXT arguments and plain-text input lines


def _fill_mask_lines(item, result) -> list[str]:
    masks = [result] if result and isinstance(result[0], dict) else result
    lines = []
    for m, mask in enumerate(masks):
        if len(masks) > 1:
            lines.append(f"[MASK] {m + 1}:")
        lines += [f"{c['token_str'] or repr(c['token_str'])}  {c['score']:.4f}" for c in mask]
    return lines


def _tag_lines(item, result) -> list[str]:
    if not result:
        return ["(no entities)"]
    return [f"{r['word']}  {r.get('entity', r.get('entity_group'))}  {r['score']:.4f}  [{r['start']}:{r['end']}]" for r in result]


def _choose_lines(item, result) -> list[str]:
    scores = result["scores"]
    return [f"{'*' if i == result['label'] else ' '} {i}: {choice}  {scores[i]:.4f}" for i, choice in enumerate(item["choices"])]


COMMANDS = {
    c.name: c
    for c in (
        Command("fill-mask", "fill-mask", "predict the pieces at [MASK] in a text", "same top-k tokens", _fill_mask_lines),
        Command("classify", "text-classification", "label a text (a sequence-classification checkpoint)", "same top-k labels",
                lambda item, r: [f"{x['label']}  {x['score']:.4f}" for x in r]),
        Command("tag", "token-classification", "tag each word of a text (a token-classification checkpoint)",
                "same entities and spans", _tag_lines),
        Command("answer", "question-answering", "find the answer to a question in a context (extractive QA)",
                "same answer span", lambda item, r: [f"{r['answer']!r}  [{r['start']}:{r['end']}]  score {r['score']:.4f}"], False),
        Command("choose", "multiple-choice", "pick the choice that fits a question (a multiple-choice checkpoint)",
                "same choice", _choose_lines, False),
    )
}


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------
def read_inputs(path: str, command: Command) -> list[Any]:
    """One input per non-blank line of `path` ("-": stdin): a JSON object, or plain text."""
    if path == "-":
        lines = sys.stdin.read().splitlines()
    else:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"--input file not found: {file}")
        lines = file.read_text(encoding="utf-8").splitlines()
    inputs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PipelineError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        elif command.text_inputs:
            item = line
        else:
            raise PipelineError(f"{path}:{number}: {command.name} needs a JSON object per line ({_fields(command)})")
        inputs.append(item)
    if not inputs:
        raise PipelineError(f"{path} holds no inputs (every line is blank)")
    return inputs


def _fields(command: Command) -> str:
    return {"answer": '{"question": ..., "context": ...}', "choose": '{"question": ..., "choices": [...]}'}.get(command.name, '{"text": ...}')


def gather_inputs(args, command: Command) -> list[Any]:
    if command.name == "answer":
        given = args.question is not None or args.context is not None
        if given and (args.question is None or args.context is None):
            raise PipelineError("answer needs both --question and --context (or --input FILE)")
        inline = [{"question": args.question, "context": args.context}] if given else []
    elif command.name == "choose":
        given = args.question is not None or args.choices is not None
        if given and (args.question is None or not args.choices):
            raise PipelineError("choose needs --question and --choices (or --input FILE)")
        inline = [{"question": args.question, "choices": args.choices}] if given else []
    else:
        inline = list(args.text)
    if inline and args.input:
        raise PipelineError("give the inputs on the command line or with --input, not both")
    inputs = read_inputs(args.input, command) if args.input else inline
    if not inputs:
        flags = "TEXT" if command.text_inputs else {"answer": "--question and --context", "choose": "--question and --choices"}[command.name]
        raise PipelineError(f"no input: give {flags}, or --input FILE")
    return inputs


# ------------------------------------------------------------------------------------------------
# Backends
# ------------------------------------------------------------------------------------------------
def chosen_backends(name: str | None) -> list[str]:
    """The backends to run: the one named, every installed one ("all"), or the first installed."""
    if name == "all":
        names = installed_backends()
    elif name is None:
        names = installed_backends()[:1]
    else:
        missing = RUNNERS[name].missing()
        if missing:
            raise MissingDependencyError(missing[0], f"--backend {name} ({RUNNERS[name].description})", extra=name)
        names = [name]
    if not names:
        raise MissingDependencyError("torch", "the task commands (a backend to run the model)", extra="torch")
    return names


def backend_pipeline(backend: str, task: str, model: str, **kwargs):
    """`albert_<backend>.pipeline(task, model, **kwargs)`, importing only that backend."""
    if backend == "tf":  # as albert_core.cli.runners does: Keras on TF, TF's C++ log quiet
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    module = importlib.import_module(f"albert_{backend}")
    return module.pipeline(task, model, **kwargs)


# ------------------------------------------------------------------------------------------------
# Agreement and output
# ------------------------------------------------------------------------------------------------
def agreement(task: str, results: dict[str, list]) -> dict:
    """Whether every backend gives the same key (tokens, labels, span...) on every input, and the
    largest |Δ score| against the first backend where they do."""
    cls = task_class(task)
    names = list(results)
    first = results[names[0]]
    disagreeing, max_delta = [], 0.0
    for i, reference in enumerate(first):
        for name in names[1:]:
            other = results[name][i]
            if cls.agreement_key(other) != cls.agreement_key(reference):
                disagreeing.append(i)
                break
            deltas = [abs(a - b) for a, b in zip(cls.scores(reference), cls.scores(other))]
            max_delta = max([max_delta, *deltas])
    return {
        "backends": names,
        "agree": not disagreeing,
        "inputs": len(first),
        "disagreeing_inputs": disagreeing,
        "max_abs_score_delta": max_delta,
    }


def _describe(item: Any) -> str:
    if isinstance(item, str):
        return item
    if "context" in item and "choices" not in item:
        return f"Q: {item['question']}  |  context: {item['context'][:120]}{'...' if len(item['context']) > 120 else ''}"
    if "choices" in item:
        return f"Q: {item['question']}"
    return item["text"] + (f"  |  pair: {item['text_pair']}" if "text_pair" in item else "")


def render_table(command: Command, inputs: list, results: dict[str, list], summary: dict | None, top_k: int | None) -> str:
    names = list(results)
    out = []
    for i, item in enumerate(inputs):
        out.append(f"[{i + 1}] {_describe(item)}")
        columns = [command.lines(item, results[name][i]) for name in names]
        height = max(len(c) for c in columns)
        columns = [c + [""] * (height - len(c)) for c in columns]
        widths = [max(len(name), *(len(line) for line in c)) for name, c in zip(names, columns)]
        if len(names) > 1:
            out.append("    " + "  |  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip())
        for row in zip(*columns):
            out.append("    " + "  |  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        out.append("")
    if summary is not None:
        same = command.same.replace("top-k", f"top-{top_k}")
        if summary["agree"]:
            out.append(
                f"agreement: {', '.join(names)} give the {same} on {summary['inputs']}/{summary['inputs']} inputs; "
                f"max |Δ score| {summary['max_abs_score_delta']:.2e}"
            )
        else:
            bad = ", ".join(str(i + 1) for i in summary["disagreeing_inputs"])
            out.append(
                f"DISAGREE: {', '.join(names)} do not give the {same} on {len(summary['disagreeing_inputs'])}/{summary['inputs']} "
                f"inputs (input {bad}); max |Δ score| where they agree {summary['max_abs_score_delta']:.2e}"
            )
    return "\n".join(out).rstrip()


def run(args) -> int:
    command = COMMANDS[args.command]
    inputs = gather_inputs(args, command)
    names = chosen_backends(args.backend)
    params = {"batch_size": args.batch_size}
    if getattr(args, "top_k", None) is not None:
        params["top_k"] = args.top_k
    if command.name == "tag":
        params["aggregation"] = args.aggregation
    if command.name == "answer":
        params["handle_impossible_answer"] = args.allow_no_answer
    results = {}
    for name in names:
        pipe = backend_pipeline(name, command.task, args.model, **params)
        results[name] = pipe(inputs)
    summary = agreement(command.task, results) if args.backend == "all" and len(names) > 1 else None
    if args.json:
        document = {"task": command.task, "model": str(args.model), "backends": names, "inputs": inputs,
                    "results": results, "agreement": summary}
        print(json.dumps(document, indent=1, ensure_ascii=False))
    else:
        if args.backend == "all" and len(names) == 1:
            print(f"(only {names[0]} is installed: nothing to compare)")
        top_k = params.get("top_k", task_class(command.task).defaults.get("top_k"))
        print(render_table(command, inputs, results, summary, top_k))
    sys.stdout.flush()
    return 0 if summary is None or summary["agree"] else 1


def register(subparsers) -> None:
    for command in COMMANDS.values():
        parser = subparsers.add_parser(command.name, help=command.help, description=f"{command.help[0].upper()}{command.help[1:]}. "
                                       "MODEL: a checkpoint folder, a weights file or a hub id.")
        parser.add_argument("model", metavar="MODEL", help="checkpoint folder (config.json + weights + spiece.model), weights file or hub id")
        if command.text_inputs:
            parser.add_argument("text", nargs="*", metavar="TEXT", help="input text(s)" + (" with [MASK]" if command.name == "fill-mask" else ""))
        else:
            parser.add_argument("--question", help="the question")
            if command.name == "answer":
                parser.add_argument("--context", help="the text that holds the answer")
                parser.add_argument("--allow-no-answer", action="store_true",
                                    help="answer \"\" when the model scores no answer above every span (SQuAD v2 models)")
            else:
                parser.add_argument("--choices", nargs="+", metavar="CHOICE", help="the choices (at least 2)")
        if command.name in ("fill-mask", "classify"):
            parser.add_argument("--top-k", type=int, help="how many predictions to show (default: 5 for fill-mask, 1 for classify)")
        if command.name == "tag":
            parser.add_argument("--aggregation", choices=["none", "simple"], default="none",
                                help="none: one entry per word; simple: adjacent B-/I- words of one type merged (default none)")
        parser.add_argument("--backend", choices=[*BACKENDS, "all"],
                            help="torch, tf, flax, or all (every installed one, side by side); default: the first installed")
        parser.add_argument("--input", metavar="FILE", help="one input per line: a JSON object or plain text ('-' reads stdin)")
        parser.add_argument("--batch-size", type=int, default=8, help="inputs per forward pass (default 8)")
        parser.add_argument("--json", action="store_true", help="print one JSON document (inputs, results per backend, agreement)")
        parser.set_defaults(run=run)
