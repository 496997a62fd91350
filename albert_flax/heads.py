"""The six task models as Flax linen modules: the encoder (`albert`) plus a head, and its loss.

Each module returns its output dataclass; pass the label arrays (named as in HF) to get `loss`.
Parameter names follow HF PyTorch: `predictions` (MLM head, decoder tied to the word embeddings),
`sop_classifier.classifier` (sentence order, always 2-wide), `classifier`, `qa_outputs`.
"""

from __future__ import annotations


import flax.linen as nn
import jax.numpy as jnp

from albert_core.config import AlbertConfig
from albert_core.errors import ConfigError
from albert_core.inputs import InputError, check_labels, check_model_inputs

from .activations import activation
from .losses import cross_entropy, sequence_classification_loss, span_loss
from .modeling import AlbertModule, AlbertSettings
from .outputs import AlbertClassifierOutput, AlbertForPreTrainingOutput, AlbertQuestionAnsweringOutput


class AlbertMLMHead(AlbertSettings):
    """dense (H->E), activation, LayerNorm, decoder (E->vocab) tied to the word embeddings, bias."""

    @nn.compact
    def __call__(self, hidden, word_embeddings):
        c = self.config
        hidden = self.dense_factory()(c.embedding_size, name="dense")(hidden)
        hidden = activation(c.hidden_act)(hidden)
        hidden = self.layer_norm("LayerNorm", epsilon=c.effective_mlm_layer_norm_eps)(hidden)
        if c.tie_word_embeddings:
            table = word_embeddings.astype(self.dtype)  # [vocab, E]: the decoder is its transpose
            logits = jnp.einsum("...e,ve->...v", hidden, table, precision=self.precision)
        else:
            logits = self.dense_factory()(c.vocab_size, use_bias=False, name="decoder")(hidden)
        bias = self.param("bias", nn.initializers.zeros, (c.vocab_size,), self.param_dtype)
        return logits + bias.astype(self.dtype)


def classify(module: AlbertSettings, hidden, features: int, deterministic: bool, per_token: bool = False):
    """Dropout then a Dense layer named `classifier`, created inside `module` (HF's head layout)."""
    hidden = nn.Dropout(rate=module.config.classifier_dropout(per_token))(hidden, deterministic=deterministic)
    return module.dense_factory()(features, name="classifier")(hidden)


class AlbertSOPHead(AlbertSettings):
    """Sentence-order prediction on the pooled output: 2 logits whatever num_labels is."""

    @nn.compact
    def __call__(self, pooled, deterministic: bool):
        return classify(self, pooled, 2, deterministic)


class AlbertHeadBase(AlbertSettings):
    """Shared by the head modules: run the encoder, named `albert` as in HF's checkpoints."""

    def encode(self, pooling: bool, deterministic: bool, inputs: dict):
        """Run the encoder on `inputs` (its keyword arguments); returns (outputs, the module)."""
        albert = AlbertModule(**self.settings(), add_pooling_layer=pooling, name="albert")
        return albert(**inputs, deterministic=deterministic), albert

    def word_embeddings(self, albert: AlbertModule):
        return albert.variables["params"]["embeddings"]["word_embeddings"]["embedding"]


# Each head's __call__ takes input_ids (the one positional argument, as AlbertModule's first), its
# label arrays and `deterministic` as keywords, and as `**inputs` the other AlbertModule keyword
# arguments (attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
# output_attentions, output_hidden_states).


class AlbertForPreTrainingModule(AlbertHeadBase):
    @nn.compact
    def __call__(
        self,
        input_ids=None,
        *,
        labels=None,
        sentence_order_label=None,
        deterministic: bool = True,
        **inputs,
    ) -> AlbertForPreTrainingOutput:
        outputs, albert = self.encode(True, deterministic, dict(inputs, input_ids=input_ids))
        shape = outputs.last_hidden_state.shape[:2]
        prediction_logits = AlbertMLMHead(**self.settings(), name="predictions")(
            outputs.last_hidden_state, self.word_embeddings(albert)
        )
        sop_logits = AlbertSOPHead(**self.settings(), name="sop_classifier")(outputs.pooler_output, deterministic)
        # HF returns a loss only when both label sets are given; as albert_torch and albert_tf,
        # either alone gives its own part (the sum of the parts given: HF's number when it has one).
        parts = []
        if labels is not None:
            check_labels("pretraining", labels, self.config, shape)
            parts.append(cross_entropy(prediction_logits, labels))
        if sentence_order_label is not None:
            check_labels("sentence_order", sentence_order_label, self.config, shape)
            parts.append(cross_entropy(sop_logits, sentence_order_label))
        loss = sum(parts[1:], parts[0]) if parts else None
        return AlbertForPreTrainingOutput(
            loss=loss,
            prediction_logits=prediction_logits,
            sop_logits=sop_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


class AlbertForMaskedLMModule(AlbertHeadBase):
    @nn.compact
    def __call__(
        self,
        input_ids=None,
        *,
        labels=None,
        deterministic: bool = True,
        **inputs,
    ) -> AlbertClassifierOutput:
        outputs, albert = self.encode(False, deterministic, dict(inputs, input_ids=input_ids))
        logits = AlbertMLMHead(**self.settings(), name="predictions")(
            outputs.last_hidden_state, self.word_embeddings(albert)
        )
        loss = None
        if labels is not None:
            check_labels("masked_lm", labels, self.config, logits.shape[:2])
            loss = cross_entropy(logits, labels)
        return AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)


class AlbertForSequenceClassificationModule(AlbertHeadBase):
    @nn.compact
    def __call__(
        self,
        input_ids=None,
        *,
        labels=None,
        deterministic: bool = True,
        **inputs,
    ) -> AlbertClassifierOutput:
        outputs, _ = self.encode(True, deterministic, dict(inputs, input_ids=input_ids))
        logits = classify(self, outputs.pooler_output, self.config.num_labels, deterministic)
        loss = None
        if labels is not None:
            check_labels("sequence_classification", labels, self.config, logits.shape[:1])
            loss = sequence_classification_loss(logits, labels, self.config)
        return AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)


class AlbertForTokenClassificationModule(AlbertHeadBase):
    @nn.compact
    def __call__(
        self,
        input_ids=None,
        *,
        labels=None,
        deterministic: bool = True,
        **inputs,
    ) -> AlbertClassifierOutput:
        outputs, _ = self.encode(False, deterministic, dict(inputs, input_ids=input_ids))
        logits = classify(self, outputs.last_hidden_state, self.config.num_labels, deterministic, per_token=True)
        loss = None
        if labels is not None:
            check_labels("token_classification", labels, self.config, logits.shape[:2])
            loss = cross_entropy(logits, labels)
        return AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)


def flatten_choices(inputs: dict) -> dict:
    """[batch, choices, seq(, E)] inputs -> [batch * choices, seq(, E)]; a 1-D position_ids stays."""
    flat = {}
    for name, value in inputs.items():
        if name not in _PER_CHOICE or value is None or (name == "position_ids" and value.ndim == 1):
            flat[name] = value
        else:
            keep = 2 if name == "inputs_embeds" else 1
            flat[name] = value.reshape((-1,) + value.shape[value.ndim - keep :])
    return flat


_PER_CHOICE = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "inputs_embeds")


class AlbertForMultipleChoiceModule(AlbertHeadBase):
    """Inputs are [batch, num_choices, seq]; logits [batch, num_choices] (one score per choice)."""

    @nn.compact
    def __call__(
        self,
        input_ids=None,
        *,
        labels=None,
        deterministic: bool = True,
        **inputs,
    ) -> AlbertClassifierOutput:
        inputs = dict(inputs, input_ids=input_ids)
        checked = {k: v for k, v in inputs.items() if k in _PER_CHOICE + ("head_mask",)}
        batch, choices, _ = check_model_inputs(self.config, **checked, multiple_choice=True)
        outputs, _ = self.encode(True, deterministic, flatten_choices(inputs))
        scores = classify(self, outputs.pooler_output, 1, deterministic)
        logits = scores.reshape(batch, choices)
        loss = None
        if labels is not None:
            check_labels("multiple_choice", labels, self.config, (batch, choices), num_choices=choices)
            loss = cross_entropy(logits, labels)
        return AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)


def check_positions(name: str, positions, batch: int) -> None:
    """QA start/end positions: integer, shape [batch] or [batch, 1] (values are clamped, as HF)."""
    if positions is None:
        return
    if tuple(positions.shape) not in ((batch,), (batch, 1)):
        raise InputError(f"{name} must have shape [{batch}] or [{batch}, 1], got {list(positions.shape)}")
    if not jnp.issubdtype(positions.dtype, jnp.integer):
        raise InputError(f"{name} must be integers, got dtype {positions.dtype}")


def check_question_answering_config(config: AlbertConfig) -> None:
    if config.num_labels != 2:
        raise ConfigError(f"AlbertForQuestionAnswering needs num_labels == 2 (start, end), got {config.num_labels}")


class AlbertForQuestionAnsweringModule(AlbertHeadBase):
    """Span extraction: start and end logits over the sequence, from a 2-wide `qa_outputs` layer."""

    @nn.compact
    def __call__(
        self,
        input_ids=None,
        *,
        start_positions=None,
        end_positions=None,
        deterministic: bool = True,
        **inputs,
    ) -> AlbertQuestionAnsweringOutput:
        check_question_answering_config(self.config)
        outputs, _ = self.encode(False, deterministic, dict(inputs, input_ids=input_ids))
        logits = self.dense_factory()(2, name="qa_outputs")(outputs.last_hidden_state)
        start_logits, end_logits = logits[..., 0], logits[..., 1]
        loss = None
        if (start_positions is None) != (end_positions is None):
            raise InputError("the question-answering loss needs both start_positions and end_positions")
        if start_positions is not None:
            check_positions("start_positions", start_positions, logits.shape[0])
            check_positions("end_positions", end_positions, logits.shape[0])
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        return AlbertQuestionAnsweringOutput(loss, start_logits, end_logits, outputs.hidden_states, outputs.attentions)
