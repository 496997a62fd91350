"""`albert_torch.pipeline(task, model)`: albert_core's task pipelines, run by PyTorch.

    from albert_torch import pipeline
    fill = pipeline("fill-mask", "weights/albert-tiny-pydocs")
    fill("The [MASK] statement imports a module.", top_k=5)

Everything but the forward call is albert_core.pipeline's (tokenizing, batching, answers), so
the three backends give the same answers; this file loads a model and runs a numpy batch.
"""

from __future__ import annotations

import torch

from albert_core.pipeline import OUTPUT_FIELDS, Backend, make_pipeline

from .pretrained import AlbertPreTrainedModel


class TorchBackend(Backend):
    name = "torch"
    model_class = AlbertPreTrainedModel

    def load(self, config, head, state):
        from . import MODEL_FOR_HEAD

        with torch.device("meta"):  # no random init: every tensor comes from the state
            model = MODEL_FOR_HEAD[head](config)
        model.load_canonical_state(state)
        return model.eval()

    def prepare(self, model):
        return model.eval()  # dropout off: a pipeline's answers are deterministic

    def forward(self, model, batch):
        device = model.device
        with torch.inference_mode():
            out = model(**{name: torch.from_numpy(array).to(device) for name, array in batch.items()})
        return {f: getattr(out, f).float().cpu().numpy() for f in OUTPUT_FIELDS if getattr(out, f, None) is not None}


def pipeline(task: str, model, tokenizer=None, **kwargs):
    """A callable for `task` ("fill-mask", "text-classification", "token-classification",
    "question-answering", "multiple-choice"): `model` is a folder, a weights file, a hub id or an
    albert_torch model (then pass `tokenizer`); kwargs: batch_size, max_length, task parameters."""
    return make_pipeline(task, model, tokenizer, TorchBackend(), **kwargs)


__all__ = ["TorchBackend", "pipeline"]
