"""The evaluator a loop uses for its eval source: the dataset's own (it knows the label names, and for
QA the examples the spans are scored against) or the task's default."""

from __future__ import annotations

from ..data.metrics import Evaluator


def make_evaluator(task: str, eval_source) -> Evaluator:
    if hasattr(eval_source, "evaluator"):
        return eval_source.evaluator()
    return Evaluator(task)
