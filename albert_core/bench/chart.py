"""chart.png: every implementation side by side at each shape, one panel per suite and precision.

Bars are the rows' medians (inference: µs per token; training: ms per batch), on a log scale so
the seed's grid of shapes fits one panel; the black tick on each bar is that row's GEMM floor in
the same unit, so the gap between bar top and tick is the time spent outside matrix products.
matplotlib is optional (albert[plot]): without it the chart is skipped with a message.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..atomic import atomic_write_bytes
from .spec import PRECISIONS, SUITES, RowResult

UNITS = {"inference": ("µs / token", lambda r, ms: ms * 1e3 / (r.spec.batch * r.spec.seq)), "training": ("ms / batch", lambda r, ms: ms)}


def _implementation(result: RowResult) -> str:
    s = result.spec
    return (f"albert_{s.backend}" if s.impl == "albert" else f"HF {s.backend}") + f" {s.variant}"


def draw_chart(rows: list[RowResult], path: str | Path) -> str | None:
    """Write the chart to `path`; returns why it was not drawn, or None when it was."""
    ran = [r for r in rows if r.error is None and r.median_ms]
    if not ran:
        return "no row ran: no chart"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install 'albert[plot]'): chart.png skipped"

    panels = [(s, p) for s in SUITES for p in PRECISIONS if any(r.spec.suite == s and r.spec.precision == p for r in ran)]
    figure, axes = plt.subplots(len(panels), 1, figsize=(12, 4.2 * len(panels)), squeeze=False)
    for axis, (suite, precision) in zip(axes[:, 0], panels):
        panel = [r for r in ran if r.spec.suite == suite and r.spec.precision == precision]
        shapes = sorted({(r.spec.batch, r.spec.seq) for r in panel})
        names = list(dict.fromkeys(_implementation(r) for r in panel))
        unit, convert = UNITS[suite]
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            by_shape = {(r.spec.batch, r.spec.seq): r for r in panel if _implementation(r) == name}
            xs = [i + (k - (len(names) - 1) / 2) * width for i, shape in enumerate(shapes) if shape in by_shape]
            present = [by_shape[shape] for shape in shapes if shape in by_shape]
            axis.bar(xs, [convert(r, r.median_ms) for r in present], width=width * 0.95, label=name)
            floors = [(x, convert(r, r.floor_ms)) for x, r in zip(xs, present) if r.floor_ms]
            if floors:
                x_floor, y_floor = zip(*floors)
                axis.hlines(y_floor, [x - width * 0.45 for x in x_floor], [x + width * 0.45 for x in x_floor], color="black", linewidth=2, zorder=3)
        axis.set_xticks(range(len(shapes)), [f"{b} x {s}" for b, s in shapes])
        axis.set_yscale("log")
        axis.set_ylabel(unit)
        axis.set_title(f"{suite}, {precision} (black tick: the row's GEMM floor)")
        axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return None
