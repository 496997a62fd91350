"""The evaluator a loop uses for its eval source: the dataset's own (it knows the label names, and for
QA the examples the spans are scored against) or the task's default."""

from __future__ import annotations

from ..config import AlbertConfig
from ..data.metrics import Evaluator


def make_evaluator(task: str, eval_source, config: AlbertConfig | None = None) -> Evaluator | None:
    """The eval source's own evaluator when it has one; else the task's, with the tag names from
    `config.id2label`; None for QA without one (span metrics need the examples' texts)."""
    if hasattr(eval_source, "evaluator"):
        return eval_source.evaluator()
    if task == "qa":
        return None
    return Evaluator(task, id2label=config.id2label if task == "tag" and config is not None else None)
