"""The matrix products of ALBERT's forward and training step: FLOPs and each row's GEMM floor.

A row's floor is the time its own framework, in the row's own process and precision, takes to run
just these products (`Gemm` shapes × counts) back to back: what the row would cost if everything
else (softmax, GELU, LayerNorm, copies, the optimizer) were free. The shapes are the model's
canonical ones (separate Q, K, V projections, as HF and the checkpoints have them); an
implementation that fuses them does the same FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import AlbertConfig


@dataclass(frozen=True)
class Gemm:
    """`count` products of [batch, m, k] @ [batch, k, n] (batch 1: a plain GEMM)."""

    name: str
    m: int
    k: int
    n: int
    batch: int = 1
    count: int = 1

    @property
    def flops(self) -> int:
        return 2 * self.batch * self.m * self.k * self.n * self.count

    def backward(self) -> list["Gemm"]:
        """The two products of its gradient: d(input) = dY @ W^T and d(weight) = X^T @ dY."""
        return [
            Gemm(f"{self.name} dgrad", self.m, self.n, self.k, self.batch, self.count),
            Gemm(f"{self.name} wgrad", self.k, self.m, self.n, self.batch, self.count),
        ]


def forward_gemms(config: AlbertConfig, batch: int, seq: int) -> list[Gemm]:
    """AlbertModel's forward (embedding projection, every layer step, pooler)."""
    tokens, h, e, i = batch * seq, config.hidden_size, config.embedding_size, config.intermediate_size
    heads = config.num_attention_heads
    head_dim = h // heads
    steps = config.num_hidden_layers * config.inner_group_num
    return [
        Gemm("embedding projection", tokens, e, h),
        Gemm("q/k/v projections", tokens, h, h, count=3 * steps),
        Gemm("attention scores q·k", seq, head_dim, seq, batch=batch * heads, count=steps),
        Gemm("attention context p·v", seq, seq, head_dim, batch=batch * heads, count=steps),
        Gemm("attention output", tokens, h, h, count=steps),
        Gemm("ffn in", tokens, h, i, count=steps),
        Gemm("ffn out", tokens, i, h, count=steps),
        Gemm("pooler", batch, h, h),
    ]


def training_gemms(config: AlbertConfig, batch: int, seq: int) -> list[Gemm]:
    """AlbertForMaskedLM's step: the encoder (no pooler) and MLM head over every position, forward
    and backward (the backward of the embedding projection's input is not needed: ids have no gradient)."""
    tokens, h, e, v = batch * seq, config.hidden_size, config.embedding_size, config.vocab_size
    encoder = [g for g in forward_gemms(config, batch, seq) if g.name != "pooler"]
    head = [Gemm("mlm dense", tokens, h, e), Gemm("mlm decoder", tokens, e, v)]
    forward = encoder + head
    backward = [b for g in forward for b in g.backward() if b.name != "embedding projection dgrad"]
    return forward + backward


def gemms_for(suite: str, config: AlbertConfig, batch: int, seq: int) -> list[Gemm]:
    return forward_gemms(config, batch, seq) if suite == "inference" else training_gemms(config, batch, seq)


def total_flops(gemms: list[Gemm]) -> int:
    return sum(g.flops for g in gemms)


def distinct_products(gemms: list[Gemm]) -> dict[tuple[int, int, int, int], int]:
    """{(batch, m, k, n): total count}: a floor times each distinct shape once and weighs it by its count."""
    counts: dict[tuple[int, int, int, int], int] = {}
    for g in gemms:
        key = (g.batch, g.m, g.k, g.n)
        counts[key] = counts.get(key, 0) + g.count
    return counts
