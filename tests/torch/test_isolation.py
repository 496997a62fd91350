"""albert_torch imports albert_core and torch only (DESIGN.md section 3)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_pulls_in_no_other_framework():
    code = (
        "import json, sys; import albert_torch, albert_torch.export; "
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras', 'jax', 'flax', 'transformers', 'onnx', 'onnxscript') if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
