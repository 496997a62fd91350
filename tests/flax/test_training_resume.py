"""A pretraining run killed with SIGKILL mid-way and started again with the same command continues
the same curve: its per-step losses, gradient norms and learning rates equal an uninterrupted run's
exactly (bit for bit on CPU), and so do its final weights. Dropout is on, so the RNG stream resumes too."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from albert_core.training import CheckpointDir

from .training_data import compilation_cache  # noqa: F401 (fixture)
from .training_run import run_pretraining

REPO = Path(__file__).resolve().parents[2]
STEPS = 8


def _train_records(output_dir: Path) -> list[dict]:
    lines = (output_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == "train"]


def test_sigkill_then_rerun_continues_the_uninterrupted_curve(tmp_path, compilation_cache):
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "tests.flax.training_run", str(killed), "--max-steps", str(STEPS), "--save-every", "2", "--delay", "0.1"]
    env = {**os.environ, **compilation_cache}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while 4 not in CheckpointDir(killed).steps():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "no step-4 checkpoint after 240 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert not (killed / "model.safetensors").exists()  # killed before the end
    assert max(CheckpointDir(killed).steps()) < STEPS

    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]

    uninterrupted = tmp_path / "uninterrupted"
    expected = run_pretraining(str(uninterrupted), max_steps=STEPS, save_every=2)
    returned = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert {k: v for k, v in returned.items() if k != "devices"} == expected  # train()'s final metrics
    resumed, reference = _train_records(killed), _train_records(uninterrupted)
    assert [r["step"] for r in resumed] == list(range(1, STEPS + 1))
    assert resumed == reference  # loss, grad_norm, learning_rate: exactly equal, step for step
    resumed_weights, reference_weights = load_file(killed / "model.safetensors"), load_file(uninterrupted / "model.safetensors")
    for name, value in reference_weights.items():
        np.testing.assert_array_equal(resumed_weights[name], value, err_msg=name)
