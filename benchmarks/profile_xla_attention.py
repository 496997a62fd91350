"""Where one albert-base layer step's time goes under XLA on CPU, part by part (JAX).

Times, as separate jitted programs at the row's shape (default batch 8 x seq 128, fp32):
- the products of one layer step: q/k/v/output projections, FFN in and out;
- the FFN's activation on top of its first product (gelu_new, as albert-base);
- the attention core the way albert_flax runs it on CPU (a lax.map over examples of
  [heads, seq, head_dim] products and a softmax), and the same loop with the products alone;
- residual add + LayerNorm;
and then the two attention products ([batch x heads] batched matmuls) against a plain product, each in
a child process pinned to one core: a product whose time does not change on one core ran on one core.

    python benchmarks/profile_xla_attention.py                  # batch 8 x seq 128
    python benchmarks/profile_xla_attention.py --batch 8 --seq 512

Only jax is needed. Shared-machine noise is a few percent: compare numbers from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HIDDEN, HEADS, HEAD_DIM, FFN = 768, 12, 64, 3072


def median_ms(fn, *args, reps: int) -> float:
    import jax

    compiled = jax.jit(fn)
    jax.block_until_ready(compiled(*args))
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def layer_parts(batch: int, seq: int, reps: int) -> dict[str, float]:
    """ms of each part of one layer step, each timed alone."""
    import jax
    import jax.numpy as jnp

    keys = iter(jax.random.split(jax.random.PRNGKey(0), 8))
    normal = lambda *shape: jax.random.normal(next(keys), shape)  # noqa: E731
    tokens = normal(batch * seq, HIDDEN)
    square, ffn_in, ffn_out = normal(HIDDEN, HIDDEN) * 0.02, normal(HIDDEN, FFN) * 0.02, normal(FFN, HIDDEN) * 0.02
    activation = normal(batch * seq, FFN)
    qkv = normal(batch, seq, HIDDEN)

    def split_heads(x):  # [seq, hidden] -> [heads, seq, head_dim]
        return x.reshape(seq, HEADS, HEAD_DIM).transpose(1, 0, 2)

    def attention_loop(q, k, v, softmax=True):
        def one_example(example):
            q, k, v = (split_heads(x) for x in example)
            scores = jnp.matmul(q, k.swapaxes(-1, -2)) / HEAD_DIM**0.5
            probs = jax.nn.softmax(scores, axis=-1) if softmax else scores
            return jnp.matmul(probs, v).transpose(1, 0, 2).reshape(seq, HIDDEN)

        return jax.lax.map(one_example, (q, k, v))

    def add_layer_norm(a, b):
        x = a + b
        mean = x.mean(-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(((x - mean) ** 2).mean(-1, keepdims=True) + 1e-12)

    projection = median_ms(lambda x, w: x @ w, tokens, square, reps=reps)
    first = median_ms(lambda x, w: x @ w, tokens, ffn_in, reps=reps)
    return {
        "4 projections (q, k, v, output)": 4 * projection,
        "FFN in": first,
        "FFN in + gelu_new, extra": median_ms(lambda x, w: jax.nn.gelu(x @ w, approximate=True), tokens, ffn_in, reps=reps) - first,
        "FFN out": median_ms(lambda x, w: x @ w, activation, ffn_out, reps=reps),
        "attention core (loop over examples)": median_ms(attention_loop, qkv, qkv, qkv, reps=reps),
        "  of which its two products": median_ms(lambda q, k, v: attention_loop(q, k, v, softmax=False), qkv, qkv, qkv, reps=reps),
        "2 x (residual add + LayerNorm)": 2 * median_ms(add_layer_norm, tokens.reshape(batch, seq, HIDDEN), qkv, reps=reps),
    }


def product_times(batch: int, seq: int, reps: int) -> dict[str, float]:
    """ms of the attention's batched products and of a plain projection-sized product."""
    import jax
    import jax.numpy as jnp

    keys = iter(jax.random.split(jax.random.PRNGKey(1), 4))
    heads = jax.random.normal(next(keys), (batch * HEADS, seq, HEAD_DIM))
    probs = jax.random.normal(next(keys), (batch * HEADS, seq, seq))
    tokens = jax.random.normal(next(keys), (batch * seq, HIDDEN))
    square = jax.random.normal(next(keys), (HIDDEN, HIDDEN))
    return {
        f"scores q.k [{batch * HEADS}, {seq}, {HEAD_DIM}] x [.., {HEAD_DIM}, {seq}]": median_ms(
            lambda q, k: jnp.matmul(q, k.swapaxes(-1, -2)), heads, heads, reps=reps
        ),
        f"context p.v [{batch * HEADS}, {seq}, {seq}] x [.., {seq}, {HEAD_DIM}]": median_ms(jnp.matmul, probs, heads, reps=reps),
        f"projection [{batch * seq}, {HIDDEN}] x [{HIDDEN}, {HIDDEN}]": median_ms(jnp.matmul, tokens, square, reps=reps),
    }


def products_in_child(batch: int, seq: int, reps: int, one_core: bool) -> dict[str, float]:
    """product_times in a fresh process (pinned to one core before jax starts its threads)."""
    command = [sys.executable, __file__, "--products-only", f"--batch={batch}", f"--seq={seq}", f"--reps={reps}"]
    if one_core:
        command.append("--one-core")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--products-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-core", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.products_only:  # the child: print one JSON line
        if args.one_core:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        print(json.dumps(product_times(args.batch, args.seq, args.reps)))
        return

    import jax

    print(f"jax {jax.__version__}, {os.cpu_count()} CPUs, XLA_FLAGS={os.environ.get('XLA_FLAGS', '(unset)')}")
    print(f"\nOne layer step at batch {args.batch} x seq {args.seq}, fp32, each part jitted alone (median ms):")
    parts = layer_parts(args.batch, args.seq, args.reps)
    for name, ms in parts.items():
        print(f"  {name:40s} {ms:8.2f}")
    total = sum(ms for name, ms in parts.items() if not name.startswith(" "))
    print(f"  {'sum':40s} {total:8.2f}   (x 12 layer steps: {12 * total:.0f} ms)")

    print("\nThe products on every core vs pinned to one core (median ms, fresh process each):")
    all_cores = products_in_child(args.batch, args.seq, args.reps, one_core=False)
    one_core = products_in_child(args.batch, args.seq, args.reps, one_core=True)
    for name in all_cores:
        print(f"  {name:56s} {all_cores[name]:7.3f} vs {one_core[name]:7.3f}   ({one_core[name] / all_cores[name]:.2f}x on one core)")


if __name__ == "__main__":
    main()
