"""The results of one `albert bench` run: rounds merged per row, and their JSON file.

Each round runs every row once in a fresh process; a row's rounds merge into one RowResult whose
times are all rounds' times (the median is over all of them), whose memory is the highest peak,
and whose floor and compile time are the rounds' medians. A round that failed is noted on the
row; a row with no successful round keeps the errors. results.json is rewritten (atomically)
after every finished child, so a run that is killed keeps what it measured.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from .spec import RowResult
from .tools import Candidate, ToolResult


@dataclass
class BenchResults:
    rows: list[RowResult] = field(default_factory=list)
    tools: list[ToolResult] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    complete: bool = False  # False while running, and in the file of a run that was killed

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "complete": self.complete,
            "rows": [r.to_dict() for r in self.rows],
            "tools": [t.to_dict() for t in self.tools],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BenchResults":
        return cls(
            rows=[RowResult.from_dict(r) for r in data.get("rows", [])],
            tools=[ToolResult.from_dict(t) for t in data.get("tools", [])],
            environment=data.get("environment", {}),
            complete=bool(data.get("complete", False)),
        )


def write_json(results: BenchResults, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(results.to_dict(), indent=1) + "\n")


def read_json(path: str | Path) -> BenchResults:
    path = Path(path)
    try:
        return BenchResults.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not an albert bench results.json: {exc}") from exc


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _failed_rounds(rounds: list) -> list[str]:
    return [f"round {i} failed: {_first_line(r.error)}" for i, r in enumerate(rounds, 1) if r.error is not None]


def _errors(rounds: list) -> str:
    """The error of a row that failed in every round: once if every round said the same."""
    errors = list(dict.fromkeys(r.error for r in rounds))
    return errors[0] if len(errors) == 1 else "\n".join(f"round {i}: {r.error}" for i, r in enumerate(rounds, 1))


def _join_notes(notes: list[str]) -> str:
    return "; ".join(dict.fromkeys(n for n in notes if n))  # unique, in order


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _max(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def merge_rows(rounds: list[RowResult]) -> RowResult:
    """One row's results from every round it ran (in round order) as one RowResult."""
    ok = [r for r in rounds if r.error is None]
    if not ok:
        return RowResult(rounds[0].spec, error=_errors(rounds))
    return RowResult(
        spec=ok[0].spec,
        times_ms=[t for r in ok for t in r.times_ms],
        floor_ms=_median([r.floor_ms for r in ok]),
        peak_mib=_max([r.peak_mib for r in ok]),
        baseline_mib=_median([r.baseline_mib for r in ok]),
        max_abs_error=_max([r.max_abs_error for r in ok]),
        compile_s=_median([r.compile_s for r in ok]),
        versions=ok[0].versions,
        notes=_join_notes([r.notes for r in ok] + _failed_rounds(rounds)),
    )


def merge_tools(rounds: list[ToolResult]) -> ToolResult:
    """One tool row's results from every round: each candidate's times and peaks concatenated."""
    ok = [r for r in rounds if r.error is None]
    if not ok:
        return ToolResult(rounds[0].spec, error=_errors(rounds))
    candidates: dict[str, Candidate] = {}
    for result in ok:
        for c in result.candidates:
            merged = candidates.setdefault(c.name, Candidate(c.name))
            merged.times_s += c.times_s
            merged.peaks_mib += c.peaks_mib
    return ToolResult(
        ok[0].spec,
        candidates=list(candidates.values()),
        info=ok[0].info,
        versions=ok[0].versions,
        notes=_join_notes([r.notes for r in ok] + _failed_rounds(rounds)),
    )
