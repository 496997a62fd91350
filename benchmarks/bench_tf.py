"""albert_tf against HF transformers' TFAlbertModel, measured interleaved in one run.

1. Forward latency (fp32, inference) at --batch × --seq, albert-base-v2 shape, random weights:
   HF's plain model call (eager Keras 2, the reference of the acceptance target), HF's call under
   tf.function(jit_compile=True) (for information), our plain call (eager), and our
   `predict_on_batch` (XLA-compiled; the call the README shows). Timed in interleaved rounds
   (A B C D A B C D ...) so machine drift hits every row alike; median and best of --rounds.
   Each round also records the process CPU time the call used (all threads): on a machine shared
   with other jobs, wall time mostly measures the others, CPU time the work itself.
   A plain XLA GEMM at the FFN's shape, timed in the same process, gives the FLOP/s ceiling.
2. Training step (AlbertForMaskedLM, 15% of positions labelled, Adam, fp32) at --train-batch ×
   --train-seq: HF's `train_on_batch` (tf_keras compiled step, graph mode: its default) and ours
   (Keras 3 compiled step, XLA: our default), interleaved; the first (compiling) step is not timed.

    USE_TORCH=0 USE_FLAX=0 TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/bench_tf.py --out docs/bench_tf.md

The two implementations hold different random weights (the timing does not depend on the values).
--tiny shrinks everything for a quick check of the script itself.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("USE_TORCH", "0")  # transformers' TF classes only
os.environ.setdefault("USE_FLAX", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HF_EAGER = "HF TFAlbertModel, plain call (eager)"
README_ROW = "albert_tf predict_on_batch (XLA, the README call)"


def bench_config(tiny: bool):
    from albert_core.presets import preset_config

    config = preset_config("albert-base-v2")
    if tiny:
        config = config.replace(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128, vocab_size=1000)
    return config


def hf_config(config):
    import transformers

    return transformers.AlbertConfig(**config.to_dict())


def forward_flops(config, batch: int, seq: int) -> float:
    """Multiply-adds × 2 of AlbertModel's forward (matmuls only; the rest is < 1%)."""
    h, e, i, steps = config.hidden_size, config.embedding_size, config.intermediate_size, config.num_hidden_layers
    tokens = batch * seq
    per_layer = 2 * tokens * (4 * h * h + 2 * h * i) + 2 * 2 * batch * seq * seq * h
    return 2 * tokens * e * h + steps * config.inner_group_num * per_layer + 2 * batch * h * h


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed_with_cpu(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds over all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def gemm_flops_per_s(config, batch: int, seq: int, repeats: int = 5) -> float:
    """Best FLOP/s of the FFN's [tokens, H] × [H, I] GEMM under XLA: the ceiling the forward can approach."""
    a = tf.random.normal((batch * seq, config.hidden_size))
    w = tf.random.normal((config.hidden_size, config.intermediate_size))
    gemm = tf.function(lambda a, w: tf.matmul(a, w), jit_compile=True)
    gemm(a, w).numpy()
    best = min(_timed(lambda: gemm(a, w).numpy()) for _ in range(repeats))
    return 2 * batch * seq * config.hidden_size * config.intermediate_size / best


def interleaved(rows: dict, rounds: int) -> dict:
    """{label: [(wall s, CPU s) per round]}, each row run once per round, in order, after a warm-up call."""
    for fn in rows.values():
        fn()
    times = {label: [] for label in rows}
    for _ in range(rounds):
        for label, fn in rows.items():
            times[label].append(_timed_with_cpu(fn))
    return times


def summarise(times: dict, reference: str, flops: float | None = None) -> list[dict]:
    """Median / best wall time, median CPU time and the speed-ups (wall and CPU) over `reference`."""
    wall = {label: [w for w, _ in v] for label, v in times.items()}
    cpu = {label: [c for _, c in v] for label, v in times.items()}
    ref_wall, ref_cpu = statistics.median(wall[reference]), statistics.median(cpu[reference])
    rows = []
    for label in times:
        median, cpu_median = statistics.median(wall[label]), statistics.median(cpu[label])
        row = dict(label=label, median_ms=1e3 * median, best_ms=1e3 * min(wall[label]), cpu_ms=1e3 * cpu_median)
        row.update(speedup=ref_wall / median, cpu_speedup=ref_cpu / cpu_median)
        if flops:
            row["gflops"] = flops / median / 1e9
        rows.append(row)
    return rows


def run_forward(args) -> dict:
    import transformers

    import albert_tf

    config = bench_config(args.tiny)
    rng = np.random.default_rng(1)
    ids = rng.integers(5, config.vocab_size, (args.batch, args.seq)).astype("int32")
    mask = np.ones_like(ids)
    batch = {"input_ids": ids, "attention_mask": mask}
    hf = transformers.TFAlbertModel(hf_config(config))
    hf_xla = tf.function(lambda ids, mask: hf(input_ids=ids, attention_mask=mask, training=False).last_hidden_state, jit_compile=True)
    ours = albert_tf.AlbertModel(config)
    rows = {
        HF_EAGER: lambda: hf(input_ids=ids, attention_mask=mask, training=False).last_hidden_state.numpy(),
        "HF TFAlbertModel, tf.function(jit_compile=True)": lambda: hf_xla(ids, mask).numpy(),
        "albert_tf AlbertModel, plain call (eager)": lambda: ours(batch)["last_hidden_state"].numpy(),
        README_ROW: lambda: ours.predict_on_batch(batch)["last_hidden_state"],
    }
    times = interleaved(rows, args.rounds)
    flops = forward_flops(config, args.batch, args.seq)
    gemm = gemm_flops_per_s(config, args.batch, args.seq)
    return dict(rows=summarise(times, HF_EAGER, flops), forward_gflop=flops / 1e9, gemm_gflops=gemm / 1e9, floor_ms=1e3 * flops / gemm)


def mlm_batch(config, batch: int, seq: int) -> dict:
    rng = np.random.default_rng(2)
    ids = rng.integers(5, config.vocab_size, (batch, seq)).astype("int32")
    labels = np.where(rng.random(ids.shape) < 0.15, ids, -100).astype("int32")
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "labels": labels}


def run_training(args) -> dict:
    import keras
    import tf_keras
    import transformers

    import albert_tf

    config = bench_config(args.tiny)
    data = mlm_batch(config, args.train_batch, args.train_seq)
    hf = transformers.TFAlbertForMaskedLM(hf_config(config))
    hf.compile(optimizer=tf_keras.optimizers.Adam(1e-5))
    ours = albert_tf.AlbertForMaskedLM(config)
    ours.compile(optimizer=keras.optimizers.Adam(1e-5))
    x = {k: v for k, v in data.items() if k != "labels"}
    hf_row = "HF TFAlbertForMaskedLM train_on_batch (tf_keras, graph)"
    rows = {
        hf_row: lambda: hf.train_on_batch(data),
        "albert_tf AlbertForMaskedLM train_on_batch (XLA)": lambda: ours.train_on_batch(x, data["labels"]),
    }
    return dict(rows=summarise(interleaved(rows, args.train_rounds), hf_row))


def report(args, forward: dict, training: dict | None) -> str:
    import keras
    import transformers

    lines = [
        "# albert_tf vs HF transformers (TensorFlow)",
        "",
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `benchmarks/bench_tf.py`"
        + (" --tiny (NOT the real shape)" if args.tiny else "")
        + ".",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; TensorFlow {tf.__version__} (CPU), "
        f"Keras {keras.__version__} (ours), tf_keras (HF's), transformers {transformers.__version__}, Python {platform.python_version()}.",
        f"Load average (1 min) at the start / end of the run: {args.load_before:.1f} / {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} cores"
        + (" (above the core count, other jobs shared the machine: trust the CPU columns more)." if max(args.load_before, os.getloadavg()[0]) > os.cpu_count() else "."),
        "",
        f"## Forward, batch {args.batch} × seq {args.seq}, fp32, inference ({args.rounds} interleaved rounds)",
        "",
        f"Forward: {forward['forward_gflop']:.1f} GFLOP. Plain XLA GEMM at the FFN shape in the same process: "
        f"{forward['gemm_gflops']:.0f} GFLOP/s, so the matmul floor is ≈ {forward['floor_ms']:.0f} ms.",
        "",
        "| implementation | median ms | best ms | GFLOP/s (median) | CPU ms (median) | speed-up vs HF plain call: wall | : CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in forward["rows"]:
        lines.append(
            f"| {row['label']} | {row['median_ms']:.0f} | {row['best_ms']:.0f} | {row['gflops']:.0f} | {row['cpu_ms']:.0f} "
            f"| {row['speedup']:.2f}× | {row['cpu_speedup']:.2f}× |"
        )
    if training:
        lines += [
            "",
            f"## Training step, AlbertForMaskedLM, batch {args.train_batch} × seq {args.train_seq}, fp32, Adam ({args.train_rounds} interleaved rounds)",
            "",
            "| implementation | median ms | best ms | CPU ms (median) | speed-up vs HF: wall | : CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in training["rows"]:
            lines.append(
                f"| {row['label']} | {row['median_ms']:.0f} | {row['best_ms']:.0f} | {row['cpu_ms']:.0f} | {row['speedup']:.2f}× | {row['cpu_speedup']:.2f}× |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--train-seq", type=int, default=128)
    parser.add_argument("--train-rounds", type=int, default=5)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="small model and shapes: checks the script, measures nothing")
    parser.add_argument("--out", type=Path, help="also write the markdown table here (atomically)")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args(argv)
    args.load_before = os.getloadavg()[0]
    forward = run_forward(args)
    training = None if args.skip_training else run_training(args)
    text = report(args, forward, training)
    print(text)
    if args.out:
        from albert_core.atomic import atomic_write_text

        atomic_write_text(args.out, text)
    if args.json:
        from albert_core.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(dict(forward=forward, training=training), indent=2))


if __name__ == "__main__":
    main()
