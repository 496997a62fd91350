"""albert_torch against HF transformers' PyTorch ALBERT, measured in one run.

1. Forward latency (eval, no grad, fp32) at --batch × --seq, albert-base-v2 shape, random weights
   shared by both models: HF sdpa, HF eager, ours sdpa, ours eager, timed in interleaved rounds
   (A B C D A B C D ...) so machine drift hits every row alike; median and best of --rounds.
   A plain GEMM at the FFN's shape, timed in the same process, gives the machine's FLOP/s ceiling.
2. Training-step peak memory at --train-batch × --train-seq (AlbertForMaskedLM, 15% of positions
   labelled, AdamW): one subprocess per row, peak RSS (VmHWM, reset before the step) minus the RSS after the model,
   batch and optimizer state were built ("post-load baseline"). Rows: HF sdpa, ours sdpa, ours + gradient checkpointing.

    USE_TF=0 USE_FLAX=0 MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
        python benchmarks/bench_torch.py --out docs/bench_torch.md

Every child inherits this process's environment, so both sides of each comparison run alike.
--tiny shrinks everything for a quick check of the script itself.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("USE_TF", "0")  # transformers would otherwise import TF and JAX (+550 MiB RSS)
os.environ.setdefault("USE_FLAX", "0")

import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FORWARD_ROWS = [("HF transformers sdpa", "hf", "sdpa"), ("HF transformers eager", "hf", "eager"),
                ("albert_torch sdpa (default)", "ours", "sdpa"), ("albert_torch eager", "ours", "eager")]
MEMORY_ROWS = {
    "hf-sdpa": "HF transformers sdpa",
    "ours-sdpa": "albert_torch sdpa (default)",
    "ours-sdpa-checkpointing": "albert_torch sdpa + gradient checkpointing",
}


def bench_config(tiny: bool):
    from albert_core.presets import preset_config

    config = preset_config("albert-base-v2")
    if tiny:
        config = config.replace(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128, vocab_size=1000)
    return config


def build(kind: str, attn: str, config, head: str = "AlbertModel", seed: int = 0):
    """One of the two implementations with weights from `seed` (HF's copied from ours)."""
    import albert_torch

    torch.manual_seed(seed)
    ours = getattr(albert_torch, head)(config, attn_implementation=attn)
    if kind == "ours":
        return ours
    import transformers

    theirs = getattr(transformers, head)(transformers.AlbertConfig(**config.to_dict(), attn_implementation=attn))
    prefix = "albert." if head == "AlbertModel" else ""
    theirs.load_state_dict({k[len(prefix) :]: torch.from_numpy(v) for k, v in ours.canonical_state().items()}, strict=False)
    theirs.tie_weights()
    return theirs


def forward_flops(config, batch: int, seq: int) -> float:
    """Multiply-adds × 2 of AlbertModel's forward (matmuls only; the rest is < 1%)."""
    h, e, i, steps = config.hidden_size, config.embedding_size, config.intermediate_size, config.num_hidden_layers
    tokens = batch * seq
    per_layer = 2 * tokens * (4 * h * h + 2 * h * i) + 2 * 2 * batch * seq * seq * h
    return 2 * tokens * e * h + steps * config.inner_group_num * per_layer + 2 * batch * h * h


def gemm_flops_per_s(config, batch: int, seq: int, repeats: int = 5) -> float:
    """Best FLOP/s of the FFN's [tokens, H] × [H, I] GEMM: the ceiling the forward can approach."""
    a = torch.randn(batch * seq, config.hidden_size)
    w = torch.randn(config.intermediate_size, config.hidden_size)
    torch.nn.functional.linear(a, w)
    best = min(_timed(lambda: torch.nn.functional.linear(a, w)) for _ in range(repeats))
    return 2 * batch * seq * config.hidden_size * config.intermediate_size / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_forward(args) -> dict:
    config = bench_config(args.tiny)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, config.vocab_size, (args.batch, args.seq), generator=g)
    mask = torch.ones(args.batch, args.seq, dtype=torch.long)
    models = [(label, build(kind, attn, config).eval()) for label, kind, attn in FORWARD_ROWS]
    times = {label: [] for label, _ in models}
    with torch.inference_mode():
        for _, model in models:  # warm-up: first-call allocations and kernel selection
            model(input_ids=ids, attention_mask=mask)
        for _ in range(args.rounds):
            for label, model in models:
                times[label].append(_timed(lambda: model(input_ids=ids, attention_mask=mask)))
    flops = forward_flops(config, args.batch, args.seq)
    gemm = gemm_flops_per_s(config, args.batch, args.seq)
    hf = statistics.median(times["HF transformers sdpa"])
    rows = []
    for label, values in times.items():
        median = statistics.median(values)
        rows.append(dict(label=label, median_ms=1e3 * median, best_ms=1e3 * min(values), gflops=flops / median / 1e9, speedup_vs_hf_sdpa=hf / median))
    return dict(rows=rows, forward_gflop=flops / 1e9, gemm_gflops=gemm / 1e9, floor_ms=1e3 * flops / gemm)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux ≥ 4.0), so the peak that
    follows belongs to the step alone, not to imports or model building before it."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _peak_rss_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def memory_child(args) -> None:
    """One training step in this process; prints a JSON line with the peak RSS increase."""
    kind, attn = ("hf", "sdpa") if args.memory_row == "hf-sdpa" else ("ours", "sdpa")
    config = bench_config(args.tiny)
    model = build(kind, attn, config, head="AlbertForMaskedLM").train()
    if args.memory_row.endswith("checkpointing"):
        model.gradient_checkpointing_enable()
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(5, config.vocab_size, (args.train_batch, args.train_seq), generator=g)
    labels = torch.where(torch.rand(ids.shape, generator=g) < 0.15, ids, torch.full_like(ids, -100))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step(ids, labels):
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    # A small warm-up step first: lazy imports and the AdamW state (the same for both sides) land
    # before the baseline, so the increase is the step's activations and gradients only.
    step(ids[:1, :8], labels[:1, :8])
    _reset_peak_rss()
    baseline = _rss_bytes()
    start = time.perf_counter()
    loss = step(ids, labels)
    seconds = time.perf_counter() - start
    peak = _peak_rss_bytes()
    print(json.dumps(dict(row=args.memory_row, baseline_mib=baseline / 2**20, peak_increase_mib=(peak - baseline) / 2**20, step_s=seconds, loss=loss.item())))


def run_memory(args) -> list[dict]:
    results = []
    for row in MEMORY_ROWS:
        cmd = [sys.executable, __file__, "--memory-row", row, "--train-batch", str(args.train_batch), "--train-seq", str(args.train_seq)]
        cmd += ["--tiny"] if args.tiny else []
        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode:
            raise RuntimeError(f"memory row {row} failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def report(args, forward: dict, memory: list[dict]) -> str:
    import transformers

    lines = [
        "# albert_torch vs HF transformers (PyTorch)",
        "",
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `benchmarks/bench_torch.py`"
        + (" --tiny (NOT the real shape)" if args.tiny else "") + ".",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), transformers {transformers.__version__}, Python {platform.python_version()}.",
        f"Environment: MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_', 'unset')}, "
        f"MALLOC_TRIM_THRESHOLD_={os.environ.get('MALLOC_TRIM_THRESHOLD_', 'unset')}, USE_TF=0, USE_FLAX=0.",
        "",
        f"## Forward, batch {args.batch} × seq {args.seq}, fp32, eval, no grad ({args.rounds} interleaved rounds)",
        "",
        f"Forward: {forward['forward_gflop']:.1f} GFLOP. Plain GEMM at the FFN shape in the same process: "
        f"{forward['gemm_gflops']:.0f} GFLOP/s, so the matmul floor is ≈ {forward['floor_ms']:.0f} ms.",
        "",
        "| implementation | median ms | best ms | GFLOP/s | speed-up vs HF sdpa |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in forward["rows"]:
        lines.append(f"| {row['label']} | {row['median_ms']:.1f} | {row['best_ms']:.1f} | {row['gflops']:.0f} | {row['speedup_vs_hf_sdpa']:.2f}× |")
    if not memory:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        f"## Training step peak memory, AlbertForMaskedLM, batch {args.train_batch} × seq {args.train_seq}, fp32, AdamW",
        "",
        "Peak RSS during one step (forward, backward, optimizer) minus the RSS just before it (model, batch and AdamW state built by a 1 × 8 warm-up step); one subprocess per row.",
        "",
        "| implementation | peak increase MiB | vs HF sdpa | step s |",
        "| --- | ---: | ---: | ---: |",
    ]
    hf = next(r for r in memory if r["row"] == "hf-sdpa")["peak_increase_mib"]
    for row in memory:
        lines.append(f"| {MEMORY_ROWS[row['row']]} | {row['peak_increase_mib']:.0f} | {row['peak_increase_mib'] / hf:.0%} | {row['step_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--train-seq", type=int, default=512)
    parser.add_argument("--tiny", action="store_true", help="small model and shapes: checks the script, measures nothing")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the markdown table here (atomically)")
    parser.add_argument("--memory-row", choices=list(MEMORY_ROWS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_row:
        memory_child(args)
        return
    forward = run_forward(args)
    memory = [] if args.skip_memory else run_memory(args)
    text = report(args, forward, memory)
    print(text)
    if args.out:
        from albert_core.atomic import atomic_write_text

        atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
