"""docs/weight-flow.md runs as written: its bash blocks, in order, as one script (bash -euo pipefail)
from the repository root, with this environment's `albert` and `python` first on PATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "weight-flow.md"


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```$", text, re.M | re.S)


def test_weight_flow_page_runs_as_written(tmp_path):
    blocks = bash_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) == 7
    # Other cross test modules set USE_TF=0 / USE_FLAX=0 for their own imports of transformers;
    # the page's commands need HF's TF and Flax classes, so the child must not inherit them.
    inherited = {k: v for k, v in os.environ.items() if k not in ("USE_TF", "USE_FLAX", "USE_TORCH")}
    env = {
        **inherited,
        "WORK": str(tmp_path / "work"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    script = "set -euo pipefail\n" + "\n".join(blocks)
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    text = out.stdout
    assert "checked " in text and "reads back to the same 27 tensors, bit for bit" in text
    assert text.count("PASS: 3 backends agree") == 0 and text.count("PASS: 4 backends agree") == 2
    assert "kernel in the Flax tree: (16, 32)" in text
    losses = [float(v) for v in re.findall(r"step \d+: loss ([\d.]+)", text)]
    assert len(losses) == 2 and losses[1] < losses[0]  # the fine-tuning learned
    assert "HF PyTorch vs albert_flax after fine-tuning" in text and "HF Flax vs albert_flax after fine-tuning" in text
    assert sorted(p.name for p in (tmp_path / "work" / "hf-pytorch").iterdir()) == ["config.json", "pytorch_model.bin"]
