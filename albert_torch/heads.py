"""The six task models: an AlbertModel (`self.albert`) plus a head, with HF's names and losses.

Each forward validates its labels before running the encoder, so a bad label costs no compute
and fails with the numbers, not with an index error inside cross_entropy.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from albert_core.config import AlbertConfig
from albert_core.schema import Head

from .inputs import validate_inputs, validate_labels
from .layers import ACTIVATIONS, DEFAULT_ATTN_IMPLEMENTATION, _dropout
from .losses import (
    check_span_positions,
    classification_loss,
    pretraining_loss,
    sequence_classification_loss,
    span_loss,
    token_loss,
)
from .model import AlbertModel
from .outputs import AlbertClassifierOutput, AlbertForPreTrainingOutput, AlbertQuestionAnsweringOutput
from .pretrained import AlbertPreTrainedModel

def _input_shape(input_ids, inputs_embeds) -> tuple[int, ...]:
    return tuple(input_ids.shape) if input_ids is not None else tuple(inputs_embeds.shape[:-1])


class AlbertMLMHead(nn.Module):
    """H → E dense, activation, LayerNorm, then the decoder E → vocab (tied to the word embeddings)."""

    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.effective_mlm_layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.dense = nn.Linear(config.hidden_size, config.embedding_size)
        self.decoder = nn.Linear(config.embedding_size, config.vocab_size)
        self.decoder.bias = self.bias
        self.activation = ACTIVATIONS[config.hidden_act]

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.LayerNorm(self.activation(self.dense(hidden_states))))


class AlbertSOPHead(nn.Module):
    """Sentence-order prediction from the pooled output: 2 logits (in order / swapped)."""

    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.dropout_prob = config.classifier_dropout()
        self.classifier = nn.Linear(config.hidden_size, 2)

    def forward(self, pooled_output: torch.Tensor) -> torch.Tensor:
        return self.classifier(_dropout(pooled_output, self.dropout_prob, self.training))


class _AlbertWithHead(AlbertPreTrainedModel):
    add_pooling_layer = True

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=self.add_pooling_layer, attn_implementation=attn_implementation)

    def _classifier_dropout(self) -> float:
        return self.config.classifier_dropout()


class _AlbertWithMLMHead(_AlbertWithHead):
    def tie_weights(self) -> None:
        predictions = getattr(self, "predictions", None)
        if predictions is None:  # called by AlbertModel's post_init before the head exists
            return
        predictions.decoder.bias = predictions.bias
        if self.config.tie_word_embeddings:
            predictions.decoder.weight = self.albert.embeddings.word_embeddings.weight


class AlbertForPreTraining(_AlbertWithMLMHead):
    head = Head.PRETRAINING

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__(config, attn_implementation)
        self.predictions = AlbertMLMHead(config)
        self.sop_classifier = AlbertSOPHead(config)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels: Optional[torch.Tensor] = None,
        sentence_order_label: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ):
        """labels: [batch, seq] token ids, -100 = no loss; sentence_order_label: [batch], 1 = swapped."""
        shape = _input_shape(input_ids, inputs_embeds)
        validate_labels("pretraining", labels, self.config, shape)
        validate_labels("sentence_order", sentence_order_label, self.config, shape)
        outputs = self.albert(
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds, output_attentions, output_hidden_states
        )
        prediction_logits = self.predictions(outputs.last_hidden_state)
        sop_logits = self.sop_classifier(outputs.pooler_output)
        loss = pretraining_loss(prediction_logits, sop_logits, labels, sentence_order_label)
        out = AlbertForPreTrainingOutput(loss, prediction_logits, sop_logits, outputs.hidden_states, outputs.attentions)
        return out if return_dict else out.to_tuple()


class AlbertForMaskedLM(_AlbertWithMLMHead):
    head = Head.MASKED_LM
    add_pooling_layer = False

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__(config, attn_implementation)
        self.predictions = AlbertMLMHead(config)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ):
        """labels: [batch, seq] token ids; -100 marks positions that give no loss."""
        validate_labels("masked_lm", labels, self.config, _input_shape(input_ids, inputs_embeds))
        outputs = self.albert(
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds, output_attentions, output_hidden_states
        )
        logits = self.predictions(outputs.last_hidden_state)
        loss = None if labels is None else token_loss(logits, labels)
        out = AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)
        return out if return_dict else out.to_tuple()


class AlbertForSequenceClassification(_AlbertWithHead):
    head = Head.SEQUENCE_CLASSIFICATION

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__(config, attn_implementation)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ):
        """labels: [batch] class ids, [batch] or [batch, 1] floats (regression, num_labels = 1), or
        [batch, num_labels] floats (multi-label); config.problem_type decides, else HF's rule."""
        validate_labels("sequence_classification", labels, self.config, _input_shape(input_ids, inputs_embeds))
        outputs = self.albert(
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds, output_attentions, output_hidden_states
        )
        logits = self.classifier(_dropout(outputs.pooler_output, self._classifier_dropout(), self.training))
        loss = None if labels is None else sequence_classification_loss(self.config, logits, labels)
        out = AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)
        return out if return_dict else out.to_tuple()


class AlbertForMultipleChoice(_AlbertWithHead):
    head = Head.MULTIPLE_CHOICE

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__(config, attn_implementation)
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ):
        """Inputs [batch, choices, seq(, E)]; labels [batch], the index of the right choice."""
        validate_inputs(
            self.config, multiple_choice=True,
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, inputs_embeds=inputs_embeds, head_mask=head_mask,
        )
        shape = _input_shape(input_ids, inputs_embeds)
        num_choices = shape[1]
        validate_labels("multiple_choice", labels, self.config, shape, num_choices=num_choices)

        def flat(x):  # [batch, choices, seq, ...] → [batch·choices, seq, ...]
            return None if x is None else x.reshape(-1, *x.shape[2:])

        outputs = self.albert(
            flat(input_ids), flat(attention_mask), flat(token_type_ids), flat(position_ids), head_mask, flat(inputs_embeds),
            output_attentions, output_hidden_states,
        )
        pooled = _dropout(outputs.pooler_output, self._classifier_dropout(), self.training)
        logits = self.classifier(pooled).view(-1, num_choices)
        loss = None if labels is None else classification_loss(logits, labels)
        out = AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)
        return out if return_dict else out.to_tuple()


class AlbertForTokenClassification(_AlbertWithHead):
    head = Head.TOKEN_CLASSIFICATION
    add_pooling_layer = False

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__(config, attn_implementation)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _classifier_dropout(self) -> float:
        return self.config.classifier_dropout(per_token=True)

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ):
        """labels: [batch, seq] label ids; -100 marks positions that give no loss."""
        validate_labels("token_classification", labels, self.config, _input_shape(input_ids, inputs_embeds))
        outputs = self.albert(
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds, output_attentions, output_hidden_states
        )
        logits = self.classifier(_dropout(outputs.last_hidden_state, self._classifier_dropout(), self.training))
        loss = None if labels is None else token_loss(logits, labels)
        out = AlbertClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions)
        return out if return_dict else out.to_tuple()


class AlbertForQuestionAnswering(_AlbertWithHead):
    head = Head.QUESTION_ANSWERING
    add_pooling_layer = False

    def __init__(self, config: AlbertConfig, attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION):
        super().__init__(config, attn_implementation)
        if config.num_labels != 2:
            # qa_outputs is [num_labels, hidden] in the schema (as HF); its two rows are start and end.
            raise ValueError(f"AlbertForQuestionAnswering needs num_labels = 2 (start, end), got {config.num_labels}")
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        start_positions: Optional[torch.Tensor] = None,
        end_positions: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ):
        """start/end_positions: [batch] token indices; out-of-range ones are clamped and ignored (HF)."""
        if (start_positions is None) != (end_positions is None):
            raise ValueError("pass both start_positions and end_positions, or neither")
        if start_positions is not None:
            batch = _input_shape(input_ids, inputs_embeds)[0]
            start_positions = check_span_positions("start_positions", start_positions, batch)
            end_positions = check_span_positions("end_positions", end_positions, batch)
        outputs = self.albert(
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds, output_attentions, output_hidden_states
        )
        start_logits, end_logits = self.qa_outputs(outputs.last_hidden_state).unbind(dim=-1)
        loss = None
        if start_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        out = AlbertQuestionAnsweringOutput(loss, start_logits, end_logits, outputs.hidden_states, outputs.attentions)
        return out if return_dict else out.to_tuple()
