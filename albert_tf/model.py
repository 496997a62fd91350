"""AlbertModel: the bare encoder (last_hidden_state, pooler_output; hidden_states, attentions on request)."""

from __future__ import annotations

from albert_core.schema import Head

from .pretrained import AlbertPreTrainedModel


class AlbertModel(AlbertPreTrainedModel):
    head = Head.BASE

    def forward(self, features, training, output_attentions, output_hidden_states):
        return self.albert(
            **features, output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training
        )
