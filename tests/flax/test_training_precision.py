"""Mixed precision in albert_flax.training: bf16 / fp16 compute with float32 parameters track the
float32 loss, and fp16's dynamic loss scale grows, backs off and skips overflowing steps as
torch's GradScaler does."""

import json

import flax.serialization
import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.numpy import load_file

import albert_flax
from albert_core.data import BatchList
from albert_core.training import CheckpointDir, TrainingArguments
from albert_flax.params import initial_state
from albert_flax.training import train
from albert_flax.training.state import STATE_FILE, LossScale

from .training_data import compilation_cache  # noqa: F401 (fixture)
from .training_data import random_batches, tiny_training_config

pytestmark = pytest.mark.usefixtures("compilation_cache")


def test_loss_scale_policy():
    scale = LossScale.create()
    assert float(scale.scale) == 2.0**15
    scale = scale.adjust(jnp.asarray(True)).adjust(jnp.asarray(True))
    assert (float(scale.scale), int(scale.good_steps)) == (2.0**15, 2)
    scale = scale.adjust(jnp.asarray(False))  # overflow: halve, count again from 0
    assert (float(scale.scale), int(scale.good_steps)) == (2.0**14, 0)
    scale = LossScale(scale=jnp.float32(2.0**14), good_steps=jnp.int32(LossScale.GROWTH_INTERVAL - 1))
    scale = scale.adjust(jnp.asarray(True))  # the GROWTH_INTERVAL-th good step in a row: double
    assert (float(scale.scale), int(scale.good_steps)) == (2.0**15, 0)


def _run(tmp_path, precision, max_steps=2):
    config = tiny_training_config()
    batches = random_batches("pretrain", config, count=2, rows=4, seed=4)
    args = TrainingArguments(
        output_dir=str(tmp_path), task="pretrain", precision=precision, max_steps=max_steps, batch_size=4,
        learning_rate=1e-2, dropout=False, log_every=1, progress=False,
    )
    train(args, config, BatchList(batches))
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    saved = flax.serialization.msgpack_restore((CheckpointDir(tmp_path).latest() / "optimizer" / STATE_FILE).read_bytes())
    return config, batches, records, saved


# Step-1 loss vs the float32 model's, relative; measured on this config: bf16 6e-5, fp16 1e-6.
TOLERANCE = {"bf16": 1e-3, "fp16": 1e-4}


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_tracks_the_float32_loss(precision, tmp_path):
    config, batches, records, saved = _run(tmp_path, precision)
    model = albert_flax.AlbertForPreTraining(config, seed=0)  # the loop's initial weights (seed 0)
    keys = ("input_ids", "attention_mask", "token_type_ids", "labels", "sentence_order_label")
    fp32_loss = float(model(**{k: batches[0][k] for k in keys}).loss)
    assert records[0]["loss"] == pytest.approx(fp32_loss, rel=TOLERANCE[precision])
    assert all(np.isfinite(r["loss"]) and np.isfinite(r["grad_norm"]) for r in records)
    weights = load_file(tmp_path / "model.safetensors")
    assert {w.dtype for w in weights.values()} == {np.dtype(np.float32)}  # parameters stay float32
    if precision == "fp16":
        assert (float(saved["loss_scale"]["scale"]), int(saved["loss_scale"]["good_steps"])) == (2.0**15, 2)
    else:
        assert saved["loss_scale"] is None


def test_fp16_overflow_skips_the_step(tmp_path, monkeypatch):
    """A loss scale of 2^30 overflows float16 gradients: the step changes no weight and halves the scale."""
    monkeypatch.setattr(LossScale, "INITIAL", 2.0**30)
    config, _, records, saved = _run(tmp_path, "fp16", max_steps=1)
    assert not np.isfinite(records[0]["grad_norm"])
    weights, start = load_file(tmp_path / "model.safetensors"), initial_state(config, "pretraining", seed=0)
    for name, value in start.items():
        np.testing.assert_array_equal(weights[name], value, err_msg=name)
    assert (float(saved["loss_scale"]["scale"]), int(saved["loss_scale"]["good_steps"])) == (2.0**29, 0)
