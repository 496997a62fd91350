"""AlbertEmbeddings: word + token-type (+ absolute position) embeddings of width E, LayerNorm, dropout.

E (embedding_size) is small (128); the encoder projects it to the hidden size H. Lookups are
plain gathers. The word-embedding row of pad_token_id gets no gradient through the lookup, as
PyTorch's nn.Embedding(padding_idx=...) in HF; it still gets one through the tied MLM decoder.
"""

from __future__ import annotations

import keras
from keras import ops

from albert_core.config import AlbertConfig


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
            table = ops.convert_to_numpy(self.word_embeddings)
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
