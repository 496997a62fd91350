"""Issue 9's resume line: a pretraining run SIGKILLed mid-way and started again with the same command
logs the same loss at every step as a run never interrupted (exactly, on CPU), and ends with the
same weights. Dropout is on, so this also proves the RNG state comes back."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from albert_core.checkpoint import load_checkpoint
from albert_core.training import CheckpointDir, MetricsLog

from .resume_train import MAX_STEPS

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "torch" / "resume_train.py"


def _launch(output_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread: the same float sums in every process
    log = open(output_dir.parent / f"{output_dir.name}.log", "w")
    return subprocess.Popen([sys.executable, str(SCRIPT), str(output_dir)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def _finish(process: subprocess.Popen, output_dir: Path) -> None:
    assert process.wait(timeout=120) == 0, (output_dir.parent / f"{output_dir.name}.log").read_text()[-3000:]


def _train_losses(output_dir: Path) -> list[tuple[int, float]]:
    return [(r["step"], r["loss"]) for r in MetricsLog(output_dir).records() if r["split"] == "train"]


def test_a_run_killed_mid_way_resumes_on_the_uninterrupted_curve(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    reference = _launch(straight)  # runs beside the one to be killed
    victim = _launch(killed)
    deadline = time.monotonic() + 120
    while 4 not in CheckpointDir(killed).steps():
        assert victim.poll() is None and time.monotonic() < deadline, "the run ended before its step-4 checkpoint"
        time.sleep(0.02)
    time.sleep(0.15)  # into step 5 or 6: past a logged step that no checkpoint holds
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    cut = CheckpointDir(killed).steps()[-1]
    assert cut < MAX_STEPS and not (killed / "model.safetensors").exists(), "killed mid-way"
    logged_before_restart = [s for s, _ in _train_losses(killed)]

    _finish(_launch(killed), killed)
    _finish(reference, straight)
    resumed, uninterrupted = _train_losses(killed), _train_losses(straight)
    assert [s for s, _ in uninterrupted] == list(range(1, MAX_STEPS + 1))
    assert resumed == uninterrupted  # every step's loss, bit for bit
    _, a = load_checkpoint(killed)
    _, b = load_checkpoint(straight)
    assert all(np.array_equal(a[n], b[n]) for n in b)
    print(f"killed after checkpoint {cut}, log then at steps {logged_before_restart}")
