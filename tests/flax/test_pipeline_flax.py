"""albert_flax.pipeline: every task's answer equals the one recomputed from a plain call of the
model (top-k ids = argsort of its logits, scores = their softmax, spans = the brute-force best);
a model instance works too; and the task commands with --backend flax."""

from __future__ import annotations

import numpy as np
import pytest

import albert_flax
from albert_core.config import AlbertConfig
from albert_core.schema import HEAD_OF_ARCHITECTURE
from tests.core.pipeline_helpers import CHECKS, CLI_CASES, check_cli_batch_file, check_cli_json, check_task


def plain_forward(folder):
    """(model, forward(inputs) -> numpy outputs) by the model's own call, no pipeline code."""
    architecture = AlbertConfig.from_pretrained(folder).architectures[0]
    model = getattr(albert_flax, architecture).from_pretrained(folder)

    def forward(inputs):
        out = model(**inputs)
        return {k: np.asarray(getattr(out, k)) for k in ("logits", "start_logits", "end_logits") if getattr(out, k, None) is not None}

    return model, forward


@pytest.mark.parametrize("task", list(CHECKS))
def test_pipeline_equals_the_plain_forward(tmp_path, task):
    check_task(tmp_path, task, albert_flax.pipeline, plain_forward)


def test_pipeline_takes_a_model_instance(tmp_path):
    check_task(tmp_path, "token-classification", albert_flax.pipeline, plain_forward, instance=True)


@pytest.mark.parametrize("command", list(CLI_CASES))
def test_cli_json_is_the_pipelines_answer(tmp_path, capsys, command):
    check_cli_json(tmp_path, capsys, albert_flax.pipeline, "flax", command)


def test_cli_batch_file(tmp_path, capsys):
    check_cli_batch_file(tmp_path, capsys, albert_flax.pipeline, "flax")
