"""Labelled records from CSV or JSONL files (chosen by suffix), each with its line number.

JSONL: one JSON object per line; blank lines are skipped. CSV: a header row names the fields.
CSV cells are strings, so a field that holds a list or an object (tokens, tags, choices, answers)
is written in the cell as JSON (`["a", "b"]`); tokens and tags may also be a space-separated string.
An empty CSV cell counts as a missing field; a row of empty cells is skipped.
Every problem raises DataError naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DataError

SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv"}


@dataclass(frozen=True)
class Record:
    """One example's fields, and where it came from (for error messages)."""

    fields: dict[str, Any]
    path: str
    line: int

    def error(self, problem: str, field: str | None = None) -> DataError:
        return DataError(problem, self.path, self.line, field)

    def get(self, name: str, kind: type | tuple[type, ...] = str, optional: bool = False):
        """The field's value, checked to be of `kind`; DataError if missing or of another kind.

        A CSV cell (a string) asked for as a list or dict is parsed as JSON first.
        """
        kinds = kind if isinstance(kind, tuple) else (kind,)
        value = self.fields.get(name)
        if value is None:
            if optional:
                return None
            raise self.error(f"missing (the record has {sorted(self.fields)})", name)
        if isinstance(value, str) and str not in kinds:
            value = self._parse_cell(name, value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(f"must be {names}, got {type(value).__name__} {value!r:.80}", name)
        return value

    def get_list(self, name: str, item_kinds: tuple[type, ...] = (str,), split_spaces: bool = False) -> list:
        """A non-empty list whose items are of `item_kinds`.

        With split_spaces, a CSV cell that is not a JSON list is read as space-separated words.
        """
        value = self.fields.get(name)
        if split_spaces and isinstance(value, str) and not value.lstrip().startswith("["):
            items = value.split()
        else:
            items = self.get(name, list)
        if not items:
            raise self.error("must not be empty", name)
        for i, item in enumerate(items):
            if not isinstance(item, item_kinds) or isinstance(item, bool):
                raise self.error(f"item {i} must be {' or '.join(k.__name__ for k in item_kinds)}, got {item!r:.80}", name)
        return items

    def get_int(self, name: str) -> int:
        """An int (or, in CSV, a cell holding one)."""
        value = self.get(name, (int, str))
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise self.error(f"must be an integer, got {value!r:.80}", name) from None
        return value

    def _parse_cell(self, name: str, value: str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise self.error(f"is not valid JSON ({exc.msg})", name) from None


def read_records(path: str | os.PathLike) -> Iterator[Record]:
    """The records of a .jsonl/.json (one object per line) or .csv file, in file order."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"unknown data file type {path.suffix!r}; use .jsonl or .csv", path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    with open(path, encoding="utf-8", newline="" if kind == "csv" else None) as handle:
        try:
            yield from (_jsonl_records if kind == "jsonl" else _csv_records)(handle, str(path))
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text ({exc.reason})", path) from exc


def _jsonl_records(handle, path: str) -> Iterator[Record]:
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc.msg} at column {exc.colno})", path, line_number) from None
        if not isinstance(fields, dict):
            raise DataError(f"each line must hold a JSON object, got {type(fields).__name__}", path, line_number)
        yield Record(fields, path, line_number)


def _csv_records(handle, path: str) -> Iterator[Record]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None:
        return
    line_number = reader.line_num + 1  # where the next record starts
    try:
        for row in reader:
            if None in row:
                raise DataError(f"more cells than the header's {len(reader.fieldnames)} columns", path, line_number)
            fields = {k: v for k, v in row.items() if v is not None and v != ""}  # an empty cell is a missing field
            if fields:
                yield Record(fields, path, line_number)
            line_number = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"malformed CSV ({exc})", path, reader.line_num) from None
