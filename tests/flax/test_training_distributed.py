"""Data parallel: the same tiny pretraining run (4 rows per micro-batch, 2 micro-batches per step,
dropout on) over 2 host devices in one process (XLA_FLAGS=--xla_force_host_platform_device_count=2),
and over 2 processes joined by jax.distributed (the multi-host path, CPU collectives over gloo),
gives the one-device run's parameters after 2 steps: every micro-batch's loss is divided by its
global label count, so the gradient is the full batch's whatever the split."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from albert_flax.params import initial_state

from .training_data import compilation_cache  # noqa: F401 (fixture)
from .training_data import tiny_training_config

REPO = Path(__file__).resolve().parents[2]


def _start(output_dir: Path, devices: int, cache_env: dict, **extra_env: str) -> subprocess.Popen:
    env = {**os.environ, **cache_env, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", **extra_env}
    command = [sys.executable, "-m", "tests.flax.training_run", str(output_dir), "--max-steps", "2"]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _max_difference(a: Path, b: Path) -> float:
    one, two = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    return max(float(np.max(np.abs(one[name] - two[name]))) for name in one)


def _train_losses(output_dir: Path) -> list[float]:
    records = map(json.loads, (output_dir / "metrics.jsonl").read_text().splitlines())
    return [r["loss"] for r in records if r["split"] == "train"]


def test_two_devices_give_the_one_device_parameters(tmp_path, compilation_cache):
    runs = {devices: _start(tmp_path / f"devices-{devices}", devices, compilation_cache) for devices in (1, 2)}
    results = {devices: _finish(process) for devices, process in runs.items()}
    assert results[1]["devices"] == 1 and results[2]["devices"] == 2

    worst = _max_difference(tmp_path / "devices-1", tmp_path / "devices-2")
    assert worst <= 1e-5, worst
    one, start = load_file(tmp_path / "devices-1" / "model.safetensors"), initial_state(tiny_training_config(), "pretraining", seed=3)
    assert max(float(np.max(np.abs(one[name] - start[name]))) for name in start) > 1e-3  # the steps moved the weights
    np.testing.assert_allclose(_train_losses(tmp_path / "devices-2"), _train_losses(tmp_path / "devices-1"), rtol=1e-6)


def test_two_processes_give_the_one_device_parameters(tmp_path, compilation_cache):
    """Two processes of one device each, launched as on two hosts (JAX_COORDINATOR_ADDRESS,
    JAX_NUM_PROCESSES, JAX_PROCESS_ID), writing to one output_dir: only process 0 writes."""
    launch = {"JAX_COORDINATOR_ADDRESS": f"localhost:{_free_port()}", "JAX_NUM_PROCESSES": "2", "JAX_CPU_COLLECTIVES_IMPLEMENTATION": "gloo"}
    shared = tmp_path / "two-processes"
    runs = [_start(shared, 1, compilation_cache, JAX_PROCESS_ID=str(rank), **launch) for rank in (0, 1)]
    runs.append(_start(tmp_path / "devices-1", 1, compilation_cache))
    results = [_finish(process) for process in runs]
    assert [r["devices"] for r in results] == [2, 2, 1]  # each process sees the global device count
    assert results[0]["train_loss"] == results[1]["train_loss"]

    worst = _max_difference(tmp_path / "devices-1", shared)
    assert worst <= 1e-5, worst
    assert len(_train_losses(shared)) == 2  # one writer: no duplicated lines
    np.testing.assert_allclose(_train_losses(shared), _train_losses(tmp_path / "devices-1"), rtol=1e-6)
