"""`albert verify PATH`: load one checkpoint into every installed backend, run the same inputs,
and show how far apart their outputs are.

    albert verify out/                        # every installed backend, the checkpoint's own head
    albert verify out/ --backends torch,flax --heads masked_lm,question_answering --reference hf

Each backend gets the same canonical state (heads the checkpoint lacks are initialised once, with a
fixed seed, and shared) and the same inputs (albert_core.cli.parity.make_inputs: a padded row,
two segments, labels so the loss is compared too). The table has one row per output (loss,
logits, each hidden state and attention map) and one column per pair of backends: max |Δ| and
whether it is within DESIGN.md section 5's tolerance. Exit status 1 when any is not; the lines
under the table name each output that diverged, and between which backends.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import infer_head, load_checkpoint, match_state
from ..config import AlbertConfig
from ..errors import AlbertError
from ..schema import ARCHITECTURES, Head
from .parity import LOSS_RTOL, OUTPUT_ATOL, Delta, compare_outputs, make_inputs
from .runners import BACKENDS, RUNNERS, get_runner, installed_backends
from .source import FORMAT_NAMES, resolve_source


class VerifyError(AlbertError, ValueError):
    """verify cannot run as asked (fewer than two backends, an unknown head...)."""


@dataclass
class VerifyReport:
    source: str
    columns: list[str]
    pairs: list[str]
    atol: float
    loss_rtol: float
    # (head, output) -> {pair: Delta}, in the order the outputs were produced
    rows: dict[tuple[Head, str], dict[str, Delta]] = field(default_factory=dict)

    @property
    def failures(self) -> list[tuple[Head, str, str, Delta]]:
        return [(head, output, pair, d) for (head, output), cells in self.rows.items() for pair, d in cells.items() if not d.passed]

    @property
    def passed(self) -> bool:
        return bool(self.rows) and not self.failures

    def table(self) -> str:
        def cell(d: Delta | None) -> str:
            if d is None:
                return "-"
            if d.note:
                return f"FAIL ({d.note})"
            return f"{d.max_abs:.2e} {'ok' if d.passed else 'FAIL'}"

        header = ["head", "output", *self.pairs]
        body = [[head.value, output, *(cell(cells.get(p)) for p in self.pairs)] for (head, output), cells in self.rows.items()]
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def render(self) -> str:
        lines = [
            f"checkpoint: {self.source}",
            f"backends:   {', '.join(f'{n} = {RUNNERS[n].description}' for n in self.columns)}",
            f"tolerance:  max |Δ| <= {self.atol:g} on every output tensor; loss within {self.loss_rtol:g} relative",
            "",
            self.table(),
            "",
        ]
        failures = self.failures
        if failures:
            lines.append(f"FAIL: {len(failures)} output(s) out of tolerance:")
            for head, output, pair, d in failures:
                a, b = pair.split("-")
                what = d.note or f"max |Δ| {d.max_abs:.3g} > {d.bound:.3g}"
                lines.append(f"  {head.value} {output}: {a} vs {b}: {what}")
        else:
            lines.append(f"PASS: {len(self.columns)} backends agree on {len(self.rows)} outputs within tolerance")
        return "\n".join(lines)


def _parse_list(text: str | None, known, what: str) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in items if t not in known]
    if unknown or not items:
        raise VerifyError(f"unknown {what} {unknown or text!r}; choose from {', '.join(known)}")
    return list(dict.fromkeys(items))


def verify(
    path: str | Path,
    backends: list[str] | None = None,
    heads: list[Head | str] | None = None,
    reference: str | None = None,
    source_format: str | None = None,
    config: AlbertConfig | None = None,
    batch: int = 2,
    seq_len: int | None = None,
    atol: float = OUTPUT_ATOL,
    loss_rtol: float = LOSS_RTOL,
) -> VerifyReport:
    """Run `path` through every backend asked for (default: every installed one) and compare."""
    names = list(backends) if backends else installed_backends()
    if reference is not None:
        names.append(reference)
    runners = {name: get_runner(name) for name in dict.fromkeys(names)}
    if len(runners) < 2:
        have = ", ".join(runners) or "none"
        raise VerifyError(
            f"verify compares backends and needs at least two; it has {have}. Install another backend "
            "(albert[torch], albert[tf], albert[flax]) or add --reference hf"
        )
    source = resolve_source(path, source_format)
    config, state = load_checkpoint(source.path, config=config)
    heads = [Head(h) for h in heads] if heads else [infer_head(state, config)]
    seq_len = seq_len or min(16, config.max_position_embeddings)
    columns = list(runners)
    pairs = [f"{a}-{b}" for a, b in itertools.combinations(columns, 2)]
    report = VerifyReport(f"{source.path} ({source.format_name})", columns, pairs, atol, loss_rtol)
    for head in heads:
        # One match for every backend: head tensors the checkpoint lacks get the same values in each.
        head_state = match_state(state, config, head, seed=0).state
        inputs, labels = make_inputs(config, head, batch=batch, seq_len=seq_len)
        outputs = {}
        for name, runner in runners.items():
            outputs[name] = runner.forward(runner.load(config, head, head_state), inputs, labels)
        for a, b in itertools.combinations(columns, 2):
            for delta in compare_outputs(outputs[a], outputs[b], atol, loss_rtol):
                report.rows.setdefault((head, delta.output), {})[f"{a}-{b}"] = delta
    return report


def run(args) -> int:
    heads = args.heads
    if heads == "all":
        heads = [h.value for h in Head]
    else:
        heads = _parse_list(heads, [h.value for h in Head], "head(s)")
    config = AlbertConfig.from_pretrained(args.config) if args.config else None
    report = verify(
        args.path,
        backends=_parse_list(args.backends, BACKENDS, "backend(s)"),
        heads=heads,
        reference=args.reference,
        source_format=args.source_format,
        config=config,
        batch=args.batch,
        seq_len=args.seq_len,
        atol=args.atol,
        loss_rtol=args.loss_rtol,
    )
    print(report.render())
    sys.stdout.flush()
    return 0 if report.passed else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="run a checkpoint in every installed backend and compare their outputs",
        description="Load PATH into each backend, run the same inputs, print max |Δ| per output and pair "
        "of backends against the tolerances of DESIGN.md section 5; exit 1 if any is out of tolerance.",
    )
    parser.add_argument("path", help="checkpoint: a file, a folder, a TF1 prefix or a hub id")
    parser.add_argument("--backends", help=f"comma-separated, from {', '.join(BACKENDS)} (default: every installed one)")
    parser.add_argument("--heads", help="comma-separated heads, or 'all' (default: the head the checkpoint holds); "
                        f"from {', '.join(h.value for h in Head)}")
    parser.add_argument("--reference", choices=["hf"], help="add HF transformers' PyTorch ALBERT as a column")
    parser.add_argument("--from", dest="source_format", choices=list(FORMAT_NAMES), help="which checkpoint of a folder to read")
    parser.add_argument("--config", help="config.json to use instead of the one beside PATH")
    parser.add_argument("--batch", type=int, default=2, help="batch size of the test inputs (default 2)")
    parser.add_argument("--seq-len", type=int, help="sequence length of the test inputs (default 16)")
    parser.add_argument("--atol", type=float, default=OUTPUT_ATOL, help=f"max |Δ| allowed on output tensors (default {OUTPUT_ATOL:g})")
    parser.add_argument("--loss-rtol", type=float, default=LOSS_RTOL, help=f"relative loss tolerance (default {LOSS_RTOL:g})")
    parser.set_defaults(run=run)
