"""AlbertMainLayer: embeddings → shared-layer encoder → (pooler). Every model's `albert` sub-layer.

Its variables are the canonical `albert.*` tensors. The attention mask becomes an additive bias
(0 for tokens, the dtype's most negative value for padding) once, shared by every layer.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from albert_core.config import AlbertConfig

from .attention import dense
from .embeddings import AlbertEmbeddings
from .encoder import AlbertTransformer


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
