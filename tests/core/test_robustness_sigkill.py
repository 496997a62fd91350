"""Crash safety: a saver SIGKILLed at random moments never loses the previous save.

A core-only child (tests/robustness/save_loop_child.py) forks savers that write a 4.2 MB
checkpoint in a loop; the test kills each at a random moment within its first ~2.5 saves and
checks that the folder loads, is one whole generation (config and every tensor agree) and is the
last completed save or the one in flight (never older, never a mix). Odd generations are
sharded, so a half-swapped folder would also fail to load.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from albert_core.atomic import atomic_folder, recover_folder
from albert_core.checkpoint import load_checkpoint
from tests.robustness.save_loop_child import save_generation

CHILD = Path(__file__).resolve().parents[1] / "robustness" / "save_loop_child.py"
ROOT = Path(__file__).resolve().parents[2]


class Child:
    """The fork server, read line by line with a deadline (a hung child fails, never hangs)."""

    def __init__(self, folder: Path, *flags: str):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(folder), *flags],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )
        self.buffer = b""
        self.saver: int | None = None
        self.early: list[tuple[str, int]] = []  # a saver's reports that came before its pid line
        assert self.line(timeout=60) == "ready"

    def line(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"save child silent for {timeout} s")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError(f"save child exited (code {self.proc.poll()})")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def fork(self, generation: int) -> int:
        self.proc.stdin.write(f"fork {generation}\n".encode())
        self.proc.stdin.flush()
        self.early = []
        while True:
            kind, value = self.line().split()[:2]
            if kind == "pid":
                self.saver = int(value)
                return self.saver
            self.early.append((kind, int(value)))

    def calibrate(self, generation: int, saves: int = 3) -> float:
        """Seconds per save of a saver left to run `saves` saves, then killed."""
        pid = self.fork(generation)
        started, ended = time.perf_counter(), sum(kind == "end" for kind, _ in self.early)
        while ended < saves:
            kind, _ = self.line().split()
            ended += kind == "end"
        seconds = (time.perf_counter() - started) / saves
        os.kill(pid, signal.SIGKILL)
        self.reports_until_reaped(pid)
        return max(seconds, 0.002)

    def reports_until_reaped(self, pid: int) -> list[tuple[str, int]]:
        reports = self.early
        while True:
            kind, value, *rest = self.line().split()
            if kind == "reaped":
                assert int(value) == pid
                status = int(rest[0])  # the saver died of our SIGKILL, not of an error of its own
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (status, reports)
                self.saver = None
                return reports
            reports.append((kind, int(value)))

    def close(self) -> None:
        if self.saver is not None:  # a failed check left a saver running
            os.kill(self.saver, signal.SIGKILL)
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def generation_in(folder: Path) -> int:
    """The generation a folder holds, after checking config and every tensor agree on it."""
    config, state = load_checkpoint(folder)
    generation = config.extra["generation"]
    assert len(state) > 10
    for name, array in state.items():
        assert array.min() == array.max() == generation, f"{name} mixes generations in a save of {generation}"
    return generation


def kill_loop(tmp_path: Path, kills: int, seed: int, flags: tuple[str, ...] = ()) -> dict:
    folder = tmp_path / "model"
    save_generation(str(folder), 0)
    rng = random.Random(seed)
    child = Child(folder, *flags)
    stats = {"kills": 0, "mid_save": 0, "in_flight_visible": 0, "restored": 0, "max_generation": 0}
    completed = 0
    try:
        save_seconds = child.calibrate(completed + 1)  # the child's own pace, on this machine, now
        completed = generation_in(folder)
        for _ in range(kills):
            pid = child.fork(completed + 1)
            time.sleep(rng.uniform(0, 2.5 * save_seconds))
            os.kill(pid, signal.SIGKILL)
            reports = child.reports_until_reaped(pid)
            ended = [g for kind, g in reports if kind == "end"]
            begun = [g for kind, g in reports if kind == "begin"]
            in_flight = begun[-1] if begun and (not ended or begun[-1] > ended[-1]) else None
            completed = ended[-1] if ended else completed
            if not folder.exists():  # only possible without RENAME_EXCHANGE (the two-rename fallback)
                assert flags, "with RENAME_EXCHANGE the folder must exist at every instant"
                assert recover_folder(folder)
                stats["restored"] += 1
            held = generation_in(folder)
            assert held in (completed, in_flight), (held, completed, in_flight, reports)
            stats["kills"] += 1
            stats["mid_save"] += in_flight is not None
            stats["in_flight_visible"] += held == in_flight
            completed = held  # the next saver starts after what the folder holds
            stats["max_generation"] = held
    finally:
        child.close()
    # Killed savers left temp folders; the next save (or recover_folder) removes them.
    with atomic_folder(tmp_path / "other"):
        pass
    recover_folder(folder)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".model."))
    assert leftovers == []
    assert generation_in(folder) == completed
    return stats


def test_100_sigkills_during_saves_lose_nothing(tmp_path):
    stats = kill_loop(tmp_path, kills=100, seed=12)
    print("SIGKILL stats:", stats)
    assert stats["kills"] == 100
    # The kills really land inside saves (not only between them), and some right after a swap.
    assert stats["mid_save"] >= 60, stats
    assert stats["max_generation"] >= 20, stats  # and saves completed between kills


def test_sigkills_with_the_two_rename_fallback_are_recovered(tmp_path):
    stats = kill_loop(tmp_path, kills=30, seed=7, flags=("--no-exchange",))
    print("SIGKILL stats (fallback):", stats)
    assert stats["kills"] == 30 and stats["mid_save"] >= 15, stats


def test_a_crash_between_the_fallback_renames_is_undone(tmp_path):
    """The one window of the fallback swap, made by hand: old set aside, new not yet in."""
    folder = tmp_path / "model"
    save_generation(str(folder), 3)
    dead_pid = 2**22 + 1  # above Linux's pid_max: no such process
    os.rename(folder, tmp_path / f".model.old-{dead_pid}-abc")
    (tmp_path / f".model.tmp-{dead_pid}-def").mkdir()  # the new save, possibly incomplete
    assert recover_folder(folder)
    assert generation_in(folder) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_live_writers_temp_folder_is_left_alone(tmp_path):
    folder = tmp_path / "model"
    save_generation(str(folder), 2)
    live = tmp_path / f".model.tmp-{os.getppid()}-xyz"
    live.mkdir()
    assert not recover_folder(folder)
    assert live.is_dir()


@pytest.mark.parametrize("exchange", [True, False])
def test_an_error_inside_the_save_leaves_the_old_folder(tmp_path, monkeypatch, exchange):
    import albert_core.atomic

    if not exchange:
        monkeypatch.setattr(albert_core.atomic, "_renameat2", None)
    folder = tmp_path / "model"
    save_generation(str(folder), 5)
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_folder(folder) as tmp:
            (tmp / "config.json").write_text("{}")
            raise RuntimeError("disk full")
    assert generation_in(folder) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    save_generation(str(folder), 6)
    assert generation_in(folder) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_the_swap_uses_rename_exchange_on_this_system(tmp_path):
    """Linux (the CI) exchanges atomically; the fallback is for other systems."""
    from albert_core.atomic import exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert exchange(a, b) is True
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"
    with pytest.raises(FileNotFoundError):
        exchange(a, tmp_path / "absent")


def test_a_saved_folder_gets_the_usual_permissions(tmp_path):
    """Not mkdtemp's 0700: a model saved into a shared folder is readable as any folder made there."""
    umask = os.umask(0o022)
    os.umask(umask)
    save_generation(str(tmp_path / "model"), 1)
    assert (tmp_path / "model").stat().st_mode & 0o777 == 0o777 & ~umask
