"""ALBERT's layers as Keras 3 layers, named and nested as HF's PyTorch modules (the canonical names).

    AlbertMainLayer (`albert`)
      embeddings: AlbertEmbeddings   word + token-type (+ absolute position) tables of width E
      encoder: AlbertTransformer     E→H projection, then L steps over G groups × K AlbertLayers
      pooler                         tanh(Dense) on the first token (models without it: MLM, token, QA)

HF's order of operations is kept exactly (e.g. scores = QKᵀ/√d + mask [+ relative scores]), so
fp32 results match HF within rounding. Step l (0 ≤ l < L) runs group int(l·G/L)'s K inner layers;
with G=1 (every published ALBERT) one set of weights is applied L times. head_mask row l masks
heads in every inner layer of step l (HF's PyTorch ALBERT indexes it by inner-layer index instead;
see DESIGN.md section 3). The word-embedding row pad_token_id gets no gradient through the lookup,
as with PyTorch's nn.Embedding(padding_idx=...); it still gets one through the tied MLM decoder.
`relative_key` / `relative_key_query` position embeddings work as in HF's PyTorch BERT family.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops

from albert_core.chunking import CPU_FFN_CHUNK_TOKENS, ffn_chunk_size
from albert_core.config import AlbertConfig

from .activations import get_activation


def normal_initializer(config: AlbertConfig):
    # HF PyTorch initialises every Linear and Embedding from N(0, initializer_range) (not truncated).
    return keras.initializers.RandomNormal(mean=0.0, stddev=config.initializer_range)


class AlbertEmbeddings(keras.layers.Layer):
    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.absolute_positions = config.position_embedding_type == "absolute"
        self.LayerNorm = keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, dtype=self.dtype_policy, name="LayerNorm")
        self.dropout = keras.layers.Dropout(config.hidden_dropout_prob, dtype=self.dtype_policy, name="dropout")

    def build(self, input_shape=None):
        c = self.config
        init = normal_initializer(c)
        self.word_embeddings = self.add_weight(shape=(c.vocab_size, c.embedding_size), initializer=init, name="word_embeddings")
        # Present (and in the canonical state) even for relative position types, as in HF.
        self.position_embeddings = self.add_weight(
            shape=(c.max_position_embeddings, c.embedding_size), initializer=init, name="position_embeddings"
        )
        self.token_type_embeddings = self.add_weight(
            shape=(c.type_vocab_size, c.embedding_size), initializer=init, name="token_type_embeddings"
        )
        if c.pad_token_id is not None:
            # HF zeroes the padding row at initialisation.
            table = self.word_embeddings.numpy()
            table[c.pad_token_id] = 0.0
            self.word_embeddings.assign(table)
        self.LayerNorm.build((None, None, c.embedding_size))
        self.built = True

    def embed_words(self, input_ids):
        vectors = ops.take(self.word_embeddings, input_ids, axis=0)
        pad = self.config.pad_token_id
        if pad is None:
            return vectors
        # Same values, but the gradient of the pad row's lookups is cut (padding_idx semantics).
        is_pad = ops.expand_dims(ops.equal(input_ids, pad), -1)
        return ops.where(is_pad, ops.stop_gradient(vectors), vectors)

    def call(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None, training=False):
        if inputs_embeds is None:
            inputs_embeds = self.embed_words(input_ids)
        seq_len = ops.shape(inputs_embeds)[1]
        if token_type_ids is None:
            embeddings = inputs_embeds + self.token_type_embeddings[0]
        else:
            embeddings = inputs_embeds + ops.take(self.token_type_embeddings, token_type_ids, axis=0)
        if self.absolute_positions:
            if position_ids is None:
                embeddings = embeddings + self.position_embeddings[:seq_len]
            else:
                embeddings = embeddings + ops.take(self.position_embeddings, position_ids, axis=0)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings, training=training)


def dense(config: AlbertConfig, units: int, name: str, dtype, activation=None) -> keras.layers.Dense:
    """A Dense layer initialised as HF initialises nn.Linear (normal weights, zero bias)."""
    return keras.layers.Dense(
        units, activation=activation, kernel_initializer=normal_initializer(config), bias_initializer="zeros", name=name, dtype=dtype
    )


class AlbertAttention(keras.layers.Layer):
    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.num_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        self.relative = config.position_embedding_type if config.position_embedding_type != "absolute" else None
        H = config.hidden_size
        self.query = dense(config, H, "query", self.dtype_policy)
        self.key = dense(config, H, "key", self.dtype_policy)
        self.value = dense(config, H, "value", self.dtype_policy)
        self.dense = dense(config, H, "dense", self.dtype_policy)
        self.LayerNorm = keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, dtype=self.dtype_policy, name="LayerNorm")
        self.attention_dropout = keras.layers.Dropout(config.attention_probs_dropout_prob, dtype=self.dtype_policy)
        self.output_dropout = keras.layers.Dropout(config.hidden_dropout_prob, dtype=self.dtype_policy)

    def build(self, input_shape=None):
        H = self.config.hidden_size
        for layer in (self.query, self.key, self.value, self.dense):
            layer.build((None, None, H))
        self.LayerNorm.build((None, None, H))
        if self.relative:
            self.distance_embedding = self.add_weight(
                shape=(2 * self.config.max_position_embeddings - 1, self.head_dim),
                initializer=normal_initializer(self.config),
                name="distance_embedding",
            )
        self.built = True

    def _split_heads(self, x, batch, seq):
        # [B, S, H] -> [B, heads, S, head_dim]
        return ops.transpose(ops.reshape(x, (batch, seq, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def _relative_scores(self, query, key, seq):
        # distance_embedding row (i - j + max_position - 1) is the embedding of offset i - j.
        positions = ops.arange(seq)
        distance = ops.expand_dims(positions, 1) - ops.expand_dims(positions, 0)
        table = ops.take(self.distance_embedding, distance + self.config.max_position_embeddings - 1, axis=0)
        table = ops.cast(table, query.dtype)  # [S, S, head_dim]
        scores = ops.einsum("bhld,lrd->bhlr", query, table)
        if self.relative == "relative_key_query":
            scores = scores + ops.einsum("bhrd,lrd->bhlr", key, table)
        return scores

    def call(self, hidden_states, attention_bias, head_mask=None, training=False):
        """hidden_states [B, S, H]; attention_bias [B, 1, 1, S] (0 or dtype-min); head_mask [heads] or None.

        Returns (output [B, S, H], attention probabilities [B, heads, S, S]).
        """
        shape = ops.shape(hidden_states)
        batch, seq = shape[0], shape[1]
        query = self._split_heads(self.query(hidden_states), batch, seq)
        key = self._split_heads(self.key(hidden_states), batch, seq)
        value = self._split_heads(self.value(hidden_states), batch, seq)

        scores = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))) / math.sqrt(self.head_dim)
        scores = scores + attention_bias
        if self.relative:
            scores = scores + self._relative_scores(query, key, seq)
        # Softmax in float32 at least: under mixed precision bf16 exp/sum lose the small weights.
        probs = ops.cast(ops.softmax(ops.cast(scores, "float32"), axis=-1), scores.dtype)
        probs = self.attention_dropout(probs, training=training)
        if head_mask is not None:
            probs = probs * ops.cast(ops.reshape(head_mask, (1, self.num_heads, 1, 1)), probs.dtype)

        context = ops.matmul(probs, value)  # [B, heads, S, head_dim]
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (batch, seq, self.num_heads * self.head_dim))
        projected = self.output_dropout(self.dense(context), training=training)
        return self.LayerNorm(hidden_states + projected), probs


def ffn_chunk_tokens() -> int:
    """Tokens per feed-forward chunk: 1024 where TensorFlow sees no GPU, else 0 (all at once)."""
    return 0 if tf.config.list_logical_devices("GPU") else CPU_FFN_CHUNK_TOKENS


def feed_forward_in_chunks(feed_forward, hidden, chunk: int):
    """feed_forward over the [batch, seq, H] tokens `chunk` at a time (a remainder chunk allowed;
    why chunks: albert_core.chunking). Only in a traced function with static shapes (under XLA they
    always are): eagerly, a loop costs a call per chunk."""
    batch, seq, width = hidden.shape
    if batch is None or seq is None or not tf.inside_function() or not ffn_chunk_size(chunk, batch * seq):
        return feed_forward(hidden)
    tokens = ops.reshape(hidden, (batch * seq, width))
    whole = (batch * seq) // chunk * chunk
    parts = [ops.reshape(ops.map(feed_forward, ops.reshape(tokens[:whole], (-1, chunk, width))), (whole, width))]
    if whole < batch * seq:
        parts.append(feed_forward(tokens[whole:]))
    return ops.reshape(ops.concatenate(parts, axis=0) if len(parts) > 1 else parts[0], (batch, seq, width))


class AlbertLayer(keras.layers.Layer):
    """Attention block, then the feed-forward block with its residual and LayerNorm."""

    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.attention = AlbertAttention(config, dtype=self.dtype_policy, name="attention")
        self.ffn = dense(config, config.intermediate_size, "ffn", self.dtype_policy)
        self.ffn_output = dense(config, config.hidden_size, "ffn_output", self.dtype_policy)
        self.activation = get_activation(config.hidden_act)
        self.full_layer_layer_norm = keras.layers.LayerNormalization(
            epsilon=config.layer_norm_eps, dtype=self.dtype_policy, name="full_layer_layer_norm"
        )
        self.dropout = keras.layers.Dropout(config.hidden_dropout_prob, dtype=self.dtype_policy)

    def build(self, input_shape=None):
        H = self.config.hidden_size
        self.attention.build()
        self.ffn.build((None, None, H))
        self.ffn_output.build((None, None, self.config.intermediate_size))
        self.full_layer_layer_norm.build((None, None, H))
        self.built = True

    def feed_forward(self, x):
        return self.ffn_output(self.activation(self.ffn(x)))

    def call(self, hidden_states, attention_bias, head_mask=None, training=False):
        attended, probs = self.attention(hidden_states, attention_bias, head_mask, training=training)
        # Inference only: in a training step the chunked loop measured 8% slower (8 x 512, XLA CPU).
        ffn = feed_forward_in_chunks(self.feed_forward, attended, 0 if training else ffn_chunk_tokens())
        # Dropout on the FFN output, as the original ALBERT, HF's TF/Flax ports and albert_torch
        # (HF PyTorch creates this Dropout and never calls it; eval mode is the same either way).
        ffn = self.dropout(ffn, training=training)
        return self.full_layer_layer_norm(ffn + attended), probs


class AlbertLayerGroup(keras.layers.Layer):
    """K = inner_group_num distinct layers applied in sequence."""

    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        self.albert_layers = [
            AlbertLayer(config, dtype=self.dtype_policy, name=f"albert_layers_{k}") for k in range(config.inner_group_num)
        ]

    def build(self, input_shape=None):
        for layer in self.albert_layers:
            layer.build()
        self.built = True

    def call(self, hidden_states, attention_bias, head_mask=None, training=False):
        """Returns (hidden state after the last inner layer, [per-inner-layer attention probabilities])."""
        attentions = []
        for layer in self.albert_layers:
            hidden_states, probs = layer(hidden_states, attention_bias, head_mask, training=training)
            attentions.append(probs)
        return hidden_states, attentions


class AlbertTransformer(keras.layers.Layer):
    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embedding_hidden_mapping_in = dense(config, config.hidden_size, "embedding_hidden_mapping_in", self.dtype_policy)
        self.albert_layer_groups = [
            AlbertLayerGroup(config, dtype=self.dtype_policy, name=f"albert_layer_groups_{g}")
            for g in range(config.num_hidden_groups)
        ]

    def build(self, input_shape=None):
        self.embedding_hidden_mapping_in.build((None, None, self.config.embedding_size))
        for group in self.albert_layer_groups:
            group.build()
        self.built = True

    def call(self, embeddings, attention_bias, head_mask=None, output_attentions=False, output_hidden_states=False, training=False):
        """head_mask: None or [num_hidden_layers, heads]. Returns (last hidden, hidden_states tuple, attentions tuple)."""
        c = self.config
        hidden = self.embedding_hidden_mapping_in(embeddings)
        all_hidden = [hidden]
        all_attentions = []
        for step in range(c.num_hidden_layers):
            group = self.albert_layer_groups[c.group_of_layer(step)]
            hidden, attentions = group(
                hidden, attention_bias, None if head_mask is None else head_mask[step], training=training
            )
            all_hidden.append(hidden)
            all_attentions.extend(attentions)
        return (
            hidden,
            tuple(all_hidden) if output_hidden_states else None,
            tuple(all_attentions) if output_attentions else None,
        )


def attention_bias(attention_mask, dtype):
    """[B, S] mask of 1 (token) / 0 (padding) -> [B, 1, 1, S] additive bias, as HF PyTorch builds it.

    Padding gets the dtype's most negative finite value, so its softmax weight is exactly 0.
    """
    mask = ops.cast(attention_mask, dtype)[:, None, None, :]
    return (1.0 - mask) * tf.as_dtype(dtype).min


class AlbertMainLayer(keras.layers.Layer):
    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = AlbertEmbeddings(config, dtype=self.dtype_policy, name="embeddings")
        self.encoder = AlbertTransformer(config, dtype=self.dtype_policy, name="encoder")
        self.pooler = dense(config, config.hidden_size, "pooler", self.dtype_policy, activation="tanh") if add_pooling_layer else None

    def build(self, input_shape=None):
        self.embeddings.build()
        self.encoder.build()
        if self.pooler is not None:
            self.pooler.build((None, self.config.hidden_size))
        self.built = True

    def call(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        output_attentions=False,
        output_hidden_states=False,
        training=False,
    ):
        """Returns a dict: last_hidden_state, pooler_output (with a pooler), hidden_states, attentions (on request)."""
        embeddings = self.embeddings(
            input_ids=input_ids, token_type_ids=token_type_ids, position_ids=position_ids, inputs_embeds=inputs_embeds, training=training
        )
        if attention_mask is None:
            # All tokens attend: HF adds a zero bias, which is the same as adding none.
            bias = ops.zeros((1, 1, 1, 1), dtype=embeddings.dtype)
        else:
            bias = attention_bias(attention_mask, embeddings.dtype)
        if head_mask is not None:
            head_mask = ops.cast(head_mask, embeddings.dtype)
            if len(head_mask.shape) == 1:
                head_mask = ops.broadcast_to(head_mask, (self.config.num_hidden_layers, self.config.num_attention_heads))
        last, hidden_states, attentions = self.encoder(
            embeddings,
            bias,
            head_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        outputs = {"last_hidden_state": last}
        if self.pooler is not None:
            outputs["pooler_output"] = self.pooler(last[:, 0])
        if hidden_states is not None:
            outputs["hidden_states"] = hidden_states
        if attentions is not None:
            outputs["attentions"] = attentions
        return outputs
