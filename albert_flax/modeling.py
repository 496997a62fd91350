"""The ALBERT encoder as Flax linen modules: embeddings -> E->H projection -> shared layers -> pooler.

The module tree and parameter names are Hugging Face PyTorch's, so the parameter tree reads like
the canonical checkpoint names (`encoder/albert_layer_groups/0/albert_layers/0/attention/query/kernel`
is `albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight`, transposed).

Layer sharing is what makes ALBERT ALBERT: the num_hidden_layers steps reuse num_hidden_groups
groups of inner_group_num layers. Each group's steps are contiguous (step l runs group
int(l * G / L)), so each group runs as one `nn.scan` over its steps with its parameters broadcast
(not stacked): the compiled program holds each group's layers once, and compile time and program
size do not grow with num_hidden_layers. `remat=True` recomputes each step's activations in the
backward pass instead of storing them.

Compute runs in `dtype` (e.g. bfloat16) while parameters stay in `param_dtype` (float32); the
softmax and the LayerNorm statistics run in float32 whatever `dtype` is.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from albert_core.chunking import CPU_FFN_CHUNK_TOKENS, ffn_chunk_size
from albert_core.config import AlbertConfig
from albert_core.inputs import check_model_inputs

from .activations import activation
from .outputs import AlbertModelOutput

Dtype = Any
Array = jax.Array


def normal_init(config: AlbertConfig):
    """HF's initialisation for Linear weights and embeddings: N(0, initializer_range)."""
    return nn.initializers.normal(stddev=config.initializer_range)


def word_embedding_init(config: AlbertConfig):
    """N(0, initializer_range) with the pad_token_id row zeroed, as HF's nn.Embedding(padding_idx)."""
    normal = normal_init(config)

    def init(key, shape, dtype=jnp.float32):
        table = normal(key, shape, dtype)
        if config.pad_token_id is not None:
            table = table.at[config.pad_token_id].set(0)
        return table

    return init


class AlbertSettings(nn.Module):
    """The attributes every ALBERT module shares, and factories for its building blocks."""

    config: AlbertConfig
    dtype: Dtype = jnp.float32  # compute dtype
    param_dtype: Dtype = jnp.float32
    precision: Any = None  # jax.lax.Precision for every matmul; "highest" for exact fp32 on GPU/TPU
    remat: bool = False  # recompute each encoder step in the backward pass (less memory)
    scan_unroll: int = 1  # encoder steps unrolled per scan iteration (speed vs program size)
    attention_per_example: Optional[bool] = None  # attention core in a loop over examples; None: on CPU
    ffn_chunk_tokens: Optional[int] = None  # feed-forward over this many tokens at a time; None: 1024 on CPU, 0: all

    def settings(self) -> dict:
        """These attributes, to pass on to submodules."""
        return dict(
            config=self.config,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            precision=self.precision,
            remat=self.remat,
            scan_unroll=self.scan_unroll,
            attention_per_example=self.attention_per_example,
            ffn_chunk_tokens=self.ffn_chunk_tokens,
        )

    def dense_factory(self):
        """nn.Dense with this module's dtypes, precision and HF's N(0, initializer_range) kernels."""
        return functools.partial(
            nn.Dense,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            precision=self.precision,
            kernel_init=normal_init(self.config),
        )

    def layer_norm(self, name: str, epsilon: Optional[float] = None) -> nn.LayerNorm:
        # Two-pass variance (use_fast_variance=False), as PyTorch computes it: E[x^2] - E[x]^2
        # loses digits on the residual stream, whose mean is far from zero.
        return nn.LayerNorm(
            epsilon=self.config.layer_norm_eps if epsilon is None else epsilon,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            use_fast_variance=False,
            name=name,
        )


def lookup(table: Array, ids: Array, frozen_row: Optional[int] = None) -> Array:
    """Rows of `table` for `ids`; row `frozen_row` (the pad token) gets no gradient from here.

    This is PyTorch's nn.Embedding(padding_idx): only the lookup path is frozen, so a tied MLM
    decoder still trains the pad row through its own use of the table.
    """
    rows = jnp.take(table, ids, axis=0)
    if frozen_row is None:
        return rows
    return jnp.where((ids == frozen_row)[..., None], jax.lax.stop_gradient(rows), rows)


class AlbertEmbeddings(AlbertSettings):
    """word + token type (+ absolute position) embeddings, LayerNorm, dropout; width embedding_size."""

    @nn.compact
    def __call__(self, input_ids, token_type_ids, position_ids, inputs_embeds, deterministic: bool):
        c = self.config

        def table(name, rows, init):
            return nn.Embed(rows, c.embedding_size, embedding_init=init, param_dtype=self.param_dtype, name=name).embedding

        word = table("word_embeddings", c.vocab_size, word_embedding_init(c))
        position = table("position_embeddings", c.max_position_embeddings, normal_init(c))
        token_type = table("token_type_embeddings", c.type_vocab_size, normal_init(c))
        if inputs_embeds is None:
            inputs_embeds = lookup(word, input_ids, c.pad_token_id)
        embeddings = inputs_embeds.astype(self.dtype) + lookup(token_type, token_type_ids).astype(self.dtype)
        if c.position_embedding_type == "absolute":
            embeddings = embeddings + lookup(position, position_ids).astype(self.dtype)
        embeddings = self.layer_norm("LayerNorm")(embeddings)
        return nn.Dropout(rate=c.hidden_dropout_prob)(embeddings, deterministic=deterministic)


def attention_loops_over_examples(setting: Optional[bool]) -> bool:
    """Resolve AlbertSettings.attention_per_example: None means "on CPU" (the default backend)."""
    return jax.default_backend() == "cpu" if setting is None else setting


def ffn_chunk_tokens(setting: Optional[int]) -> int:
    """Resolve AlbertSettings.ffn_chunk_tokens: None means 1024 on CPU (the default backend), else 0."""
    if setting is None:
        return CPU_FFN_CHUNK_TOKENS if jax.default_backend() == "cpu" else 0
    return setting


class AlbertAttention(AlbertSettings):
    """Multi-head self-attention, output projection, residual and LayerNorm (HF's AlbertAttention)."""

    @nn.compact
    def __call__(self, hidden, attention_bias, head_mask, deterministic: bool):
        c = self.config
        batch, seq, _ = hidden.shape
        dense = self.dense_factory()
        query, key, value = (dense(c.hidden_size, name=name)(hidden) for name in ("query", "key", "value"))
        relative = None if c.position_embedding_type == "absolute" else self.relative_table(seq)
        dropout_rate = 0.0 if deterministic else c.attention_probs_dropout_prob
        dropout_rngs = jax.random.split(self.make_rng("dropout"), batch) if dropout_rate > 0 else None

        def one_example(query, key, value, bias, dropout_rng):  # [seq, hidden] each -> context, probs
            return self.attention_core(query, key, value, bias, dropout_rng, dropout_rate, relative, head_mask)

        # XLA CPU runs the attention core 1.5-4x faster one example at a time (lax.map: a loop whose
        # [heads, seq, seq] scores stay in cache and reuse one buffer) than batched (a [batch, heads,
        # seq, seq] tensor written to fresh memory); accelerators want the batched program (vmap).
        # The loop's backward recomputes each example's probabilities (jax.checkpoint) rather than
        # store all of them: 20% faster on CPU, and [batch, heads, seq, seq] less memory per layer.
        inputs = (query, key, value, attention_bias, dropout_rngs)
        if attention_loops_over_examples(self.attention_per_example):
            context, probs = jax.lax.map(lambda example: jax.checkpoint(one_example)(*example), inputs)
        else:
            context, probs = jax.vmap(one_example)(*inputs)
        projected = dense(c.hidden_size, name="dense")(context)
        projected = nn.Dropout(rate=c.hidden_dropout_prob)(projected, deterministic=deterministic)
        return self.layer_norm("LayerNorm")(hidden + projected), probs

    def attention_core(self, query, key, value, bias, dropout_rng, dropout_rate, relative, head_mask):
        """One example's scaled dot-product attention: [seq, hidden] q, k, v -> [seq, hidden] context
        and [heads, seq, seq] probabilities (after dropout and head mask, as HF returns them)."""
        c = self.config
        heads, head_dim = c.num_attention_heads, c.head_dim

        def split_heads(x):  # [seq, hidden] -> [heads, seq, head_dim]
            return x.reshape(x.shape[0], heads, head_dim).transpose(1, 0, 2)

        query, key, value = split_heads(query), split_heads(key), split_heads(value)
        scores = jnp.matmul(query, key.swapaxes(-1, -2), precision=self.precision) / math.sqrt(head_dim)
        if bias is not None:  # [1, 1, seq] additive mask bias
            scores = scores + bias
        if relative is not None:
            scores = scores + self.relative_position_scores(query, key, relative)
        probs = jax.nn.softmax(scores.astype(jnp.float32), axis=-1).astype(self.dtype)
        if dropout_rng is not None:  # inverted dropout, as nn.Dropout
            keep = jax.random.bernoulli(dropout_rng, 1.0 - dropout_rate, probs.shape)
            probs = jnp.where(keep, probs / (1.0 - dropout_rate), jnp.zeros_like(probs))
        if head_mask is not None:  # [heads]: 0 silences a head, as HF (after dropout)
            probs = probs * head_mask.astype(self.dtype)[:, None, None]
        context = jnp.matmul(probs, value, precision=self.precision)  # [heads, seq, head_dim]
        return context.transpose(1, 0, 2).reshape(-1, heads * head_dim), probs

    def relative_table(self, seq: int):
        """[q, k, head_dim] embeddings of the distances q - k (HF's distance_embedding)."""
        c = self.config
        table = nn.Embed(
            2 * c.max_position_embeddings - 1,
            c.head_dim,
            embedding_init=normal_init(c),
            param_dtype=self.param_dtype,
            name="distance_embedding",
        ).embedding
        distance = jnp.arange(seq)[:, None] - jnp.arange(seq)[None, :] + c.max_position_embeddings - 1
        return lookup(table, distance).astype(self.dtype)

    def relative_position_scores(self, query, key, relative):
        """Shaw et al. / HF `relative_key` (query·r) and `relative_key_query` (+ key·r) scores."""
        scores = jnp.einsum("hqd,qkd->hqk", query, relative, precision=self.precision)
        if self.config.position_embedding_type == "relative_key_query":
            scores = scores + jnp.einsum("hkd,qkd->hqk", key, relative, precision=self.precision)
        return scores


class AlbertLayer(AlbertSettings):
    """Attention block then feed-forward block, each with a residual and a LayerNorm."""

    @nn.compact
    def __call__(self, hidden, attention_bias, head_mask, deterministic: bool):
        c = self.config
        dense = self.dense_factory()
        attended, probs = AlbertAttention(**self.settings(), name="attention")(
            hidden, attention_bias, head_mask, deterministic
        )
        ffn_in = dense(c.intermediate_size, name="ffn")
        ffn_out = dense(c.hidden_size, name="ffn_output")
        act = activation(c.hidden_act)

        def feed_forward(x):
            return ffn_out(act(ffn_in(x)))

        chunk = ffn_chunk_size(ffn_chunk_tokens(self.ffn_chunk_tokens), attended.shape[0] * attended.shape[1])
        # init runs it whole: it creates the parameters, which the loop's body cannot.
        if chunk and not self.is_initializing():  # why chunks: albert_core.chunking
            tokens = attended.reshape(-1, attended.shape[-1])
            ffn = jax.lax.map(feed_forward, tokens, batch_size=chunk).reshape(attended.shape)
        else:
            ffn = feed_forward(attended)
        # Dropout here as in the original ALBERT, HF TF and HF Flax (HF PyTorch omits it).
        ffn = nn.Dropout(rate=c.hidden_dropout_prob)(ffn, deterministic=deterministic)
        return self.layer_norm("full_layer_layer_norm")(ffn + attended), probs


class AlbertLayerStack(AlbertSettings):
    """One step of the encoder: a group's inner_group_num layers, named albert_layers/{k}.

    This is the body `nn.scan` repeats; its flags are attributes because scan carries only arrays.
    """

    deterministic: bool = True
    output_attentions: bool = False
    output_hidden_states: bool = False

    @nn.compact
    def __call__(self, hidden, head_mask_row, attention_bias):
        attentions = []
        for k in range(self.config.inner_group_num):
            hidden, probs = AlbertLayer(**self.settings(), name=str(k))(
                hidden, attention_bias, head_mask_row, self.deterministic
            )
            attentions.append(probs)
        per_step = (
            hidden if self.output_hidden_states else None,
            jnp.stack(attentions) if self.output_attentions else None,
        )
        return hidden, per_step


class AlbertLayerGroup(AlbertSettings):
    """One layer group: its layers (`albert_layers`), applied for `num_steps` consecutive steps."""

    num_steps: int = 1

    @nn.compact
    def __call__(self, hidden, attention_bias, head_mask_rows, deterministic, output_attentions, output_hidden_states):
        body = nn.remat(AlbertLayerStack, prevent_cse=False) if self.remat else AlbertLayerStack
        steps = nn.scan(
            body,
            variable_broadcast="params",  # shared weights: one copy, used by every step
            split_rngs={"params": False, "dropout": True},  # fresh dropout masks each step
            in_axes=(0, nn.broadcast),
            length=self.num_steps,
            unroll=self.scan_unroll,
        )
        return steps(
            **self.settings(),
            deterministic=deterministic,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            name="albert_layers",
        )(hidden, head_mask_rows, attention_bias)


def group_steps(config: AlbertConfig) -> list[tuple[int, int]]:
    """(first step, number of steps) of each layer group, from HF's rule group = int(l * G / L)."""
    groups = [config.group_of_layer(step) for step in range(config.num_hidden_layers)]
    return [(groups.index(g), groups.count(g)) for g in range(config.num_hidden_groups)]


class AlbertLayerGroups(AlbertSettings):
    """The num_hidden_layers steps, group by group; collects per-step hidden states and attentions."""

    @nn.compact
    def __call__(self, hidden, attention_bias, head_mask, deterministic, output_attentions, output_hidden_states):
        all_hidden = [hidden] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for g, (first, count) in enumerate(group_steps(self.config)):
            rows = None if head_mask is None else head_mask[first : first + count]
            group = AlbertLayerGroup(**self.settings(), num_steps=count, name=str(g))
            hidden, (step_hidden, step_attentions) = group(
                hidden, attention_bias, rows, deterministic, output_attentions, output_hidden_states
            )
            if output_hidden_states:
                all_hidden.extend(step_hidden[i] for i in range(count))
            if output_attentions:  # [steps, inner layers, batch, heads, q, k]
                all_attentions.extend(step_attentions[i, k] for i in range(count) for k in range(step_attentions.shape[1]))
        return hidden, all_hidden, all_attentions


class AlbertTransformer(AlbertSettings):
    """HF's AlbertTransformer: the E->H projection, then the shared layer groups."""

    @nn.compact
    def __call__(self, embeddings, attention_bias, head_mask, deterministic, output_attentions, output_hidden_states):
        hidden = self.dense_factory()(self.config.hidden_size, name="embedding_hidden_mapping_in")(embeddings)
        groups = AlbertLayerGroups(**self.settings(), name="albert_layer_groups")
        return groups(hidden, attention_bias, head_mask, deterministic, output_attentions, output_hidden_states)


def attention_bias_from_mask(attention_mask, dtype=jnp.float32):
    """[batch, seq] 1/0 mask -> additive [batch, 1, 1, seq] bias, (1 - mask) * finfo.min as HF."""
    mask = attention_mask.astype(dtype)[:, None, None, :]
    return (1.0 - mask) * jnp.finfo(dtype).min


def head_mask_per_layer(head_mask, config: AlbertConfig):
    """[heads] or [num_hidden_layers, heads] -> [num_hidden_layers, heads] (row l masks step l)."""
    if head_mask is None:
        return None
    head_mask = jnp.asarray(head_mask, jnp.float32)
    if head_mask.ndim == 1:
        head_mask = jnp.broadcast_to(head_mask, (config.num_hidden_layers, head_mask.shape[0]))
    return head_mask


class AlbertModule(AlbertSettings):
    """The ALBERT encoder (HF AlbertModel): returns AlbertModelOutput.

    Inputs are [batch, seq] integer arrays (inputs_embeds: [batch, seq, embedding_size]); masks
    are 1 for tokens to attend to. Shapes are checked when traced, values by the `Albert*` wrappers.
    """

    add_pooling_layer: bool = True

    @nn.compact
    def __call__(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        deterministic: bool = True,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> AlbertModelOutput:
        c = self.config
        batch, seq = check_model_inputs(
            c, input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, head_mask
        )
        if token_type_ids is None:
            token_type_ids = jnp.zeros((batch, seq), jnp.int32)
        if position_ids is None:
            position_ids = jnp.arange(seq, dtype=jnp.int32)
        position_ids = jnp.broadcast_to(position_ids, (batch, seq))
        embeddings = AlbertEmbeddings(**self.settings(), name="embeddings")(
            input_ids, token_type_ids, position_ids, inputs_embeds, deterministic
        )
        attention_bias = None if attention_mask is None else attention_bias_from_mask(attention_mask)
        encoder = AlbertTransformer(**self.settings(), name="encoder")
        hidden, all_hidden, all_attentions = encoder(
            embeddings,
            attention_bias,
            head_mask_per_layer(head_mask, c),
            deterministic,
            output_attentions,
            output_hidden_states,
        )
        pooled = None
        if self.add_pooling_layer:
            pooled = jnp.tanh(self.dense_factory()(c.hidden_size, name="pooler")(hidden[:, 0]))
        return AlbertModelOutput(
            last_hidden_state=hidden,
            pooler_output=pooled,
            hidden_states=None if all_hidden is None else tuple(all_hidden),
            attentions=None if all_attentions is None else tuple(all_attentions),
        )
