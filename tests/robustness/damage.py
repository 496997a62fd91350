"""Damaging real HF checkpoint files for the fuzz targets (any reader, any test env).

A `Target` is one file of the tiny HF fixture with its tensors and a map of which bytes are whose
data; `damage` draws a truncation, a flipped bit (anywhere, or only in bytes that are no tensor's
data) or a few overwritten bytes; `fuzz_damaged_file` runs the judge of corrupt.py on many of them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from albert_core.checkpoint import load_checkpoint, match_state
from tests.core.checkpoint_helpers import HF_TINY
from tests.robustness.corrupt import Outcome, flip_bit, h5_address_spans, judge, merge_spans, payload_spans, touched_by
from tests.robustness.fuzzing import FUZZ, report

SOURCE = HF_TINY / "tiny" / "base"


class Target:
    """One HF file, its tensors, and which bytes of it are whose data."""

    def __init__(self, file: str, work: Path):
        self.file = file
        self.config, state = load_checkpoint(SOURCE / file)
        self.original = match_state(state, self.config, "base").state
        self.data = (SOURCE / file).read_bytes()
        spans = payload_spans(self.data, self.original)
        if file.endswith(".h5"):
            spans = merge_spans(spans, h5_address_spans(self.data, spans))
        self.spans = spans
        in_payload = np.zeros(len(self.data), dtype=bool)
        for places in spans.values():
            for start, end in places:
                in_payload[start:end] = True
        self.structure = np.flatnonzero(~in_payload)  # byte offsets that are no tensor's data
        self.folder = work / file.replace(".", "_")
        self.folder.mkdir()
        shutil.copy(SOURCE / "config.json", self.folder)


@st.composite
def damage(draw, target: Target):
    """(kind, position, junk): a truncation to `position` bytes, a flip of bit `position` (anywhere,
    or in a byte that is no tensor's data), or `junk` written at byte `position`."""
    size = len(target.data)
    kind = draw(st.sampled_from(["truncate", "flip", "flip-structure", "overwrite"]))
    if kind == "truncate":
        return kind, draw(st.integers(0, size - 1)), b""
    if kind == "overwrite":
        return kind, draw(st.integers(0, size - 1)), draw(st.binary(min_size=1, max_size=16))
    if kind == "flip":
        return kind, draw(st.integers(0, size * 8 - 1)), b""
    byte = int(target.structure[draw(st.integers(0, len(target.structure) - 1))])
    return kind, byte * 8 + draw(st.integers(0, 7)), b""


def apply(target: Target, kind: str, position: int, junk: bytes) -> tuple[bytes, set[str]]:
    """(damaged bytes, tensors whose stored bytes were hit)."""
    data = target.data
    if kind == "truncate":
        return data[:position], set()
    if kind == "overwrite":
        end = min(position + len(junk), len(data))
        hit = set().union(*(touched_by(target.spans, b) for b in range(position, end)))
        return data[:position] + junk + data[position + len(junk):], hit
    return flip_bit(data, position), touched_by(target.spans, position // 8)


def judge_in_child(target: Target, path: Path, hit: set[str]) -> Outcome:
    """judge() in a forked child: a native crash (libhdf5 on damaged metadata) fails the example
    with the signal instead of killing the test run. The drawn (kind, position, junk) reproduces
    the damaged file from the fixture."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: judge, send the verdict, exit without running any cleanup
        os.close(read_end)
        try:
            outcome = judge(path, target.config, "base", target.original, hit)
            message = ["ok", outcome.kind, outcome.detail]
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            message = ["fail", f"{type(exc).__name__}: {exc}"]
        os.write(write_end, json.dumps(message).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        raw = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise AssertionError(f"reading the damaged {target.file} crashed the process: signal {os.WTERMSIG(status)}")
    verdict = json.loads(raw)
    if verdict[0] == "fail":
        raise AssertionError(verdict[1])
    return Outcome(verdict[1], verdict[2])


def fuzz_damaged_file(target: Target, isolate: bool = False) -> None:
    """Run the damage strategy on `target`. `isolate` forks per example: for h5, whose C library
    can crash on damaged metadata (it once did here, under the 10,000-example run). Not for torch:
    forking a process with torch's thread pools is unsafe."""
    outcomes = Counter()

    @FUZZ
    @given(st.data())
    def run(data):
        kind, position, junk = data.draw(damage(target))
        damaged, hit = apply(target, kind, position, junk)
        path = target.folder / target.file
        path.write_bytes(damaged)
        outcome = judge_in_child(target, path, hit) if isolate else judge(path, target.config, "base", target.original, hit)
        if kind == "truncate":
            assert outcome.kind == "rejected", f"a file truncated to {len(damaged)} bytes loaded"
        outcomes[f"{kind}: {outcome.kind}"] += 1

    run()
    report(f"damaged {target.file}", outcomes)
