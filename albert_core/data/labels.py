"""Label lists: label names ↔ ids, in a deterministic order, saved as the model's id2label.

Without a given list, the labels found in the training file are sorted: numerically when every
label is an integer ("0", "1", "10"), else as strings. Evaluation data must reuse the training
list (pass `label_list=train.label_list`), or a label only one split has would shift the ids.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..atomic import atomic_write_text
from .errors import DataError


def label_name(value) -> str:
    """The canonical string of a label value (JSON ints and strings both allowed)."""
    return str(value).strip() if not isinstance(value, bool) else str(value)


def build_label_list(values: Iterable) -> list[str]:
    """The distinct labels of `values`, sorted (numerically if all are integers)."""
    names = {label_name(v) for v in values}

    def is_int(s: str) -> bool:
        return s.lstrip("-").isdigit()

    if names and all(is_int(n) for n in names):
        return sorted(names, key=int)
    return sorted(names)


def check_label_list(label_list) -> list[str]:
    if isinstance(label_list, (str, bytes)) or not isinstance(label_list, Iterable):
        raise DataError(f"label_list must be a list of label names, got {label_list!r:.80}")
    names = [label_name(v) for v in label_list]
    if not names:
        raise DataError("label_list is empty")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(f"label_list repeats {duplicated}")
    return names


def save_label_list(path: str | os.PathLike, label_list: list[str]) -> None:
    """Write {"id2label": {"0": name, ...}, "label2id": {...}} (the keys of a model's config.json)."""
    payload = {
        "id2label": {str(i): name for i, name in enumerate(label_list)},
        "label2id": {name: i for i, name in enumerate(label_list)},
    }
    atomic_write_text(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def load_label_list(path: str | os.PathLike) -> list[str]:
    """The label list from a file written by save_label_list, or from a model's config.json."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        id2label = payload["id2label"]
        ids = sorted(int(k) for k in id2label)
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"cannot read an id2label table ({exc.__class__.__name__}: {exc})", path) from None
    if ids != list(range(len(ids))):
        raise DataError(f"id2label ids must be 0..{len(ids) - 1}, got {ids}", path)
    return check_label_list([id2label[str(i)] if str(i) in id2label else id2label[i] for i in ids])
