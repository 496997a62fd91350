"""albert_torch.pipeline: every task's answer equals the one recomputed from a plain forward of the
model (top-k ids = argsort of its logits, scores = their softmax, spans = the brute-force best),
for a checkpoint path and for a model instance; and the task commands with --backend torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import albert_torch
from albert_core.config import AlbertConfig
from albert_core.schema import HEAD_OF_ARCHITECTURE
from tests.core.test_checkpoint_hub import add_to_cache
from tests.core.pipeline_helpers import (
    CHECKS, CLI_CASES, FILL_MASK_TEXT, SPIECE, check_cli_batch_file, check_cli_json, check_task, task_checkpoint,
)


def plain_forward(folder):
    """(model, forward(inputs) -> numpy outputs) by the model's own call, no pipeline code."""
    head = HEAD_OF_ARCHITECTURE[AlbertConfig.from_pretrained(folder).architectures[0]]
    model = albert_torch.MODEL_FOR_HEAD[head].from_pretrained(folder)

    def forward(inputs):
        with torch.no_grad():
            out = model(**{k: torch.from_numpy(v).long() for k, v in inputs.items()})
        return {k: getattr(out, k).numpy() for k in ("logits", "start_logits", "end_logits") if getattr(out, k, None) is not None}

    return model, forward


@pytest.mark.parametrize("task", list(CHECKS))
def test_pipeline_equals_the_plain_forward(tmp_path, task):
    check_task(tmp_path, task, albert_torch.pipeline, plain_forward)


def test_pipeline_takes_a_model_instance_and_batches(tmp_path):
    def training_mode_forward(folder):
        model, forward = plain_forward(folder)
        return model.train(), forward  # the pipeline switches dropout off

    pipe = check_task(tmp_path, "fill-mask", albert_torch.pipeline, training_mode_forward, instance=True)
    texts = [f"Text number {i} has a [MASK] in it." for i in range(5)]
    pipe.batch_size = 2
    batched = pipe(texts, top_k=3)  # batches of 2, 2, 1
    one_by_one = [pipe(text, top_k=3) for text in texts]
    assert [[c["token"] for c in r] for r in batched] == [[c["token"] for c in r] for r in one_by_one]
    np.testing.assert_allclose([[c["score"] for c in r] for r in batched], [[c["score"] for c in r] for r in one_by_one], rtol=1e-5)


def test_a_pretraining_model_serves_fill_mask(tmp_path):
    folder = task_checkpoint(tmp_path, "fill-mask")
    want = albert_torch.pipeline("fill-mask", str(folder))(FILL_MASK_TEXT)
    pretraining = albert_torch.AlbertForPreTraining.from_pretrained(folder)  # the same MLM head (+ a new SOP head)
    got = albert_torch.pipeline("fill-mask", pretraining, tokenizer=SPIECE)(FILL_MASK_TEXT)
    assert [[c["token"] for c in m] for m in got] == [[c["token"] for c in m] for m in want]


@pytest.mark.parametrize("command", list(CLI_CASES))
def test_cli_json_is_the_pipelines_answer(tmp_path, capsys, command):
    check_cli_json(tmp_path, capsys, albert_torch.pipeline, "torch", command)


def test_cli_batch_file(tmp_path, capsys):
    check_cli_batch_file(tmp_path, capsys, albert_torch.pipeline, "torch")


def test_cli_loads_a_hub_id_from_the_local_cache_offline(tmp_path):
    """MODEL as a hub id: weights, config and spiece.model come from huggingface_hub's cache
    (built here in its on-disk layout), in a fresh process with HF_HUB_OFFLINE=1."""
    folder = task_checkpoint(tmp_path, "fill-mask")
    cache = tmp_path / "hub"
    add_to_cache(cache, "someone/albert-tiny", {name: folder / name for name in ("config.json", "model.safetensors", "spiece.model")})
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home")}
    command = [sys.executable, "-m", "albert_core.cli", "fill-mask", "someone/albert-tiny", FILL_MASK_TEXT, "--backend", "torch", "--json"]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)["results"]["torch"][0]
    assert got == json.loads(json.dumps(albert_torch.pipeline("fill-mask", str(folder))(FILL_MASK_TEXT)))
