"""DataError: a training or evaluation data file (or a data-pipeline argument) is unusable."""

from __future__ import annotations

import os

import numpy as np

from ..errors import AlbertError


class DataError(AlbertError, ValueError):
    """Bad training data: the message names the file, the line and the field at fault.

    `path`, `line` and `field` are also attributes (None where they do not apply, e.g. a bad
    `batch_size`), so a caller can point at the record without parsing the message.
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None, line: int | None = None, field: str | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        what = f"field '{field}': " if field is not None else ""
        super().__init__(f"{where}{what}{problem}")
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.problem = problem


def check_positive(name: str, value) -> int:
    """An int argument that must be >= 1 (batch_size, max_seq_length...), or DataError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def check_position(position) -> int:
    """A stream position for seek(): a non-negative int (numpy ints too, as a restored checkpoint
    may hold them), or DataError."""
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)) or position < 0:
        raise DataError(f"position must be a non-negative int, got {position!r}")
    return int(position)


def check_probability(name: str, value) -> float:
    """A float argument in [0, 1], or DataError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise DataError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)
