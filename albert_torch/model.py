"""AlbertModel: embeddings → encoder → pooler, with HF's forward signature and named outputs."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from albert_core.config import AlbertConfig
from albert_core.schema import Head

from .inputs import attention_bias, expand_head_mask, validate_inputs
from .layers import DEFAULT_ATTN_IMPLEMENTATION, AlbertEmbeddings, AlbertTransformer
from .outputs import AlbertModelOutput
from .pretrained import AlbertPreTrainedModel


class AlbertModel(AlbertPreTrainedModel):
    head = Head.BASE
    canonical_prefix = "albert."

    def __init__(
        self,
        config: AlbertConfig,
        add_pooling_layer: bool = True,
        attn_implementation: str = DEFAULT_ATTN_IMPLEMENTATION,
    ):
        super().__init__(config)
        self.embeddings = AlbertEmbeddings(config)
        self.encoder = AlbertTransformer(config, attn_implementation)
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size) if add_pooling_layer else None
        self.pooler_activation = nn.Tanh() if add_pooling_layer else None
        self.set_attn_implementation(attn_implementation)
        self.post_init()

    def forward(
        self,
        input_ids: Optional[torch.Tensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        token_type_ids: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        inputs_embeds: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ):
        """input_ids / inputs_embeds [batch, seq(, E)]; attention_mask 1 = token, 0 = padding.

        head_mask [heads] or [num_hidden_layers, heads]: row l scales the heads of every inner
        layer of step l (HF's PyTorch ALBERT takes row k for inner layer k instead).
        """
        validate_inputs(
            self.config,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            head_mask=head_mask,
        )
        embeddings = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)
        last, hidden_states, attentions = self.encoder(
            embeddings,
            attention_bias(attention_mask, embeddings.dtype),
            expand_head_mask(head_mask, self.config.num_hidden_layers, embeddings),
            output_attentions,
            output_hidden_states,
        )
        pooled = self.pooler_activation(self.pooler(last[:, 0])) if self.pooler is not None else None
        out = AlbertModelOutput(last, pooled, hidden_states, attentions)
        return out if return_dict else out.to_tuple()
