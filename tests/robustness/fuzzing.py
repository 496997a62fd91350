"""Hypothesis settings of the fuzz targets, and their example counts.

The normal run (every tox env) runs each target on a small, derandomised sample (seconds, the
same examples every time). `HYPOTHESIS_PROFILE=fuzz` (the nightly `tox -e fuzz`) runs each on
10,000 fresh random examples. A target counts the examples it ran and what became of them;
with ALBERT_FUZZ_REPORT=file.jsonl it appends {target, examples, outcomes} there, the numbers
docs/reliability.md records.
"""

from __future__ import annotations

import json
import os
from collections import Counter

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "")
NIGHTLY = PROFILE == "fuzz"
# ALBERT_FUZZ_EXAMPLES=N: N fresh random examples per target (a local run between the two).
OVERRIDE = os.environ.get("ALBERT_FUZZ_EXAMPLES")
EXAMPLES = int(OVERRIDE) if OVERRIDE else 10_000 if NIGHTLY else 60

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not (NIGHTLY or OVERRIDE),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


def report(target: str, outcomes: Counter) -> None:
    """Check the target ran its examples; append its counts to $ALBERT_FUZZ_REPORT if set."""
    total = sum(outcomes.values())
    assert total >= EXAMPLES, f"{target}: only {total} of {EXAMPLES} examples ran"
    path = os.environ.get("ALBERT_FUZZ_REPORT")
    if path:
        line = {"target": target, "profile": PROFILE or "default", "examples": total, "outcomes": dict(outcomes)}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
