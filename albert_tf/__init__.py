"""albert_tf: ALBERT as Keras 3 models on the TensorFlow backend, numerically equal to HF transformers.

    import albert_tf
    model = albert_tf.AlbertForMaskedLM.from_pretrained("albert/albert-base-v2")
    logits = model.predict_on_batch({"input_ids": ids, "attention_mask": mask})["logits"]  # XLA

Importing this package with Keras set to another backend raises ImportError saying how to fix it.
"""

from ._backend import require_tensorflow_backend

require_tensorflow_backend()

from .base import AlbertPreTrainedModel  # noqa: E402
from .models import (  # noqa: E402
    MODEL_CLASSES,
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertModel,
)

__all__ = [
    "MODEL_CLASSES",
    "AlbertForMaskedLM",
    "AlbertForMultipleChoice",
    "AlbertForPreTraining",
    "AlbertForQuestionAnswering",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertModel",
    "AlbertPreTrainedModel",
]
