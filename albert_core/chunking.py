"""The feed-forward block over chunks of tokens: the chunk size the XLA backends use on CPU, and
when a chunk loop applies. One rule for albert_flax and albert_tf (albert_torch does not chunk).

On XLA CPU, above about a thousand tokens the FFN's [tokens, intermediate_size] activation no longer
fits in the cache, so the GELU and the second product read it back from memory; 1,024 tokens at a
time keep it there (albert-base, 2-core AMD EPYC, 2026-12-04: the FFN at 8,192 tokens 228 -> 168 ms,
at 1,024 tokens 22 ms either way; docs/benchmarks.md).
"""

from __future__ import annotations

CPU_FFN_CHUNK_TOKENS = 1024


def ffn_chunk_size(chunk: int, tokens: int) -> int:
    """`chunk` when a loop over chunks of that many tokens applies to `tokens` tokens, else 0 (all
    tokens at once: chunking off, or one chunk would hold them all)."""
    if chunk < 0:
        raise ValueError(f"ffn_chunk_tokens must be >= 0 (0: no chunking), got {chunk}")
    return chunk if 0 < chunk < tokens else 0
