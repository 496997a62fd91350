"""The evaluator a loop uses for its eval source: the dataset's own (it knows the label names, and for
QA the examples the spans are scored against) or the task's default."""

from __future__ import annotations

from ..config import AlbertConfig
from ..data.metrics import Evaluator
from .objective import LOSS_PARTS


def make_evaluator(task: str, eval_source, config: AlbertConfig | None = None) -> Evaluator | None:
    """The eval source's own evaluator when it has one; else the task's, with the tag names from
    `config.id2label`; None for QA without one (span metrics need the examples' texts)."""
    if hasattr(eval_source, "evaluator"):
        return eval_source.evaluator()
    if task == "qa":
        return None
    return Evaluator(task, id2label=config.id2label if task == "tag" and config is not None else None)


class EvalLoss:
    """The eval loss as training defines it, Σ_parts weight × (Σ CE / label count) over the whole
    eval pass, accumulated from each batch's per-part sums and counts (every backend's evaluation)."""

    def __init__(self, task: str):
        self.parts = LOSS_PARTS[task]
        self.sums = {part.name: 0.0 for part in self.parts}
        self.counts = {part.name: 0 for part in self.parts}

    def add(self, part_name: str, summed: float, count: int) -> None:
        self.sums[part_name] += float(summed)
        self.counts[part_name] += int(count)

    @property
    def labelled(self) -> bool:
        return any(self.counts.values())

    def value(self) -> float:
        return sum(part.weight * self.sums[part.name] / max(self.counts[part.name], 1) for part in self.parts)
