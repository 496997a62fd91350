"""benchmarks/profile_xla_attention.py (the docs' per-part JAX profile) runs and reports every part."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_profile_script_times_every_part_and_the_products_on_one_core():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/profile_xla_attention.py"), "--batch", "1", "--seq", "16", "--reps", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()

    parts = {}
    for line in lines:
        match = re.fullmatch(r"\s+(\S.*?)\s+(-?[\d.]+)", line)
        if match:
            parts[match.group(1)] = float(match.group(2))
    timed = ["4 projections (q, k, v, output)", "FFN in", "FFN out", "attention core (loop over examples)",
             "of which its two products", "2 x (residual add + LayerNorm)"]
    assert set(timed) < set(parts), parts
    assert all(parts[name] > 0 for name in timed), parts
    assert "FFN in + gelu_new, extra" in parts  # a difference of two timings: may be below 0 on tiny shapes
    assert re.search(r"sum\s+[\d.]+\s+\(x 12 layer steps: \d+ ms\)", done.stdout)
    # Three products, each timed on every core and pinned to one: "<ms> vs <ms> (<ratio>x on one core)".
    pairs = re.findall(r"([\d.]+) vs +([\d.]+) +\(([\d.]+)x on one core\)", done.stdout)
    assert len(pairs) == 3
    for every, one, ratio in pairs:
        assert float(every) > 0 and float(one) > 0 and abs(float(one) / float(every) - float(ratio)) < 0.01
