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


def compile_seconds(fn, *args) -> tuple[float, float, int]:
    """(trace + lower seconds, XLA compile seconds, program size in characters of StableHLO) of
    jax.jit(fn) on args, from cold caches."""
    jax.clear_caches()  # else a second measurement of the same function costs nothing
    start = time.perf_counter()
    lowered = jax.jit(fn).lower(*args)
    traced = time.perf_counter()
    lowered.compile()
    return traced - start, time.perf_counter() - traced, len(lowered.as_text())


def measure_compile(width_config, depths, batch: int, seq: int, rounds: int = 5) -> list[dict]:
    """Trace/lower and compile seconds of both models at each depth, best of `rounds` rounds.

    Rounds alternate the order of the (model, depth) pairs, so one-off warm-up costs (the first
    compile in a process pays for XLA's own initialisation) do not land on one side only.
    """
    cases = []
    for layers in depths:
        config = width_config.replace(num_hidden_layers=layers)
        ours = albert_flax.AlbertModel(config, seed=0)
        hf, params = hf_flax_model(config, ours.params)
        ids, mask = inputs_for(config, batch, seq)

        def ours_fn(p, i, m, ours=ours):
            return ours.apply(p, input_ids=i, attention_mask=m).last_hidden_state

        def hf_fn(p, i, m, hf=hf):
            return hf.module.apply({"params": p}, i, m, deterministic=True).last_hidden_state

        cases += [("albert_flax", layers, ours_fn, (params, ids, mask)), ("HF FlaxAlbertModel", layers, hf_fn, (params, ids, mask))]
    best: dict[tuple, dict] = {}
    for round_ in range(rounds):
        for name, layers, fn, args in cases if round_ % 2 == 0 else cases[::-1]:
            lower_s, compile_s, size = compile_seconds(fn, *args)
            print(f"  compile {name:20s} L={layers:3d}: trace+lower {lower_s:6.2f} s, XLA compile {compile_s:6.2f} s", flush=True)
            old = best.get((name, layers))
            if old is None or lower_s + compile_s < old["lower_s"] + old["compile_s"]:
                best[(name, layers)] = dict(model=name, layers=layers, lower_s=lower_s, compile_s=compile_s, size=size)
    return list(best.values())


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
    return dict(
        times=times,
        max_abs_delta=delta,
        flops=encoder_flops(config, batch, seq),
        gemm_flops=2 * tokens * h * config.intermediate_size,
    )


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
    if compile_rows:
        lines += _compile_table(compile_rows, args)
    if forward:
        lines += _forward_table(forward, args)
    return "\n".join(lines) + "\n"


def _compile_table(compile_rows, args) -> list[str]:
    lines = ["", f"### jit compile time, {args.shape_name}, batch {args.batch} x seq {args.seq} (best of 5 rounds)", ""]
    lines += [
        "| model | layers | trace + lower (s) | XLA compile (s) | total (s) | program (StableHLO chars) |",
        "|---|---|---|---|---|---|",
    ]
    for row in compile_rows:
        total = row["lower_s"] + row["compile_s"]
        lines.append(
            f"| {row['model']} | {row['layers']} | {row['lower_s']:.2f} | {row['compile_s']:.2f} | {total:.2f} | {row['size']:,} |"
        )
    lines.append("")
    for model in dict.fromkeys(row["model"] for row in compile_rows):
        rows = {row["layers"]: row for row in compile_rows if row["model"] == model}
        low, high = rows[min(rows)], rows[max(rows)]
        total_ratio = (high["lower_s"] + high["compile_s"]) / (low["lower_s"] + low["compile_s"])
        lines.append(
            f"- {model}: L={high['layers']} / L={low['layers']}: total {total_ratio:.2f}x, "
            f"XLA compile alone {high['compile_s'] / low['compile_s']:.2f}x"
        )
    return lines


def _forward_table(forward, args) -> list[str]:
    times = forward["times"]
    title = f"### Jitted forward, {args.shape_name}, batch {args.batch} x seq {args.seq}, fp32, {args.reps} interleaved calls"
    lines = ["", title, ""]
    lines += ["| | median (ms) | min (ms) | GFLOP/s (median) |", "|---|---|---|---|"]
    for name, values in times.items():
        flops = forward["gemm_flops"] if name == "GEMM" else forward["flops"]
        median = statistics.median(values)
        gemm_shape = f"[{args.batch * args.seq}x{args.hidden}]@[{args.hidden}x{args.intermediate}]"
        label = f"plain GEMM {gemm_shape}" if name == "GEMM" else name
        lines.append(f"| {label} | {median * 1e3:.1f} | {min(values) * 1e3:.1f} | {flops / median / 1e9:.0f} |")
    speedup = statistics.median(times["HF FlaxAlbertModel"]) / statistics.median(times["albert_flax"])
    lines += ["", f"- albert_flax is {speedup:.2f}x HF FlaxAlbertModel's speed (ratio of medians); "
              f"same weights, outputs differ by max |Δ| {forward['max_abs_delta']:.2g}."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--depths", default="12,48", help="num_hidden_layers values for the compile measurement")
    parser.add_argument("--tiny", action="store_true", help="a small width and few reps: a smoke run")
    parser.add_argument("--markdown", help="also write the report to this file")
    parser.add_argument("--only", choices=["compile", "forward"], help="run one of the two measurements")
    args = parser.parse_args(argv)

    config = preset_config("albert-base-v2")
    args.shape_name = "albert-base width (H 768, 12 heads, FFN 3072, E 128)"
    if args.tiny:
        config = config.replace(hidden_size=64, num_attention_heads=4, intermediate_size=128, vocab_size=1000)
        args.batch, args.seq, args.reps = 2, 16, 3
        args.shape_name = "tiny width (smoke run)"
    args.hidden, args.intermediate = config.hidden_size, config.intermediate_size
    depths = [int(d) for d in args.depths.split(",")]
    env = environment()
    print(*(f"{k}: {v}" for k, v in env.items()), sep="\n", flush=True)
    compile_rows, forward = [], None
    if args.only != "forward":
        print("compile times ...", flush=True)
        compile_rows = measure_compile(config, depths, args.batch, args.seq)
    if args.only != "compile":
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
