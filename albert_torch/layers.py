"""The ALBERT building blocks in PyTorch: embeddings, attention, layer, shared layer groups, encoder.

Module and parameter names are Hugging Face's (`embeddings.word_embeddings`,
`encoder.albert_layer_groups.{g}.albert_layers.{k}.attention.query`, ...), so a state dict of these
modules *is* the canonical state (see `weights.py`). Where this code differs from HF's PyTorch ALBERT
on purpose, the comment says so; the differences are listed in docs/torch.md.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from albert_core.config import AlbertConfig

from .onednn import OneDNNLinear

ATTN_IMPLEMENTATIONS = ("sdpa", "eager")
# Measured in benchmarks/bench_torch.py (docs/bench_torch.md): on the project's CPU the fused
# SDPA kernel is at least as fast as the matmul-softmax-matmul path, and it never materialises the
# [batch, heads, seq, seq] probabilities, so it is the default. `output_attentions` switches a call to
# the eager path, which returns real probabilities.
DEFAULT_ATTN_IMPLEMENTATION = "sdpa"


def _quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


def _tanh_gelu(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x, approximate="tanh")


# HF ACT2FN names → one fused kernel each. HF's "gelu_new"/"gelu_fast" are the tanh GELU written as
# six elementwise ops in Python; PyTorch's fused tanh GELU is the same function in one pass over
# memory (≤ 1 ulp-level difference), which on CPU saves a large share of the forward time.
ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": _tanh_gelu,
    "gelu_fast": _tanh_gelu,
    "gelu_pytorch_tanh": _tanh_gelu,
    "quick_gelu": _quick_gelu,
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
    "linear": lambda x: x,
}


def _dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    # Skipping the call entirely in eval (and at p=0) keeps it out of traced/exported graphs.
    return F.dropout(x, p, True) if training and p > 0 else x


class AlbertEmbeddings(nn.Module):
    """Word + token-type (+ absolute position) embeddings of width E, LayerNorm, dropout."""

    def __init__(self, config: AlbertConfig):
        super().__init__()
        # padding_idx: the pad row gets no gradient, as in HF PyTorch (and every backend here).
        self.word_embeddings = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.embedding_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.embedding_size)
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.dropout_prob = config.hidden_dropout_prob
        self.absolute_positions = config.position_embedding_type == "absolute"

    def forward(
        self,
        input_ids: Optional[torch.Tensor] = None,
        token_type_ids: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        inputs_embeds: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        seq_len = inputs_embeds.shape[1]
        # Defaults broadcast a single row instead of building [batch, seq] index tensors (HF keeps
        # registered buffers for this; no buffers means the model builds on the meta device).
        if token_type_ids is None:
            embeddings = inputs_embeds + self.token_type_embeddings.weight[0]
        else:
            embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
        if self.absolute_positions:
            if position_ids is None:
                embeddings = embeddings + self.position_embeddings.weight[:seq_len]
            else:
                embeddings = embeddings + self.position_embeddings(position_ids)
        embeddings = self.LayerNorm(embeddings)
        return _dropout(embeddings, self.dropout_prob, self.training)


class AlbertAttention(nn.Module):
    """Multi-head self-attention + output projection + residual LayerNorm (ALBERT's attention block).

    Two implementations of the same math, chosen per model (`attn_implementation`):
    "sdpa" calls F.scaled_dot_product_attention; "eager" spells out softmax(QKᵀ/√d + bias)·V and is
    used for any call that asks for the attention probabilities. Both take the padding mask and the
    relative-position scores as one additive bias, and `head_mask` as a per-head factor.
    """

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        hidden = config.hidden_size
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dense = nn.Linear(hidden, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.attention_dropout_prob = config.attention_probs_dropout_prob
        self.output_dropout_prob = config.hidden_dropout_prob
        self.position_embedding_type = config.position_embedding_type
        if self.position_embedding_type != "absolute":
            self.max_position_embeddings = config.max_position_embeddings
            self.distance_embedding = nn.Embedding(2 * config.max_position_embeddings - 1, self.head_dim)
        self.attn_implementation = attn_implementation

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = x.shape
        return x.view(batch, seq, self.num_heads, self.head_dim).transpose(1, 2)

    def _relative_scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """[batch, heads, seq, seq] scores from learned embeddings of the distance i - j (Shaw et al.)."""
        seq = query.shape[2]
        positions = torch.arange(seq, device=query.device)
        distance = positions[:, None] - positions[None, :] + (self.max_position_embeddings - 1)
        table = self.distance_embedding(distance).to(query.dtype)  # [seq, seq, head_dim]
        scores = torch.einsum("bhld,lrd->bhlr", query, table)
        if self.position_embedding_type == "relative_key_query":
            scores = scores + torch.einsum("bhrd,lrd->bhlr", key, table)
        return scores

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_bias: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        batch, seq, _ = hidden_states.shape
        query = self._split_heads(self.query(hidden_states))
        key = self._split_heads(self.key(hidden_states))
        value = self._split_heads(self.value(hidden_states))
        if self.position_embedding_type != "absolute":
            # Added after the 1/√d scaling, as HF and the original code do.
            relative = self._relative_scores(query, key)
            attention_bias = relative if attention_bias is None else attention_bias + relative
        dropout_p = self.attention_dropout_prob if self.training else 0.0

        probs = None
        if output_attentions or self.attn_implementation == "eager":
            scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.head_dim)
            if attention_bias is not None:
                scores = scores + attention_bias
            probs = torch.softmax(scores, dim=-1)
            probs = _dropout(probs, dropout_p, True)
            if head_mask is not None:
                probs = probs * head_mask.view(1, -1, 1, 1).to(probs.dtype)
            context = torch.matmul(probs, value)
        else:
            context = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_bias, dropout_p=dropout_p)
            if head_mask is not None:
                # Scaling head h's probabilities scales head h's context by the same factor.
                context = context * head_mask.view(1, -1, 1, 1).to(context.dtype)
        context = context.transpose(1, 2).reshape(batch, seq, self.num_heads * self.head_dim)
        projected = _dropout(self.dense(context), self.output_dropout_prob, self.training)
        return self.LayerNorm(hidden_states + projected), probs


class AlbertLayer(nn.Module):
    """One transformer layer: attention block, then FFN with a residual LayerNorm."""

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__()
        self.full_layer_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention = AlbertAttention(config, attn_implementation)
        self.ffn = nn.Linear(config.hidden_size, config.intermediate_size)
        self.ffn_output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.activation = ACTIVATIONS[config.hidden_act]
        self.hidden_act = config.hidden_act
        self.dropout_prob = config.hidden_dropout_prob

    def forward(self, hidden_states, attention_bias=None, head_mask=None, output_attentions=False):
        attention_output, probs = self.attention(hidden_states, attention_bias, head_mask, output_attentions)
        if isinstance(self.ffn, OneDNNLinear):  # the activation as oneDNN's post-op, where it can be
            intermediate = self.ffn.forward_activated(attention_output, self.activation, self.hidden_act)
        else:
            intermediate = self.activation(self.ffn(attention_output))
        ffn_output = self.ffn_output(intermediate)
        # The FFN output's dropout is in the original ALBERT and in HF's TF and Flax ports; HF's
        # PyTorch ALBERT omits it (it creates the Dropout and never calls it). Only train mode differs.
        ffn_output = _dropout(ffn_output, self.dropout_prob, self.training)
        return self.full_layer_layer_norm(ffn_output + attention_output), probs


class AlbertLayerGroup(nn.Module):
    """The K = inner_group_num layers that one group shares; a step runs them in order."""

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__()
        self.albert_layers = nn.ModuleList(
            [AlbertLayer(config, attn_implementation) for _ in range(config.inner_group_num)]
        )

    def forward(self, hidden_states, attention_bias=None, head_mask=None, output_attentions=False):
        attentions = []
        for layer in self.albert_layers:
            # The step's head_mask row applies to every inner layer (HF indexes it by inner layer).
            hidden_states, probs = layer(hidden_states, attention_bias, head_mask, output_attentions)
            if output_attentions:
                attentions.append(probs)
        return hidden_states, tuple(attentions)


class AlbertTransformer(nn.Module):
    """E→H projection, then L steps; step l runs layer group int(l·G/L) (cross-layer sharing)."""

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__()
        self.num_hidden_layers = config.num_hidden_layers
        self.group_of_step = [config.group_of_layer(step) for step in range(config.num_hidden_layers)]
        self.embedding_hidden_mapping_in = nn.Linear(config.embedding_size, config.hidden_size)
        self.albert_layer_groups = nn.ModuleList(
            [AlbertLayerGroup(config, attn_implementation) for _ in range(config.num_hidden_groups)]
        )
        self.gradient_checkpointing = False

    def forward(
        self,
        embeddings: torch.Tensor,
        attention_bias: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ):
        hidden_states = self.embedding_hidden_mapping_in(embeddings)
        all_hidden = [hidden_states] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        recompute = self.gradient_checkpointing and self.training and torch.is_grad_enabled()
        for step, group_index in enumerate(self.group_of_step):
            group = self.albert_layer_groups[group_index]
            row = None if head_mask is None else head_mask[step]
            if recompute:
                # Keep only each step's input; the step's activations are recomputed in backward.
                # The shared weights make this cheap in memory: L steps cost L hidden states.
                hidden_states, attentions = checkpoint(
                    group, hidden_states, attention_bias, row, output_attentions, use_reentrant=False
                )
            else:
                hidden_states, attentions = group(hidden_states, attention_bias, row, output_attentions)
            if output_hidden_states:
                all_hidden.append(hidden_states)
            if output_attentions:
                all_attentions.extend(attentions)
        return (
            hidden_states,
            tuple(all_hidden) if output_hidden_states else None,
            tuple(all_attentions) if output_attentions else None,
        )
