"""The tables of an `albert bench` run, and its CSV files.

For every model row (seed's shape: training time per batch and peak memory; inference latency per
token and memory):
- GFLOP/s: the row's matrix-product FLOPs (shapes.py) / its median time;
- of floor: floor_ms / median_ms, the fraction of the machine's ceiling the row reaches (its
  own GEMM/bmm shapes timed back to back in the same process and precision);
- vs HF, vs albert_<backend>: the reference row's median / this row's median, at the same suite,
  shape, precision and device (above 1: this row is faster). HF's reference is HF's default path
  in the same framework; albert_<backend>'s is that backend's default path (the README's call).
Tool rows: tokenizer throughput against HF's fast tokenizer, checkpoint load and convert time
against a plain read of the same file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..atomic import atomic_write_text
from .environment import collect_versions
from .results import BenchResults, write_json
from .shapes import gemms_for, total_flops
from .spec import BACKENDS, VARIANTS, RowResult, RowSpec
from .tools import REFERENCE, ToolResult

SUITE_TITLES = {
    "inference": "Inference: AlbertModel forward (eval, no gradients)",
    "training": "Training: AlbertForMaskedLM step (forward + backward + AdamW)",
}


@lru_cache(maxsize=None)
def _config(model: str):
    """The row's config: a preset or a config file that still exists (never the hub: a
    re-rendered report of a deleted tiny config must not go looking for it online)."""
    from ..config import AlbertConfig
    from .plan import resolve_model

    return AlbertConfig.from_pretrained(resolve_model(model))


def row_flops(spec: RowSpec) -> int | None:
    """Matrix-product FLOPs of one call of the row (None if its model's config cannot be read)."""
    try:
        config = _config(spec.model)
    except (OSError, ValueError, KeyError):
        return None
    return total_flops(gemms_for(spec.suite, config, spec.batch, spec.seq))


def _key(spec: RowSpec) -> tuple:
    return (spec.suite, spec.precision, spec.batch, spec.seq, spec.model, spec.device)


def _default_variant(backend: str, impl: str) -> str:
    return VARIANTS[(backend, impl)][0]


@dataclass
class RowMetrics:
    result: RowResult
    gflops: float | None = None
    floor_fraction: float | None = None
    per_token_us: float | None = None
    vs_hf: float | None = None  # HF default path (same framework) median / this median
    vs_backends: dict[str, float | None] = field(default_factory=dict)  # albert_<backend> default / this


def compute_metrics(rows: list[RowResult]) -> list[RowMetrics]:
    medians = {}
    for r in rows:
        if r.error is None and r.median_ms:
            medians[(_key(r.spec), r.spec.backend, r.spec.impl, r.spec.variant)] = r.median_ms
    backends = [b for b in BACKENDS if any(k[1:] == (b, "albert", _default_variant(b, "albert")) for k in medians)]

    def ratio(spec: RowSpec, median: float, backend: str, impl: str) -> float | None:
        reference = medians.get((_key(spec), backend, impl, _default_variant(backend, impl)))
        return reference / median if reference else None

    metrics = []
    for r in rows:
        m = RowMetrics(r)
        median = r.median_ms
        if r.error is None and median:
            flops = row_flops(r.spec)
            m.gflops = flops / (median / 1e3) / 1e9 if flops is not None else None
            m.floor_fraction = r.floor_ms / median if r.floor_ms else None
            m.per_token_us = median * 1e3 / (r.spec.batch * r.spec.seq)
            m.vs_hf = ratio(r.spec, median, r.spec.backend, "hf")
            m.vs_backends = {b: ratio(r.spec, median, b, "albert") for b in backends}
        metrics.append(m)
    return metrics


# ----- formatting -----------------------------------------------------------------------------


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _error_line(error: str | None) -> str:
    lines = (error or "").strip().splitlines()
    return lines[0] if lines else ""


def _table(header: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def model_tables(metrics: list[RowMetrics]) -> list[str]:
    """One table per suite, rows grouped by shape then precision, as interleaved in the run."""
    lines: list[str] = []
    backends = sorted({b for m in metrics for b in m.vs_backends}, key=BACKENDS.index)
    has_hf = any(m.result.spec.impl == "hf" for m in metrics)
    for suite, title in SUITE_TITLES.items():
        ran = [m for m in metrics if m.result.spec.suite == suite and m.result.error is None]
        if not ran:
            continue
        inference = suite == "inference"
        header = ["implementation", "batch", "seq", "median ms" if inference else "ms / batch"]
        header += ["µs / token"] if inference else []
        header += ["GFLOP/s", "of floor", "peak MiB", "compile s"]
        header += ["vs HF"] if has_hf else []
        header += [f"vs albert_{b}" for b in backends]
        header += ["max abs err"] if inference else []
        rows = []
        for m in ran:
            s = m.result.spec
            row = [s.label + (" (default)" if s.is_default else ""), str(s.batch), str(s.seq), _num(m.result.median_ms, ".1f")]
            row += [_num(m.per_token_us, ".2f")] if inference else []
            row += [_num(m.gflops, ".1f"), _percent(m.floor_fraction), _num(m.result.peak_mib, ".0f"), _num(m.result.compile_s, ".1f")]
            row += [_ratio(m.vs_hf)] if has_hf else []
            row += [_ratio(m.vs_backends.get(b)) for b in backends]
            row += [_num(m.result.max_abs_error, ".2e")] if inference else []
            rows.append(row)
        lines += [f"## {title}", ""]
        lines += _table(header, ["l"] + ["r"] * (len(header) - 1), rows)
        lines.append("")
    failed = [m.result for m in metrics if m.result.error is not None]
    if failed:
        lines += ["## Rows that did not run", ""]
        lines += [f"- {r.spec.label}, {r.spec.suite} {r.spec.batch}x{r.spec.seq}: {_error_line(r.error)}" for r in failed]
        lines.append("")
    return lines


def _per_s(amount: float | None, seconds: float | None) -> float | None:
    return amount / seconds if amount is not None and seconds else None


def tokenizer_table(result: ToolResult) -> list[str]:
    info = result.info
    texts, tokens = info.get("texts"), info.get("tokens")
    reference = result.candidate(REFERENCE["tokenizer"])
    rows = []
    for c in result.candidates:
        median = c.median_s
        vs = reference.median_s / median if reference and reference.median_s and median else None
        rows.append([c.name, _num(median, ".4f"), _num(_per_s(texts, median), ",.0f"), _num(_per_s(tokens, median), ",.0f"), _ratio(vs)])
    lines = [
        f"## Tokenizer: {texts} texts ({info.get('source')}), {tokens:,} tokens, one padded batch call",
        "",
    ]
    return lines + _table(["tokenizer", "median s", "texts/s", "tokens/s", "vs HF fast"], list("lrrrr"), rows) + [""]


def checkpoint_table(result: ToolResult) -> list[str]:
    size = result.info.get("file_mib")
    reference = result.candidate(REFERENCE["checkpoint"])
    rows = []
    for c in result.candidates:
        median = c.median_s
        times = median / reference.median_s if reference and reference.median_s and median else None
        rows.append([c.name, _num(median, ".4f"), _ratio(times), _num(_per_s(size, median), ",.0f"), _num(c.median_peak_mib, ".0f")])
    lines = [f"## Checkpoint: {result.spec.model}, model.safetensors of {size:.1f} MiB; every run a fresh process", ""]
    header = ["candidate", "median s", "time vs plain read", "MiB/s", "peak RSS over baseline MiB"]
    return lines + _table(header, list("lrrrr"), rows) + [""]


def tool_tables(tools: list[ToolResult]) -> list[str]:
    lines: list[str] = []
    for t in tools:
        if t.error is not None:
            lines += [f"## {t.spec.label}: did not run", "", f"    {_error_line(t.error)}", ""]
            continue
        lines += tokenizer_table(t) if t.spec.tool == "tokenizer" else checkpoint_table(t)
        if t.notes:
            lines += [f"Note: {t.notes}.", ""]
    return lines


def environment_lines(results: BenchResults) -> list[str]:
    env = results.environment
    versions = collect_versions([*results.rows, *results.tools])
    load = f"load average {env.get('load_start')} at start, {env.get('load_end', 'n/a')} at end"
    rows = results.rows
    iterations = f"{rows[0].spec.warmup} warm-up + {rows[0].spec.iters} timed calls per round" if rows else ""
    lines = [
        f"Machine: {env.get('cpu')} ({env.get('cores')} cores, {env.get('machine')}), {env.get('system')}; device {env.get('device')}"
        + (f" ({', '.join(env['gpus'])})" if env.get("gpus") else "")
        + ".",
        f"Run: {env.get('date')} to {env.get('date_end', '(unfinished)')}; {load}; {env.get('rounds')} round(s), {iterations}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in {"python": env.get("python"), **versions}.items()) + ".",
    ]
    if env.get("skipped"):
        lines.append("Not planned: " + "; ".join(env["skipped"]) + ".")
    if not results.complete:
        lines.append("**This run did not finish: the tables hold the rows measured before it stopped.**")
    return lines


LEGEND = [
    "Columns: median over every timed call of every round; µs / token = median / (batch × seq);",
    "GFLOP/s = the call's matrix-product FLOPs / median; of floor = the same products timed alone as",
    "GEMMs in the row's own process and precision / median; peak MiB = on CPU the peak RSS during",
    "warm-up and timed calls minus the RSS once model, inputs and optimizer state were built (on GPU",
    "the allocator's peak); compile s = first call minus a warm call; vs X = X's median / this row's",
    "(above 1: this row is faster), X being HF's default path in the same framework or albert_X's",
    "default path; max abs err = |this row's last_hidden_state - the same weights' fp32 output|.",
]


def render_markdown(results: BenchResults) -> str:
    lines = ["# albert bench", ""] + environment_lines(results) + [""]
    lines += model_tables(compute_metrics(results.rows))
    lines += tool_tables(results.tools)
    if results.rows:
        lines += LEGEND
    return "\n".join(lines).rstrip() + "\n"


# ----- CSV ------------------------------------------------------------------------------------

SPEC_FIELDS = ("suite", "backend", "impl", "variant", "precision", "batch", "seq", "model", "warmup", "iters", "device")
MEASURED_FIELDS = ("floor_ms", "peak_mib", "baseline_mib", "max_abs_error", "compile_s")
DERIVED_FIELDS = ("median_ms", "min_ms", "per_token_us", "gflops", "floor_fraction", "vs_hf")


def _cell(value) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def rows_csv(metrics: list[RowMetrics]) -> str:
    backends = sorted({b for m in metrics for b in m.vs_backends}, key=BACKENDS.index)
    header = ["label", *SPEC_FIELDS, *DERIVED_FIELDS, *(f"vs_albert_{b}" for b in backends), *MEASURED_FIELDS, "times_ms", "versions", "notes", "error"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for m in metrics:
        r, s = m.result, m.result.spec
        derived = {"median_ms": r.median_ms, "min_ms": r.min_ms, "per_token_us": m.per_token_us, "gflops": m.gflops,
                   "floor_fraction": m.floor_fraction, "vs_hf": m.vs_hf}
        writer.writerow(
            [s.label, *(getattr(s, f) for f in SPEC_FIELDS), *(_cell(derived[f]) for f in DERIVED_FIELDS)]
            + [_cell(m.vs_backends.get(b)) for b in backends]
            + [_cell(getattr(r, f)) for f in MEASURED_FIELDS]
            + [" ".join(repr(t) for t in r.times_ms), json.dumps(r.versions, sort_keys=True), r.notes, r.error or ""]
        )
    return out.getvalue()


def read_rows_csv(text: str) -> list[RowResult]:
    """The RowResults a results.csv was written from (derived columns are recomputed, not read)."""
    results = []
    for record in csv.DictReader(io.StringIO(text)):
        spec = RowSpec(**{f: int(record[f]) if f in ("batch", "seq", "warmup", "iters") else record[f] for f in SPEC_FIELDS})
        measured = {f: float(record[f]) if record[f] else None for f in MEASURED_FIELDS}
        results.append(
            RowResult(
                spec,
                times_ms=[float(t) for t in record["times_ms"].split()],
                versions=json.loads(record["versions"]),
                notes=record["notes"],
                error=record["error"] or None,
                **measured,
            )
        )
    return results


def tools_csv(tools: list[ToolResult]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["tool", "candidate", "median_s", "median_peak_mib", "times_s", "info", "error"])
    for t in tools:
        for c in t.candidates or [None]:
            writer.writerow(
                [t.spec.tool, c.name if c else "", _cell(c.median_s if c else None), _cell(c.median_peak_mib if c else None),
                 " ".join(repr(x) for x in c.times_s) if c else "", json.dumps(t.info, sort_keys=True), t.error or ""]
            )
    return out.getvalue()


def write_data(results: BenchResults, out_dir: str | Path) -> None:
    """results.json, results.csv (model rows) and tools.csv (tool rows) in `out_dir`, atomically."""
    out_dir = Path(out_dir)
    write_json(results, out_dir / "results.json")
    atomic_write_text(out_dir / "results.csv", rows_csv(compute_metrics(results.rows)))
    atomic_write_text(out_dir / "tools.csv", tools_csv(results.tools))
