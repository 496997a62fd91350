"""albert_torch: ALBERT as torch.nn.Modules, numerically at parity with HF transformers' PyTorch ALBERT.

Same class names, module tree and output field names as albert_tf and albert_flax; weights come in
and go out through albert_core's canonical state (HF PyTorch names), so any backend's save loads here.
"""

from .heads import (
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertMLMHead,
    AlbertSOPHead,
)
from .layers import AlbertAttention, AlbertEmbeddings, AlbertLayer, AlbertLayerGroup, AlbertTransformer
from .model import AlbertModel
from .outputs import (
    AlbertClassifierOutput,
    AlbertForPreTrainingOutput,
    AlbertModelOutput,
    AlbertQuestionAnsweringOutput,
)
from .pretrained import AlbertPreTrainedModel
from .pipelines import pipeline

# The model class of each schema head, for code that picks a class from a checkpoint's head.
MODEL_FOR_HEAD = {
    cls.head: cls
    for cls in (
        AlbertModel,
        AlbertForPreTraining,
        AlbertForMaskedLM,
        AlbertForSequenceClassification,
        AlbertForMultipleChoice,
        AlbertForTokenClassification,
        AlbertForQuestionAnswering,
    )
}

__all__ = [
    "AlbertAttention",
    "AlbertClassifierOutput",
    "AlbertEmbeddings",
    "AlbertForMaskedLM",
    "AlbertForMultipleChoice",
    "AlbertForPreTraining",
    "AlbertForPreTrainingOutput",
    "AlbertForQuestionAnswering",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertLayer",
    "AlbertLayerGroup",
    "AlbertMLMHead",
    "AlbertModel",
    "AlbertModelOutput",
    "AlbertPreTrainedModel",
    "AlbertQuestionAnsweringOutput",
    "AlbertSOPHead",
    "AlbertTransformer",
    "MODEL_FOR_HEAD",
    "pipeline",
]
