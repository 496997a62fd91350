"""`albert_flax.pipeline(task, model)`: albert_core's task pipelines, run by JAX / Flax.

    from albert_flax import pipeline
    fill = pipeline("fill-mask", "weights/albert-tiny-pydocs")
    fill("The [MASK] statement imports a module.", top_k=5)

Everything but the forward call is albert_core.pipeline's (tokenizing, batching, answers), so
the three backends give the same answers. The model's own call is jitted (one compile per input
shape; albert_core buckets sequence lengths so there are few).
"""

from __future__ import annotations

import numpy as np

from albert_core.pipeline import OUTPUT_FIELDS, Backend, make_pipeline
from albert_core.schema import ARCHITECTURES

from . import models
from .models import AlbertPreTrainedModel


class FlaxBackend(Backend):
    name = "flax"
    model_class = AlbertPreTrainedModel

    def load(self, config, head, state):
        model = getattr(models, ARCHITECTURES[head])(config, _do_init=False)  # no init: the state fills it
        model.load_canonical_state(state)
        return model

    def forward(self, model, batch):
        out = model(**batch)  # train=False: deterministic
        return {f: np.asarray(getattr(out, f), dtype=np.float32) for f in OUTPUT_FIELDS if getattr(out, f, None) is not None}


def pipeline(task: str, model, tokenizer=None, **kwargs):
    """A callable for `task` ("fill-mask", "text-classification", "token-classification",
    "question-answering", "multiple-choice"): `model` is a folder, a weights file, a hub id or an
    albert_flax model (then pass `tokenizer`); kwargs: batch_size, max_length, task parameters."""
    return make_pipeline(task, model, tokenizer, FlaxBackend(), **kwargs)
