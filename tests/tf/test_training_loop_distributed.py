"""tf.distribute gives the single-device run's parameters and losses after 2 steps:
MirroredStrategy over 2 logical CPU devices in one child process (the device layout is fixed when
TensorFlow starts), and MultiWorkerMirroredStrategy over a local cluster of 2 worker processes
(TF_CONFIG), as on several machines.

The run clips (max_grad_norm 0.5 is below the gradient's norm) and accumulates 2 micro-batches, so
the replicas' gradients must be summed before clipping, each normalised by the whole step's label
count; LAMB with weight decay also exercises the decay mask inside tf.distribute's update."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from albert_core.checkpoint import load_checkpoint
from albert_core.training import MetricsLog
from tests.tf.training_loop_child import distributed_run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    """The reference: the same run in this process, on its one CPU device."""
    output_dir = tmp_path_factory.mktemp("single")
    metrics = distributed_run(str(output_dir), "lamb")
    assert metrics["train_grad_norm"] > 0.5  # clipping is active
    return output_dir


def start_child(*arguments) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.tf.training_loop_child", *map(str, arguments)]
    return subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE)


def wait(child: subprocess.Popen) -> None:
    _, stderr = child.communicate(timeout=240)
    assert child.returncode == 0, stderr.decode()[-3000:]


def assert_same_run(output_dir, reference) -> None:
    a, b = load_checkpoint(output_dir)[1], load_checkpoint(reference)[1]
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) <= 1e-5
    got, want = ([r for r in MetricsLog(d).records() if r["split"] == "train"] for d in (output_dir, reference))
    assert [r["step"] for r in got] == [1, 2]
    for g, w in zip(got, want):
        assert abs(g["loss"] - w["loss"]) <= 1e-6 * w["loss"]
        assert abs(g["grad_norm"] - w["grad_norm"]) <= 1e-5 * w["grad_norm"]
    got, want = ([r for r in MetricsLog(d).records() if r["split"] == "eval"] for d in (output_dir, reference))
    assert len(got) == 1 and got[0].keys() == want[0].keys() == {"step", "split", "loss", "mlm_accuracy", "sop_accuracy"}
    assert got[0]["loss"] == pytest.approx(want[0]["loss"], rel=1e-6) and got[0]["mlm_accuracy"] == want[0]["mlm_accuracy"]


def test_mirrored_strategy_on_two_devices_equals_one_device(tmp_path, single_device):
    wait(start_child("distributed", tmp_path / "run", 2, "lamb"))
    assert_same_run(tmp_path / "run", single_device)
    # A second train() in that process, with other shapes, runs too (the strategy is reused).
    second = [r for r in MetricsLog(tmp_path / "run-classify").records() if r["split"] == "train"]
    assert [r["step"] for r in second] == [1, 2] and all(np.isfinite(r["loss"]) for r in second)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_strategy_on_two_processes_equals_one_device(tmp_path, single_device):
    ports = ",".join(map(str, free_ports(2)))
    workers = [start_child("multiworker", tmp_path, index, ports, "lamb") for index in (0, 1)]
    for worker in workers:
        wait(worker)
    assert_same_run(tmp_path, single_device)  # written by worker 0 alone (the chief)
