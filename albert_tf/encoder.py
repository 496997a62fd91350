"""The shared-layer encoder: E→H projection, then num_hidden_layers steps over G groups × K layers.

Step l (0 ≤ l < L) runs group int(l·G/L)'s K inner layers, as HF does; with G=1 (every published
ALBERT) one set of weights is applied L times. head_mask row l masks heads in every inner layer of
step l (HF's PyTorch ALBERT indexes it by inner-layer index instead; see DESIGN.md section 3).
"""

from __future__ import annotations

import keras

from albert_core.config import AlbertConfig

from .activations import get_activation
from .attention import AlbertAttention, dense


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

    def build(self, input_shape=None):
        H = self.config.hidden_size
        self.attention.build()
        self.ffn.build((None, None, H))
        self.ffn_output.build((None, None, self.config.intermediate_size))
        self.full_layer_layer_norm.build((None, None, H))
        self.built = True

    def call(self, hidden_states, attention_bias, head_mask=None, training=False):
        attended, probs = self.attention(hidden_states, attention_bias, head_mask, training=training)
        ffn = self.ffn_output(self.activation(self.ffn(attended)))
        # HF applies no dropout on the FFN output (its AlbertLayer.dropout is never used).
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
