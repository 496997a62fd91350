"""The metrics log every loop writes (JSONL, and a CSV view of it) and the loss-curve chart.

One JSON object per line: {"step": 10, "split": "train", "loss": 7.1, "learning_rate": ..., ...}
("eval" lines carry the task's metrics). A resumed run first drops the lines logged after its
checkpoint's step, so the log is one continuous curve, as if the run had never stopped.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes, atomic_write_text

JSONL_NAME = "metrics.jsonl"
CSV_NAME = "metrics.csv"
CHART_NAME = "loss_curve.png"


class MetricsLog:
    def __init__(self, output_dir: str | Path):
        self.dir = Path(output_dir)
        self.path = self.dir / JSONL_NAME

    def records(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        records = []
        for line in self.path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:  # a line cut by a kill mid-write: the rest of the log is still good
                continue
        return records

    def truncate_after(self, step: int) -> None:
        """Keep only the records of steps ≤ `step` (a resumed run continues from there)."""
        kept = [r for r in self.records() if r.get("step", 0) <= step]
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))

    def log(self, step: int, split: str, **values: float) -> dict[str, Any]:
        record = {"step": int(step), "split": split, **{k: float(v) for k, v in values.items()}}
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        return record

    def write_csv(self) -> Path:
        records = self.records()
        columns = ["step", "split"] + sorted({k for r in records for k in r} - {"step", "split"})
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
        atomic_write_text(self.dir / CSV_NAME, out.getvalue())
        return self.dir / CSV_NAME


def plot_loss_curve(output_dir: str | Path, title: str = "") -> Path:
    """Draw train (and eval) loss against step from the log into loss_curve.png (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("the loss-curve chart needs matplotlib: pip install 'albert[plot]'") from exc
    log = MetricsLog(output_dir)
    records = log.records()
    fig, ax = plt.subplots(figsize=(7, 4))
    for split, style in (("train", "-"), ("eval", "o-")):
        points = [(r["step"], r["loss"]) for r in records if r["split"] == split and "loss" in r]
        if points:
            ax.plot(*zip(*points), style, label=f"{split} loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    path = Path(output_dir) / CHART_NAME
    atomic_write_bytes(path, buffer.getvalue())
    return path
