"""Running a plan: one fresh subprocess per row and round, rows interleaved, results kept as they come.

Every row runs in its own process (`python -m albert_core.bench.child`), so each memory figure
is that row's alone and no framework state leaks from one row to the next. A round runs every row
once, in the plan's interleaved order; `rounds` > 1 repeats the whole sequence and the rows'
times are merged (results.merge_rows). A child that crashes, prints no result, or runs past the
timeout becomes a result with that error and the end of its stderr; its whole process group is
killed on timeout. `on_update` receives the merged results after every child (the CLI writes
them to disk), so a run that is killed keeps what finished.

The children's environment: the caller's, plus (where the caller has not set them) glibc malloc
thresholds that stop PyTorch's times swinging by 25% (DESIGN.md section 4), and transformers told
not to import the frameworks a row does not use (+550 MiB RSS otherwise).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Callable

from .child import DEFAULT_MODULE
from .environment import finish_environment, start_environment
from .plan import Plan
from .results import BenchResults, merge_rows, merge_tools
from .spec import RowResult, RowSpec
from .tools import ToolResult, ToolSpec

STDERR_TAIL = 2000  # characters of a failed child's stderr kept in its error
COMMON_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "68719476736",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "HF_HUB_OFFLINE": "1",
}
# transformers' switches for the frameworks a row's backend does not use.
UNUSED_FRAMEWORKS = {
    "torch": {"USE_TF": "0", "USE_FLAX": "0"},
    "tf": {"USE_TORCH": "0", "USE_FLAX": "0"},
    "flax": {"USE_TORCH": "0", "USE_TF": "0"},
    "tool": {"USE_TF": "0", "USE_FLAX": "0"},
}

Spec = RowSpec | ToolSpec
Result = RowResult | ToolResult


def child_env(spec: Spec, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for key, value in {**COMMON_ENV, **UNUSED_FRAMEWORKS["tool" if isinstance(spec, ToolSpec) else spec.backend]}.items():
        env.setdefault(key, value)
    return env


def _failure(spec: Spec, message: str, stderr: str) -> Result:
    tail = stderr[-STDERR_TAIL:].strip()
    error = f"{message}\n--- end of its stderr ---\n{tail}" if tail else message
    return ToolResult(spec, error=error) if isinstance(spec, ToolSpec) else RowResult(spec, error=error)


def _exit_description(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the child's session: the child and anything it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_child(spec: Spec, timeout: float, module_template: str = DEFAULT_MODULE) -> Result:
    """Measure one row in a fresh process; never raises for what the row did."""
    command = [sys.executable, "-m", "albert_core.bench.child", json.dumps(spec.to_dict()), "--module", module_template]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(spec), start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        stdout, stderr = process.communicate()
        return _failure(spec, f"timed out after {timeout:g} s (the row's child was killed)", stderr)
    except BaseException:  # Ctrl-C reaches only this process (the child has its own session): stop the row too
        _kill_group(process)
        process.wait()
        raise
    lines = stdout.strip().splitlines()
    result = None
    if lines:
        try:
            result = (ToolResult if isinstance(spec, ToolSpec) else RowResult).from_dict(json.loads(lines[-1]))
        except (ValueError, TypeError, KeyError, AttributeError):  # not the JSON of a result
            pass
    if result is None or process.returncode != 0:
        return _failure(spec, f"the row's child {_exit_description(process.returncode)} without printing a result", stderr)
    return result


def merged(plan: Plan, done: dict[int, list[Result]], environment: dict, complete: bool) -> BenchResults:
    """The results so far: every row with at least one finished round, merged, in plan order."""
    n = len(plan.rows)
    return BenchResults(
        rows=[merge_rows(done[i]) for i in range(n) if done.get(i)],
        tools=[merge_tools(done[n + j]) for j in range(len(plan.tools)) if done.get(n + j)],
        environment=environment,
        complete=complete,
    )


def run_plan(
    plan: Plan,
    *,
    rounds: int = 1,
    timeout: float = 1800.0,
    module_template: str = DEFAULT_MODULE,
    progress: bool = True,
    on_update: Callable[[BenchResults], None] | None = None,
) -> BenchResults:
    """Run every row of `plan` `rounds` times (interleaved) and return the merged results."""
    from tqdm.auto import tqdm

    if rounds < 1:
        raise ValueError(f"rounds must be ≥ 1, got {rounds}")
    environment = start_environment(plan, rounds)
    items: list[Spec] = [*plan.rows, *plan.tools]
    done: dict[int, list[Result]] = {}
    with tqdm(total=rounds * len(items), desc="albert bench", unit="row", disable=not progress, dynamic_ncols=True) as bar:
        for round_index in range(rounds):
            for index, spec in enumerate(items):
                where = f"{spec.suite} {spec.batch}x{spec.seq}" if isinstance(spec, RowSpec) else ""
                bar.set_postfix_str(f"round {round_index + 1}: {spec.label} {where}".strip())
                result = run_child(spec, timeout, module_template)
                done.setdefault(index, []).append(result)
                bar.update(1)
                if on_update is not None:
                    on_update(merged(plan, done, environment, complete=False))
    return merged(plan, done, finish_environment(environment), complete=True)
