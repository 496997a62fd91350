"""albert_flax against HF transformers' FlaxAlbertModel, in one process, interleaved.

Two measurements (issue 7):
1. jit compile time of the encoder at num_hidden_layers 12 and 48, same width: albert_flax runs
   the shared layer under nn.scan, HF's Flax model unrolls its layers.
2. Jitted forward time at albert-base shape (default batch 8 x seq 128, fp32), the two models
   timed in alternation on the same weights (HF's Flax parameter tree is the same as ours), with a
   plain GEMM of the encoder's shapes as the machine's reference rate.

    python benchmarks/bench_flax.py                       # the full measurement (minutes)
    python benchmarks/bench_flax.py --tiny                # a seconds-long smoke run
    python benchmarks/bench_flax.py --markdown out.md     # also write the tables as markdown

Needs jax, flax and transformers (its Flax ALBERT). Machine drift is large on shared CPUs: only
compare numbers from the same run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("USE_TORCH", "0")
os.environ.setdefault("USE_TF", "0")

import jax
import jax.numpy as jnp
import numpy as np

import albert_flax
from albert_core.presets import preset_config


def hf_flax_model(config, params):
    """HF's FlaxAlbertModel on the same config and weights (its parameter tree is ours)."""
    import transformers

    hf = transformers.FlaxAlbertModel(transformers.AlbertConfig(**config.to_dict()), _do_init=False)
    return hf, params


def encoder_flops(config, batch: int, seq: int) -> float:
    """Multiply-add FLOPs (2 per MAC) of the encoder forward: projections, attention, FFN, pooler."""
    h, i, e, layers = config.hidden_size, config.intermediate_size, config.embedding_size, config.num_hidden_layers
    tokens = batch * seq
    per_layer = 2 * tokens * (4 * h * h + 2 * h * i) + 2 * 2 * batch * seq * seq * h
    return 2 * tokens * e * h + layers * config.inner_group_num * per_layer + 2 * batch * h * h


def inputs_for(config, batch: int, seq: int):
    rng = np.random.default_rng(0)
    ids = rng.integers(5, config.vocab_size, (batch, seq)).astype(np.int32)
    mask = np.ones((batch, seq), np.int32)
    mask[batch // 2:, seq - seq // 4:] = 0  # some padding, as real batches have
    return jnp.asarray(ids), jnp.asarray(mask)


def compile_seconds(fn, *args) -> tuple[float, float]:
    """(trace + lower seconds, XLA compile seconds) of jax.jit(fn) on args."""
    start = time.perf_counter()
    lowered = jax.jit(fn).lower(*args)
    traced = time.perf_counter()
    lowered.compile()
    return traced - start, time.perf_counter() - traced


def measure_compile(width_config, depths, batch: int, seq: int) -> list[dict]:
    rows = []
    for layers in depths:
        config = width_config.replace(num_hidden_layers=layers)
        ours = albert_flax.AlbertModel(config, seed=0)
        hf, params = hf_flax_model(config, ours.params)
        ids, mask = inputs_for(config, batch, seq)

        def ours_fn(p, i, m):
            return ours.apply(p, input_ids=i, attention_mask=m).last_hidden_state

        def hf_fn(p, i, m):
            return hf.module.apply({"params": p}, i, m, deterministic=True).last_hidden_state

        for name, fn in (("albert_flax", ours_fn), ("HF FlaxAlbertModel", hf_fn)):
            lower_s, compile_s = compile_seconds(fn, params, ids, mask)
            rows.append(dict(model=name, layers=layers, lower_s=lower_s, compile_s=compile_s))
            print(f"  compile {name:20s} L={layers:3d}: trace+lower {lower_s:6.2f} s, XLA compile {compile_s:6.2f} s", flush=True)
    return rows


def time_interleaved(fns: dict, reps: int, warmup: int = 2) -> dict[str, list[float]]:
    """Per-call seconds of each jitted function, called in alternation (drift hits all alike)."""
    for fn in fns.values():
        for _ in range(warmup):
            jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return times


def measure_forward(config, batch: int, seq: int, reps: int) -> dict:
    ours = albert_flax.AlbertModel(config, seed=0)
    hf, params = hf_flax_model(config, ours.params)
    ids, mask = inputs_for(config, batch, seq)
    ours_jit = jax.jit(lambda p, i, m: ours.apply(p, input_ids=i, attention_mask=m).last_hidden_state)
    hf_jit = jax.jit(lambda p, i, m: hf.module.apply({"params": p}, i, m, deterministic=True).last_hidden_state)
    delta = float(jnp.abs(ours_jit(params, ids, mask) - hf_jit(params, ids, mask)).max())

    tokens, h = batch * seq, config.hidden_size
    x = jnp.asarray(np.random.default_rng(1).normal(size=(tokens, h)), jnp.float32)
    w = jnp.asarray(np.random.default_rng(2).normal(size=(h, config.intermediate_size)), jnp.float32)
    gemm = jax.jit(lambda a, b: a @ b)
    times = time_interleaved(
        {
            "albert_flax": lambda: ours_jit(params, ids, mask),
            "HF FlaxAlbertModel": lambda: hf_jit(params, ids, mask),
            "GEMM": lambda: gemm(x, w),
        },
        reps,
    )
    return dict(times=times, max_abs_delta=delta, flops=encoder_flops(config, batch, seq), gemm_flops=2 * tokens * h * config.intermediate_size)


def environment() -> dict:
    import flax
    import transformers

    return {
        "date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {jax.devices()[0].device_kind}",
        "python": platform.python_version(),
        "jax / jaxlib": f"{jax.__version__} / {jax.lib.__version__ if hasattr(jax.lib, '__version__') else 'n/a'}",
        "flax": flax.__version__,
        "transformers": transformers.__version__,
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", "(unset)"),
    }


def report(env, compile_rows, forward, args) -> str:
    lines = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in env.items()]
    lines += ["", f"### Compile time, albert-base width, batch {args.batch} x seq {args.seq}", ""]
    lines += ["| model | layers | trace + lower (s) | XLA compile (s) | total (s) |", "|---|---|---|---|---|"]
    for row in compile_rows:
        total = row["lower_s"] + row["compile_s"]
        lines.append(f"| {row['model']} | {row['layers']} | {row['lower_s']:.2f} | {row['compile_s']:.2f} | {total:.2f} |")
    lines.append("")
    for model in dict.fromkeys(row["model"] for row in compile_rows):
        totals = {row["layers"]: row["lower_s"] + row["compile_s"] for row in compile_rows if row["model"] == model}
        depths = sorted(totals)
        lines.append(f"- {model}: L={depths[-1]} / L={depths[0]} total = {totals[depths[-1]] / totals[depths[0]]:.2f}x")
    times = forward["times"]
    lines += ["", f"### Jitted forward, albert-base, batch {args.batch} x seq {args.seq}, fp32, {args.reps} interleaved calls", ""]
    lines += ["| | median (ms) | min (ms) | GFLOP/s (median) |", "|---|---|---|---|"]
    for name, values in times.items():
        flops = forward["gemm_flops"] if name == "GEMM" else forward["flops"]
        median = statistics.median(values)
        label = f"plain GEMM [{args.batch * args.seq}x768]@[768x3072]" if name == "GEMM" else name
        lines.append(f"| {label} | {median * 1e3:.1f} | {min(values) * 1e3:.1f} | {flops / median / 1e9:.0f} |")
    speedup = statistics.median(times["HF FlaxAlbertModel"]) / statistics.median(times["albert_flax"])
    lines += ["", f"- albert_flax is {speedup:.2f}x HF FlaxAlbertModel's speed (ratio of medians); "
              f"same weights, outputs differ by max |Δ| {forward['max_abs_delta']:.2g}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--depths", default="12,48", help="num_hidden_layers values for the compile measurement")
    parser.add_argument("--tiny", action="store_true", help="a small width and few reps: a smoke run")
    parser.add_argument("--markdown", help="also write the report to this file")
    args = parser.parse_args(argv)

    config = preset_config("albert-base-v2")
    if args.tiny:
        config = config.replace(hidden_size=64, num_attention_heads=4, intermediate_size=128, vocab_size=1000)
        args.batch, args.seq, args.reps = 2, 16, 3
    depths = [int(d) for d in args.depths.split(",")]
    env = environment()
    print(*(f"{k}: {v}" for k, v in env.items()), sep="\n", flush=True)
    print("compile times ...", flush=True)
    compile_rows = measure_compile(config, depths, args.batch, args.seq)
    print("forward times ...", flush=True)
    forward = measure_forward(config, args.batch, args.seq, args.reps)
    text = report(env, compile_rows, forward, args)
    print(text)
    if args.markdown:
        from albert_core.atomic import atomic_write_text

        atomic_write_text(args.markdown, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
