"""AlbertAttention: multi-head self-attention with its output projection, residual and LayerNorm.

HF's order of operations is kept exactly (scores = QKᵀ/√d + mask [+ relative-position scores],
softmax, dropout, head mask, ·V) so fp32 results match HF within rounding. `relative_key` and
`relative_key_query` position embeddings (Shaw et al. / Huang et al.) are supported as in HF's
PyTorch BERT-family code, which HF's own TF ALBERT lacks.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from albert_core.config import AlbertConfig

from .embeddings import normal_initializer


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
