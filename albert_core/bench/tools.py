"""The framework-free rows of `albert bench`: tokenizer throughput and checkpoint load/convert time.

A `ToolSpec` says which tool and how much work; the child process runs it (`run_tool`) and prints
a `ToolResult`: one `Candidate` per thing measured (our tokenizer, HF's fast one, a plain read of
the checkpoint's bytes, `albert convert` ...), each with its run times, so rounds merge by
concatenating times as model rows do. Each tool compares its candidates with a reference
candidate of its own (`REFERENCE`): HF's fast tokenizer, a plain read of the same file.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from typing import Any

TOOLS = ("tokenizer", "checkpoint")
# The candidate each tool's other candidates are compared with.
REFERENCE = {"tokenizer": "HF AlbertTokenizerFast", "checkpoint": "plain file read"}


@dataclass(frozen=True)
class ToolSpec:
    tool: str  # "tokenizer" or "checkpoint"
    repeats: int = 5  # interleaved runs of every candidate (after one warm-up run for the tokenizer)
    texts: int = 4000  # tokenizer: how many texts are encoded per call (one padded batch)
    model: str = "albert-base-v2"  # checkpoint: the config whose random-weight checkpoint is read

    def __post_init__(self) -> None:
        if self.tool not in TOOLS:
            raise ValueError(f"ToolSpec.tool must be one of {list(TOOLS)}, got {self.tool!r}")
        for name in ("repeats", "texts"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"ToolSpec.{name} must be ≥ 1, got {getattr(self, name)!r}")

    @property
    def label(self) -> str:
        return f"tokenizer ({self.texts} texts)" if self.tool == "tokenizer" else f"checkpoint ({self.model})"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ToolSpec":
        return cls(**data)


@dataclass
class Candidate:
    """One thing a tool measured: its run times (s) and, for child-process runs, each run's peak
    RSS over that process's RSS before the call (MiB)."""

    name: str
    times_s: list[float] = field(default_factory=list)
    peaks_mib: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.times_s) if self.times_s else None

    @property
    def median_peak_mib(self) -> float | None:
        return statistics.median(self.peaks_mib) if self.peaks_mib else None


@dataclass
class ToolResult:
    spec: ToolSpec
    candidates: list[Candidate] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # tokenizer: texts, tokens, source; checkpoint: file_mib
    versions: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    error: str | None = None

    def candidate(self, name: str) -> Candidate | None:
        return next((c for c in self.candidates if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["spec"] = self.spec.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ToolResult":
        candidates = [Candidate(**c) for c in data.get("candidates", [])]
        return cls(**{**data, "spec": ToolSpec.from_dict(data["spec"]), "candidates": candidates})


def run_tool(spec: ToolSpec) -> ToolResult:
    """Measure one tool row (in the child process); a tool that cannot run returns an error."""
    if spec.tool == "tokenizer":
        from .tokenizer_bench import run_tokenizer_tool

        return run_tokenizer_tool(spec)
    from .checkpoint_bench import run_checkpoint_tool

    return run_checkpoint_tool(spec)
