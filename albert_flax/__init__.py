"""albert_flax: ALBERT in JAX/Flax, with the same weights and numbers as albert_torch and albert_tf.

The seven model classes are used as Hugging Face's Flax models are (`params=`, `dropout_rng=`,
`train=`, plus `labels=` for the loss); the linen modules behind them (`AlbertModule`,
`AlbertForMaskedLMModule`, ...) are pure and public for your own jit, grad and sharding.
The shared layers run under `nn.scan`, so compile time does not grow with num_hidden_layers.
"""

from .heads import (
    AlbertForMaskedLMModule,
    AlbertForMultipleChoiceModule,
    AlbertForPreTrainingModule,
    AlbertForQuestionAnsweringModule,
    AlbertForSequenceClassificationModule,
    AlbertForTokenClassificationModule,
)
from .modeling import AlbertModule
from .models import (
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertModel,
    AlbertPreTrainedModel,
)
from .outputs import AlbertClassifierOutput, AlbertForPreTrainingOutput, AlbertModelOutput, AlbertQuestionAnsweringOutput
from .params import canonical_to_params, params_to_canonical
from .pipelines import pipeline

__all__ = [
    "AlbertClassifierOutput",
    "AlbertForMaskedLM",
    "AlbertForMaskedLMModule",
    "AlbertForMultipleChoice",
    "AlbertForMultipleChoiceModule",
    "AlbertForPreTraining",
    "AlbertForPreTrainingModule",
    "AlbertForPreTrainingOutput",
    "AlbertForQuestionAnswering",
    "AlbertForQuestionAnsweringModule",
    "AlbertForSequenceClassification",
    "AlbertForSequenceClassificationModule",
    "AlbertForTokenClassification",
    "AlbertForTokenClassificationModule",
    "AlbertModel",
    "AlbertModelOutput",
    "AlbertModule",
    "AlbertPreTrainedModel",
    "AlbertQuestionAnsweringOutput",
    "canonical_to_params",
    "params_to_canonical",
    "pipeline",
]
