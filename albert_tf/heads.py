"""The task heads that are more than one Dense layer: the MLM head and the SOP head.

The MLM decoder is tied to the word embeddings (config.tie_word_embeddings, the default): it reads
the embedding table itself, so the two can never drift apart. Its bias is `predictions.bias`
(HF's predictions.decoder.bias is the same tensor).
"""

from __future__ import annotations

import keras
from keras import ops

from albert_core.config import AlbertConfig

from .activations import get_activation
from .attention import dense
from .embeddings import normal_initializer


class AlbertMLMHead(keras.layers.Layer):
    def __init__(self, config: AlbertConfig, embeddings, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = embeddings  # the AlbertEmbeddings layer whose table the decoder reuses
        self.dense = dense(config, config.embedding_size, "dense", self.dtype_policy)
        self.activation = get_activation(config.hidden_act)
        self.LayerNorm = keras.layers.LayerNormalization(
            epsilon=config.effective_mlm_layer_norm_eps, dtype=self.dtype_policy, name="LayerNorm"
        )
        self.decoder = None
        if not config.tie_word_embeddings:
            # An untied decoder has its own [E, V] kernel; the bias is still `predictions.bias`.
            self.decoder = keras.layers.Dense(
                config.vocab_size, use_bias=False, kernel_initializer=normal_initializer(config), name="decoder", dtype=self.dtype_policy
            )

    def build(self, input_shape=None):
        c = self.config
        self.dense.build((None, None, c.hidden_size))
        self.LayerNorm.build((None, None, c.embedding_size))
        if self.decoder is not None:
            self.decoder.build((None, None, c.embedding_size))
        self.bias = self.add_weight(shape=(c.vocab_size,), initializer="zeros", name="bias")
        self.built = True

    def call(self, hidden_states):
        hidden = self.LayerNorm(self.activation(self.dense(hidden_states)))
        if self.decoder is None:
            logits = ops.matmul(hidden, ops.transpose(self.embeddings.word_embeddings))
        else:
            logits = self.decoder(hidden)
        return logits + self.bias


class AlbertSOPHead(keras.layers.Layer):
    """Sentence-order prediction: 2 logits (in order / swapped) whatever config.num_labels is."""

    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.dropout = keras.layers.Dropout(classifier_dropout(config), dtype=self.dtype_policy)
        self.classifier = dense(config, 2, "classifier", self.dtype_policy)

    def build(self, input_shape=None):
        self.classifier.build((None, self.config.hidden_size))
        self.built = True

    def call(self, pooled_output, training=False):
        return self.classifier(self.dropout(pooled_output, training=training))


def classifier_dropout(config: AlbertConfig) -> float:
    """HF's classifier dropout: classifier_dropout_prob, or hidden_dropout_prob when that is None."""
    if config.classifier_dropout_prob is None:
        return config.hidden_dropout_prob
    return config.classifier_dropout_prob
