"""Data parallel over 2 host devices (XLA_FLAGS=--xla_force_host_platform_device_count=2): the same
tiny pretraining run (4 rows per micro-batch, 2 micro-batches per step, dropout on) gives the
one-device run's parameters after 2 steps, because every micro-batch's loss is divided by its
global label count and the gradient is the full batch's."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from albert_flax.params import initial_state

from .training_data import compilation_cache  # noqa: F401 (fixture)
from .training_data import tiny_training_config

REPO = Path(__file__).resolve().parents[2]


def _start(output_dir: Path, devices: int, cache_env: dict) -> subprocess.Popen:
    env = {**os.environ, **cache_env, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    command = [sys.executable, "-m", "tests.flax.training_run", str(output_dir), "--max-steps", "2"]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _train_losses(output_dir: Path) -> list[float]:
    records = map(json.loads, (output_dir / "metrics.jsonl").read_text().splitlines())
    return [r["loss"] for r in records if r["split"] == "train"]


def test_two_devices_give_the_one_device_parameters(tmp_path, compilation_cache):
    runs = {devices: _start(tmp_path / f"devices-{devices}", devices, compilation_cache) for devices in (1, 2)}
    results = {devices: _finish(process) for devices, process in runs.items()}
    assert results[1]["devices"] == 1 and results[2]["devices"] == 2

    one, two = load_file(tmp_path / "devices-1" / "model.safetensors"), load_file(tmp_path / "devices-2" / "model.safetensors")
    worst = max(float(np.max(np.abs(one[name] - two[name]))) for name in one)
    assert worst <= 1e-5, worst
    start = initial_state(tiny_training_config(), "pretraining", seed=3)  # training_run's seed
    assert max(float(np.max(np.abs(one[name] - start[name]))) for name in start) > 1e-3  # the steps moved the weights
    np.testing.assert_allclose(_train_losses(tmp_path / "devices-2"), _train_losses(tmp_path / "devices-1"), rtol=1e-6)
