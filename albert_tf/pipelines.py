"""`albert_tf.pipeline(task, model)`: albert_core's task pipelines, run by TensorFlow / Keras 3.

    from albert_tf import pipeline
    fill = pipeline("fill-mask", "weights/albert-tiny-pydocs")
    fill("The [MASK] statement imports a module.", top_k=5)

Everything but the forward call is albert_core.pipeline's (tokenizing, batching, answers), so
the three backends give the same answers.

Eager or XLA: Keras' predict_on_batch compiles each input shape with XLA, after which a call is
4-6x faster than an eager one, but the compile costs as much as 10-15 eager calls (measured on
a 6-layer, 256-wide model: 6 s compile, 0.08 s vs 0.4 s a call). So a shape runs eagerly the
first time and compiled from its second batch on: a one-off command never waits for XLA, a loop
or a long --input file gets the fast path (albert_core buckets sequence lengths, so shapes
repeat). The two paths agree to float rounding (~1e-6 on logits).
"""

from __future__ import annotations

import numpy as np

from albert_core.pipeline import OUTPUT_FIELDS, Backend, make_pipeline

from .pretrained import AlbertPreTrainedModel


class TFBackend(Backend):
    name = "tf"
    model_class = AlbertPreTrainedModel

    def __init__(self):
        self._seen: set[tuple[int, ...]] = set()  # input shapes run once already

    def load(self, config, head, state):
        from . import MODEL_FOR_HEAD

        model = MODEL_FOR_HEAD[head](config)
        model.load_canonical_state(state)
        return model

    def forward(self, model, batch):
        shape = batch["input_ids"].shape
        if shape in self._seen:
            out = model.predict_on_batch(dict(batch))  # XLA (Keras compiles a shape on its first such call)
        else:
            self._seen.add(shape)
            out = model(dict(batch), training=False)
        return {f: np.asarray(out[f], dtype=np.float32) for f in OUTPUT_FIELDS if out.get(f) is not None}


def pipeline(task: str, model, tokenizer=None, **kwargs):
    """A callable for `task` ("fill-mask", "text-classification", "token-classification",
    "question-answering", "multiple-choice"): `model` is a folder, a weights file, a hub id or an
    albert_tf model (then pass `tokenizer`); kwargs: batch_size, max_length, task parameters."""
    return make_pipeline(task, model, tokenizer, TFBackend(), **kwargs)
