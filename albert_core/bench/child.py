"""One benchmark row in this (fresh) process: `python -m albert_core.bench.child '<spec json>'`.

A RowSpec's JSON runs `albert_<backend>.bench.run_row(spec)`; a ToolSpec's JSON (it has a "tool"
key) runs the framework-free tool. The result goes to stdout as one JSON line, the last line, so
whatever the framework prints before it does not matter. A framework or transformers that is not
installed gives a result whose error names what to install, not a traceback; an exception in
run_row gives a result with the exception and the end of its traceback.

`--module` names the module that provides run_row (default `albert_{backend}.bench`): the
orchestrator's tests point it at a fake backend.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback

from .spec import RowResult, RowSpec
from .tools import ToolResult, ToolSpec, run_tool

DEFAULT_MODULE = "albert_{backend}.bench"
# A module a row may need -> what installs it.
INSTALL_HINTS = {
    "torch": "pip install 'albert[torch]'",
    "tensorflow": "pip install 'albert[tf]' (or albert[tf-cpu])",
    "keras": "pip install 'albert[tf]' (or albert[tf-cpu])",
    "jax": "pip install 'albert[flax]'",
    "jaxlib": "pip install 'albert[flax]'",
    "flax": "pip install 'albert[flax]'",
    "optax": "pip install 'albert[flax]'",
    "transformers": "pip install transformers (the HF rows)",
}


def _missing_module_error(spec: RowSpec, exc: ModuleNotFoundError, module_name: str) -> str:
    missing = (exc.name or "").split(".")[0]
    if missing in INSTALL_HINTS:
        return f"{spec.label} needs the package '{missing}', which is not installed: {INSTALL_HINTS[missing]}"
    if exc.name and module_name.startswith(exc.name):
        return f"{spec.label}: no module {module_name} (the backend's run_row is not there)"
    return f"{spec.label}: import failed: {exc}"


def _raised(what: str, exc: Exception) -> str:
    tail = "".join(traceback.format_exception(exc)[-6:])
    return f"{what} raised {type(exc).__name__}: {exc}\n{tail}"


def run_tool_spec(spec: ToolSpec) -> ToolResult:
    try:
        return run_tool(spec)
    except Exception as exc:  # noqa: BLE001 - as for run_spec
        return ToolResult(spec, error=_raised(f"the {spec.tool} tool", exc))


def run_spec(spec: RowSpec, module_template: str = DEFAULT_MODULE) -> RowResult:
    """The backend's run_row for `spec`, every failure turned into RowResult(error=...)."""
    module_name = module_template.format(backend=spec.backend)
    try:
        module = importlib.import_module(module_name)
        result = module.run_row(spec)
    except ModuleNotFoundError as exc:
        return RowResult(spec, error=_missing_module_error(spec, exc, module_name))
    except Exception as exc:  # noqa: BLE001 - a row's failure is data for the report, not a crash of the run
        return RowResult(spec, error=_raised(f"{module_name}.run_row", exc))
    if not isinstance(result, RowResult):
        return RowResult(spec, error=f"{module_name}.run_row returned {type(result).__name__}, not a RowResult")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m albert_core.bench.child", description="Run one albert bench row.")
    parser.add_argument("spec", help="a RowSpec or ToolSpec as JSON")
    parser.add_argument("--module", default=DEFAULT_MODULE, help="module providing run_row; {backend} is filled in")
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.spec)
        spec = ToolSpec.from_dict(data) if "tool" in data else RowSpec.from_dict(data)
    except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
        print(f"albert bench child: bad row spec {args.spec[:200]!r}: {exc}", file=sys.stderr)
        return 2
    result = run_tool_spec(spec) if isinstance(spec, ToolSpec) else run_spec(spec, args.module)
    sys.stdout.flush()
    print(json.dumps(result.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
