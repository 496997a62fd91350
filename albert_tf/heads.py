"""The heads: the MLM head (tied decoder), the SOP head, and the six models that carry a head.

Output keys (a dict): AlbertForPreTraining prediction_logits, sop_logits; AlbertForQuestionAnswering
start_logits, end_logits; the others logits. Every model adds hidden_states / attentions on
request and loss when given labels. The MLM decoder reads the word-embedding table itself
(config.tie_word_embeddings, the default), so the two can never drift apart; its bias is
`predictions.bias` (HF's predictions.decoder.bias is the same tensor).
"""

from __future__ import annotations

import keras
from keras import ops

from albert_core.config import AlbertConfig
from albert_core.errors import ConfigError
from albert_core.inputs import InputError
from albert_core.schema import Head

from . import losses
from .activations import get_activation
from .layers import dense, normal_initializer
from .pretrained import AlbertPreTrainedModel


class AlbertMLMHead(keras.layers.Layer):
    def __init__(self, config: AlbertConfig, embeddings, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        # The tied decoder reads the word-embedding table of `embeddings` (an AlbertEmbeddings).
        # Held through a function so Keras does not track that layer as a child of this head too
        # (its weights would be listed under both in summaries).
        self.word_embeddings = lambda: embeddings.word_embeddings
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
            logits = ops.matmul(hidden, ops.transpose(self.word_embeddings()))
        else:
            logits = self.decoder(hidden)
        return logits + self.bias


class AlbertSOPHead(keras.layers.Layer):
    """Sentence-order prediction: 2 logits (in order / swapped) whatever config.num_labels is."""

    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.dropout = keras.layers.Dropout(config.classifier_dropout(), dtype=self.dtype_policy)
        self.classifier = dense(config, 2, "classifier", self.dtype_policy)

    def build(self, input_shape=None):
        self.classifier.build((None, self.config.hidden_size))
        self.built = True

    def call(self, pooled_output, training=False):
        return self.classifier(self.dropout(pooled_output, training=training))


def _encode(model, features, training, output_attentions, output_hidden_states) -> dict:
    return model.albert(
        **features, output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training
    )


def _extras(encoded: dict) -> dict:
    """hidden_states / attentions, when they were asked for."""
    return {k: encoded[k] for k in ("hidden_states", "attentions") if k in encoded}


class AlbertForPreTraining(AlbertPreTrainedModel):
    """MLM head (tied decoder) + sentence-order head; loss = MLM cross-entropy + SOP cross-entropy."""

    head = Head.PRETRAINING
    label_keys = ("labels", "sentence_order_label")

    def init_head(self, config):
        self.predictions = AlbertMLMHead(config, self.albert.embeddings, dtype=self.dtype_policy, name="predictions")
        self.sop_classifier = AlbertSOPHead(config, dtype=self.dtype_policy, name="sop_classifier")

    def build_head(self):
        self.predictions.build()
        self.sop_classifier.build()

    def forward(self, features, training, output_attentions, output_hidden_states):
        encoded = _encode(self, features, training, output_attentions, output_hidden_states)
        return {
            "prediction_logits": self.predictions(encoded["last_hidden_state"]),
            "sop_logits": self.sop_classifier(encoded["pooler_output"], training=training),
            **_extras(encoded),
        }

    def loss_from_labels(self, outputs, labels):
        # HF returns a loss only when both label sets are given; like albert_torch, either part
        # alone gives its own loss (the sum of the parts given): the same number whenever HF has one.
        loss = None
        if "labels" in labels:
            loss = losses.cross_entropy(outputs["prediction_logits"], labels["labels"])
        if "sentence_order_label" in labels:
            sop = losses.cross_entropy(outputs["sop_logits"], labels["sentence_order_label"])
            loss = sop if loss is None else loss + sop
        return loss


class AlbertForMaskedLM(AlbertPreTrainedModel):
    head = Head.MASKED_LM
    label_keys = ("labels",)
    add_pooling_layer = False

    def init_head(self, config):
        self.predictions = AlbertMLMHead(config, self.albert.embeddings, dtype=self.dtype_policy, name="predictions")

    def build_head(self):
        self.predictions.build()

    def forward(self, features, training, output_attentions, output_hidden_states):
        encoded = _encode(self, features, training, output_attentions, output_hidden_states)
        return {"logits": self.predictions(encoded["last_hidden_state"]), **_extras(encoded)}

    def loss_from_labels(self, outputs, labels):
        return losses.cross_entropy(outputs["logits"], labels["labels"])


class _ClassifierHead(AlbertPreTrainedModel):
    """Dropout then a Dense `classifier` of `units(config)` outputs, on the pooled or per-token output."""

    label_keys = ("labels",)
    per_token = False  # the token classifier's dropout falls back to hidden_dropout_prob

    def units(self, config) -> int:
        return config.num_labels

    def init_head(self, config):
        self.dropout = keras.layers.Dropout(config.classifier_dropout(self.per_token), dtype=self.dtype_policy)
        self.classifier = dense(config, self.units(config), "classifier", self.dtype_policy)

    def build_head(self):
        self.classifier.build((None, self.config.hidden_size))

    def classify(self, hidden, training):
        return self.classifier(self.dropout(hidden, training=training))


class AlbertForSequenceClassification(_ClassifierHead):
    """Loss by problem_type: regression (MSE), single-label (cross-entropy), multi-label (BCE)."""

    head = Head.SEQUENCE_CLASSIFICATION

    def forward(self, features, training, output_attentions, output_hidden_states):
        encoded = _encode(self, features, training, output_attentions, output_hidden_states)
        return {"logits": self.classify(encoded["pooler_output"], training), **_extras(encoded)}

    def loss_from_labels(self, outputs, labels):
        return losses.sequence_classification_loss(
            outputs["logits"], ops.convert_to_tensor(labels["labels"]), self.config.problem_type, self.config.num_labels
        )


class AlbertForTokenClassification(_ClassifierHead):
    head = Head.TOKEN_CLASSIFICATION
    add_pooling_layer = False
    per_token = True

    def forward(self, features, training, output_attentions, output_hidden_states):
        encoded = _encode(self, features, training, output_attentions, output_hidden_states)
        return {"logits": self.classify(encoded["last_hidden_state"], training), **_extras(encoded)}

    def loss_from_labels(self, outputs, labels):
        return losses.cross_entropy(outputs["logits"], labels["labels"])


class AlbertForMultipleChoice(_ClassifierHead):
    """Inputs [batch, choices, seq]; each choice is encoded alone, its pooled output scored by one unit."""

    head = Head.MULTIPLE_CHOICE
    multiple_choice = True

    def units(self, config) -> int:
        return 1

    def forward(self, features, training, output_attentions, output_hidden_states):
        reference = features["input_ids"] if "input_ids" in features else features["inputs_embeds"][..., 0]
        num_choices = ops.shape(reference)[1]
        flat = {}
        for name, value in features.items():
            if name == "head_mask" or (name == "position_ids" and len(value.shape) == 1):
                flat[name] = value
            elif name == "inputs_embeds":
                flat[name] = ops.reshape(value, (-1, ops.shape(value)[-2], ops.shape(value)[-1]))
            else:
                flat[name] = ops.reshape(value, (-1, ops.shape(value)[-1]))
        encoded = _encode(self, flat, training, output_attentions, output_hidden_states)
        logits = self.classify(encoded["pooler_output"], training)
        return {"logits": ops.reshape(logits, (-1, num_choices)), **_extras(encoded)}

    def loss_from_labels(self, outputs, labels):
        return losses.cross_entropy(outputs["logits"], labels["labels"])


class AlbertForQuestionAnswering(AlbertPreTrainedModel):
    """Extractive QA: per-token start and end logits; loss averages the two cross-entropies."""

    head = Head.QUESTION_ANSWERING
    label_keys = ("start_positions", "end_positions")
    add_pooling_layer = False

    def init_head(self, config):
        if config.num_labels != 2:
            raise ConfigError(f"AlbertForQuestionAnswering needs num_labels == 2 (start, end), got {config.num_labels}")
        self.qa_outputs = dense(config, 2, "qa_outputs", self.dtype_policy)

    def build_head(self):
        self.qa_outputs.build((None, None, self.config.hidden_size))

    def forward(self, features, training, output_attentions, output_hidden_states):
        encoded = _encode(self, features, training, output_attentions, output_hidden_states)
        logits = self.qa_outputs(encoded["last_hidden_state"])
        return {"start_logits": logits[..., 0], "end_logits": logits[..., 1], **_extras(encoded)}

    def loss_from_labels(self, outputs, labels):
        if set(labels) != set(self.label_keys):
            missing = sorted(set(self.label_keys) - set(labels))
            raise InputError(f"AlbertForQuestionAnswering needs both start_positions and end_positions; missing {missing}")
        return losses.span_loss(outputs["start_logits"], outputs["end_logits"], labels["start_positions"], labels["end_positions"])
