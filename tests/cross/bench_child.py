"""The bench cross tests' child process: a test module's `measure(model_folder)` runs in a fresh
Python, as `albert bench` runs each row. In the pytest process other cross modules import
transformers with USE_TF=0 / USE_FLAX=0, which hides its TF or Flax classes for the rest of it.

A module using this writes `if __name__ == "__main__": child_main(measure)` and gets the result of
its `measure` from `run_child`.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

from albert_core import AlbertConfig

REPO = Path(__file__).resolve().parents[2]


def run_child(module: str, config: AlbertConfig, folder: Path) -> dict:
    """`python -m module <folder>` with `config` saved in `folder`, and without the USE_* switches of
    this process: the JSON its child_main printed last."""
    config.save_pretrained(folder)
    env = {k: v for k, v in os.environ.items() if k not in ("USE_TF", "USE_FLAX", "USE_TORCH")}
    command = [sys.executable, "-m", module, str(folder)]  # -m from the root: `tests` importable
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_main(measure: Callable[[str], dict]) -> None:
    """In the child: measure the model folder given as argument, print the result as the last line."""
    print(json.dumps(measure(sys.argv[1])))


def positive(value) -> bool:
    return value is not None and math.isfinite(value) and value > 0
