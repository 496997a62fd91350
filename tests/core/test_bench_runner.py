"""`albert bench`'s runner, child and CLI on a fake backend: a module on PYTHONPATH whose run_row
returns known numbers, gets killed, sleeps past the timeout (with a grandchild process), raises,
or returns the wrong type, so the subprocess, error and timeout paths really run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from albert_core.bench.child import run_spec
from albert_core.bench.plan import Plan
from albert_core.bench.results import read_json
from albert_core.bench.runner import child_env, run_child, run_plan
from albert_core.bench.spec import RowResult, RowSpec
from albert_core.cli import main

FAKE_BACKEND = '''
import os, signal, subprocess, sys, time
from pathlib import Path
from albert_core.bench.spec import RowResult

DIR = Path(os.environ["FAKE_BENCH_DIR"])


def _call_number():
    counter = DIR / "calls"
    n = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(n))
    return n


def run_row(spec):
    if spec.batch == 1:  # known numbers; the first time is the call's number, so the order is visible
        return RowResult(spec, times_ms=[float(_call_number()), 10.0, 20.0], floor_ms=5.0, peak_mib=7.0, baseline_mib=100.0,
                         compile_s=0.5, versions={"fake": "1.0"}, notes=f"malloc {os.environ.get('MALLOC_MMAP_THRESHOLD_')}")
    if spec.batch == 2:  # killed as the kernel's OOM killer would
        print("fake crash detail", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    if spec.batch == 3:  # hangs, with a process of its own that must die with it
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        (DIR / "grandchild").write_text(str(child.pid))
        time.sleep(120)
    if spec.batch == 4:
        raise ValueError("fake failure at batch 4")
    if spec.batch == 5:
        raise ModuleNotFoundError("No module named 'transformers'", name="transformers")
    return "not a result"
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """The fake backend module `fake_bench` importable by child processes; returns its folder."""
    (tmp_path / "fake_bench.py").write_text(FAKE_BACKEND)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("FAKE_BENCH_DIR", str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, "num_hidden_layers": 2,
                                  "vocab_size": 1000, "embedding_size": 16}))
    return tmp_path


def spec(fake, batch, variant="sdpa", backend="torch"):
    return RowSpec("inference", backend, "albert", variant, "fp32", batch, 8, str(fake / "tiny.json"), 0, 3)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_rows_in_fresh_processes_with_every_failure_kept_as_data(fake):
    rows = [spec(fake, 1), spec(fake, 2), spec(fake, 4), spec(fake, 6)]
    updates = []
    results = run_plan(Plan(rows, [], "cpu"), timeout=60, module_template="fake_bench", progress=False, on_update=updates.append)
    ok, killed, raised, wrong = results.rows
    assert ok.error is None and ok.times_ms == [1.0, 10.0, 20.0] and ok.median_ms == 10.0
    assert (ok.floor_ms, ok.peak_mib, ok.baseline_mib, ok.compile_s, ok.versions) == (5.0, 7.0, 100.0, 0.5, {"fake": "1.0"})
    assert ok.notes == "malloc 4294967296"  # the runner's child environment reached the row
    assert killed.error.startswith("the row's child was killed by SIGKILL without printing a result")
    assert "fake crash detail" in killed.error and killed.times_ms == []
    assert raised.error.startswith("fake_bench.run_row raised ValueError: fake failure at batch 4")
    assert wrong.error == "fake_bench.run_row returned str, not a RowResult"
    assert [len(u.rows) for u in updates] == [1, 2, 3, 4] and not updates[-1].complete and results.complete
    assert results.environment["load_end"] is not None and results.environment["rounds"] == 1


def test_rounds_interleave_rows_and_merge_their_times(fake):
    rows = [spec(fake, 1, "sdpa"), spec(fake, 1, "eager")]
    results = run_plan(Plan(rows, [], "cpu"), rounds=2, timeout=60, module_template="fake_bench", progress=False)
    first, second = results.rows
    # calls: round 1 runs sdpa (1) then eager (2); round 2 runs sdpa (3) then eager (4)
    assert first.times_ms == [1.0, 10.0, 20.0, 3.0, 10.0, 20.0]
    assert second.times_ms == [2.0, 10.0, 20.0, 4.0, 10.0, 20.0]
    assert first.median_ms == 10.0 and results.environment["rounds"] == 2


def test_a_row_past_its_timeout_is_killed_with_its_process_group(fake):
    start = time.monotonic()
    result = run_child(spec(fake, 3), timeout=4, module_template="fake_bench")
    assert time.monotonic() - start < 30
    assert result.error.startswith("timed out after 4 s")
    grandchild = int((fake / "grandchild").read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(grandchild)


def test_missing_packages_and_modules_name_what_to_install(fake):
    assert run_spec(spec(fake, 5), "fake_bench").error == (
        "albert_torch sdpa fp32 needs the package 'transformers', which is not installed: pip install transformers (the HF rows)"
    )
    missing = run_spec(spec(fake, 1), "no_such_bench_{backend}")
    assert missing.error == "albert_torch sdpa fp32: no module no_such_bench_torch (the backend's run_row is not there)"


def test_child_refuses_a_bad_spec_clearly():
    out = subprocess.run([sys.executable, "-m", "albert_core.bench.child", '{"suite": "nap"}'], capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert "bad row spec" in out.stderr and "nap" in out.stderr


def test_child_env_keeps_the_callers_settings_and_silences_unused_frameworks(fake, monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "123")
    env = child_env(spec(fake, 1, backend="torch"))
    assert env["MALLOC_MMAP_THRESHOLD_"] == "123" and env["USE_TF"] == "0" and env["USE_FLAX"] == "0" and "USE_TORCH" not in env
    flax = child_env(RowSpec("inference", "flax", "hf", "jit", "fp32", 1, 8))
    assert flax["USE_TORCH"] == "0" and flax["USE_TF"] == "0"


def test_cli_end_to_end_on_the_fake_backend(fake, capsys):
    out = fake / "out"
    argv = ["bench", "--backends", "torch", "--impls", "albert", "--suites", "inference", "--precisions", "fp32", "--variants",
            "sdpa,eager", "--batches", "1", "--seqs", "8", "--model", str(fake / "tiny.json"), "--warmup", "0", "--iters", "3",
            "--out-dir", str(out), "--row-module", "fake_bench", "--no-progress", "--device", "cpu"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "| albert_torch sdpa fp32 (default) | 1 | 8 | 10.0 |" in printed.out
    assert "| albert_torch eager fp32 | 1 | 8 | 10.0 |" in printed.out
    assert (out / "table.md").read_text() == printed.out
    results = read_json(out / "results.json")
    assert results.complete and [r.spec.variant for r in results.rows] == ["sdpa", "eager"]
    assert [r.times_ms for r in results.rows] == [[1.0, 10.0, 20.0], [2.0, 10.0, 20.0]]
    assert (out / "results.csv").read_text().count("\n") == 3 and (out / "tools.csv").exists()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in printed.err and not (out / "chart.png").exists()
    else:
        assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the saved run re-renders to the same table
    assert main(["bench", "--report", str(out)]) == 0
    assert capsys.readouterr().out == printed.out


def test_cli_exit_code_says_when_nothing_ran(fake, capsys):
    argv = ["bench", "--backends", "torch", "--impls", "albert", "--suites", "inference", "--precisions", "fp32", "--variants", "sdpa",
            "--batches", "4", "--seqs", "8", "--model", str(fake / "tiny.json"), "--out-dir", str(fake / "out"), "--row-module",
            "fake_bench", "--no-progress", "--device", "cpu"]
    assert main(argv) == 1
    assert "- albert_torch sdpa fp32, inference 4x8: fake_bench.run_row raised ValueError" in capsys.readouterr().out


def test_cli_list_and_bad_options(fake, capsys):
    assert main(["bench", "--list", "--quick", "--backends", "torch", "--impls", "albert", "--device", "cpu"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:5] == ["inference", "albert_torch", "sdpa", "fp32", "2"] and listed[1].startswith("tokenizer")
    assert main(["bench", "--list", "--variants", "warp", "--device", "cpu"]) == 2
    assert "--variants: unknown warp" in capsys.readouterr().err
    assert main(["bench", "--report", str(fake / "nothing")]) == 2
    assert "no results.json" in capsys.readouterr().err
