"""A pretraining run killed with SIGKILL mid-way and started again with the same arguments continues
the same loss curve: every step's loss equals an uninterrupted run's, bit for bit.

The killed run is a child process; the restart and the uninterrupted run happen in this process
(the same function and arguments as the child's command; a second child would double the
TensorFlow start-up time). So the restart also shows that nothing but the output folder carries
the state across processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from albert_core.training import CheckpointDir, MetricsLog
from tests.tf.training_loop_child import resume_run

REPO = Path(__file__).resolve().parents[2]


def train_losses(output_dir) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in MetricsLog(output_dir).records() if r["split"] == "train"}


def start_child(output_dir, delay: float) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.tf.training_loop_child", "resume", str(output_dir), str(delay)]
    return subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE)


def test_sigkilled_run_resumes_with_the_same_losses_step_for_step(tmp_path):
    killed = tmp_path / "killed"
    # Each micro-batch takes 0.15 s to arrive, so the run is still going when step 4 is saved.
    process = start_child(killed, delay=0.15)
    deadline = time.monotonic() + 60
    while 4 not in CheckpointDir(killed).steps():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "no step-4 checkpoint within 60 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill = CheckpointDir(killed).steps()
    assert max(at_kill) < 8 and not (killed / "model.safetensors").exists()  # killed mid-way

    resume_run(str(killed))  # the restart
    uninterrupted = tmp_path / "uninterrupted"
    resume_run(str(uninterrupted))

    want, got = train_losses(uninterrupted), train_losses(killed)
    assert sorted(want) == list(range(1, 9))
    assert got == want  # exact: same weights, optimizer state, dropout RNG and data position
    assert (killed / "model.safetensors").exists() and CheckpointDir(killed).steps() == [6, 8]
