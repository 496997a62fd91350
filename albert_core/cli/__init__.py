"""The `albert` command line: one sub-command per module in this package.

Each sub-command module defines `register(subparsers)`, which adds its parser and sets `run`.
Commands that run a model import the chosen backend only when they run, so `albert info`
works with no framework installed.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import AlbertError
from . import bench, convert, info, tasks, train, verify

COMMANDS = [info, convert, verify, tasks, train, bench]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="albert", description="ALBERT for PyTorch, TensorFlow/Keras and JAX/Flax.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"albert {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (AlbertError, FileNotFoundError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"albert {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
