"""albert_tf: ALBERT as Keras 3 models on the TensorFlow backend, numerically equal to HF transformers.

    import albert_tf
    model = albert_tf.AlbertForMaskedLM.from_pretrained("albert/albert-base-v2")
    logits = model.predict_on_batch({"input_ids": ids, "attention_mask": mask})["logits"]  # XLA

Same class names, module tree and output field names as albert_torch and albert_flax; weights come
in and go out through albert_core's canonical state (HF PyTorch names). Importing this package
with Keras set to another backend raises ImportError saying how to fix it.
"""

from ._backend import require_tensorflow_backend

require_tensorflow_backend()

from .heads import (  # noqa: E402
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertMLMHead,
    AlbertSOPHead,
)
from .layers import (  # noqa: E402
    AlbertAttention,
    AlbertEmbeddings,
    AlbertLayer,
    AlbertLayerGroup,
    AlbertMainLayer,
    AlbertTransformer,
)
from .model import AlbertModel  # noqa: E402
from .pretrained import AlbertPreTrainedModel  # noqa: E402
from .pipelines import pipeline  # noqa: E402

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
    "MODEL_FOR_HEAD",
    "pipeline",
    "AlbertAttention",
    "AlbertEmbeddings",
    "AlbertForMaskedLM",
    "AlbertForMultipleChoice",
    "AlbertForPreTraining",
    "AlbertForQuestionAnswering",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertLayer",
    "AlbertLayerGroup",
    "AlbertMLMHead",
    "AlbertMainLayer",
    "AlbertModel",
    "AlbertPreTrainedModel",
    "AlbertSOPHead",
    "AlbertTransformer",
]
