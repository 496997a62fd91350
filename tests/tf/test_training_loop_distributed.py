"""tf.distribute: MirroredStrategy over 2 logical CPU devices (a child process: the device layout is
fixed when TensorFlow starts) gives the single-device run's parameters and losses after 2 steps.

The run clips (max_grad_norm 0.5 is below the gradient's norm) and accumulates 2 micro-batches, so
the replicas' gradients must be summed before clipping, each normalised by the whole step's label
count; LAMB with weight decay also exercises the decay mask inside tf.distribute's update."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from albert_core.checkpoint import load_checkpoint
from albert_core.training import MetricsLog
from tests.tf.training_loop_child import distributed_run

REPO = Path(__file__).resolve().parents[2]


def test_two_replicas_give_the_single_device_parameters_after_two_steps(tmp_path):
    command = [sys.executable, "-m", "tests.tf.training_loop_child", "distributed", str(tmp_path / "replicas"), "2", "lamb"]
    child = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE)
    single = distributed_run(str(tmp_path / "single"), "lamb")  # this process: one CPU device
    _, stderr = child.communicate(timeout=180)
    assert child.returncode == 0, stderr.decode()[-3000:]

    a, b = load_checkpoint(tmp_path / "replicas")[1], load_checkpoint(tmp_path / "single")[1]
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) <= 1e-5
    records = {name: [r for r in MetricsLog(tmp_path / name).records() if r["split"] == "train"] for name in ("replicas", "single")}
    assert [r["step"] for r in records["replicas"]] == [1, 2]
    for got, want in zip(records["replicas"], records["single"]):
        assert abs(got["loss"] - want["loss"]) <= 1e-6 * want["loss"]
        assert abs(got["grad_norm"] - want["grad_norm"]) <= 1e-5 * want["grad_norm"]
    assert single["train_grad_norm"] > 0.5  # clipping was active
