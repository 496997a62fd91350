"""albert_tf.pipeline: every task's answer equals the one recomputed from a plain (eager) call of
the model (top-k ids = argsort of its logits, scores = their softmax, spans = the brute-force
best); a shape's second batch runs XLA-compiled with the same answers; a model instance works
too; and the task commands with --backend tf."""

from __future__ import annotations

import numpy as np
import pytest

import albert_tf
from albert_core.config import AlbertConfig
from albert_core.schema import HEAD_OF_ARCHITECTURE
from tests.core.pipeline_helpers import (
    CHECKS, CLI_CASES, FILL_MASK_TEXT, SCORE_RTOL, check_cli_batch_file, check_cli_json, check_task, task_checkpoint,
)


def plain_forward(folder):
    """(model, forward(inputs) -> numpy outputs) by the model's own eager call, no pipeline code."""
    head = HEAD_OF_ARCHITECTURE[AlbertConfig.from_pretrained(folder).architectures[0]]
    model = albert_tf.MODEL_FOR_HEAD[head].from_pretrained(folder)

    def forward(inputs):
        out = model(inputs, training=False)
        return {k: np.asarray(out[k]) for k in ("logits", "start_logits", "end_logits") if k in out}

    return model, forward


@pytest.mark.parametrize("task", list(CHECKS))
def test_pipeline_equals_the_plain_forward(tmp_path, task):
    check_task(tmp_path, task, albert_tf.pipeline, plain_forward)


def test_pipeline_takes_a_model_instance(tmp_path):
    check_task(tmp_path, "multiple-choice", albert_tf.pipeline, plain_forward, instance=True)


def test_a_repeated_shape_runs_compiled_with_the_same_answers(tmp_path, monkeypatch):
    folder = task_checkpoint(tmp_path, "fill-mask")
    pipe = albert_tf.pipeline("fill-mask", str(folder))
    compiled = []
    original = type(pipe.model).predict_on_batch
    monkeypatch.setattr(type(pipe.model), "predict_on_batch", lambda self, x: compiled.append(1) or original(self, x))
    eager = pipe(FILL_MASK_TEXT)
    assert not compiled  # a one-off call does not wait for XLA
    xla = pipe(FILL_MASK_TEXT)
    assert compiled == [1]
    assert [[c["token"] for c in m] for m in xla] == [[c["token"] for c in m] for m in eager]
    np.testing.assert_allclose([c["score"] for m in xla for c in m], [c["score"] for m in eager for c in m], rtol=SCORE_RTOL)


@pytest.mark.parametrize("command", list(CLI_CASES))
def test_cli_json_is_the_pipelines_answer(tmp_path, capsys, command):
    check_cli_json(tmp_path, capsys, albert_tf.pipeline, "tf", command)


def test_cli_batch_file(tmp_path, capsys):
    check_cli_batch_file(tmp_path, capsys, albert_tf.pipeline, "tf")
