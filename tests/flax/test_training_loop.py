"""albert_flax.training.train on tiny random batches: accumulation gives the full batch's step,
every task trains and writes its log, checkpoints and final weights, and a foreign backend's
checkpoint continues with its weights and a fresh optimizer."""

import json
import logging

import jax
import numpy as np
import pytest
from safetensors.numpy import load_file

import albert_flax
from albert_core.data import BatchList
from albert_core.schema import ARCHITECTURES
from albert_core.training import (
    LOSS_PARTS,
    CheckpointDir,
    TrainerState,
    TrainingArguments,
    decays_weight,
    learning_rate_at,
    make_evaluator,
)
from albert_core.training.arguments import TrainingArgumentError
from albert_core.training.checkpoints import ResumeError
from albert_flax.params import initial_state, param_specs
from albert_flax.training import train

from .training_data import compilation_cache  # noqa: F401 (fixture)
from .training_data import concatenate, random_batches, tiny_training_config

pytestmark = pytest.mark.usefixtures("compilation_cache")

TASK_CONFIGS = {"qa": dict(num_labels=2)}
LABEL_KEYS = {"pretrain": ("labels", "sentence_order_label"), "qa": ("start_positions", "end_positions")}


def _records(output_dir, split):
    lines = (output_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == split]


def _model_arguments(batch, task):
    """The model's inputs and HF label arguments from a micro-batch."""
    keys = ("input_ids", "attention_mask", "token_type_ids") + LABEL_KEYS.get(task, ("labels",))
    return {k: batch[k] for k in keys}


def _model_loss(model_class, config, weights, batch, task):
    """The model's own (HF) loss of one micro-batch, and its gradient, at canonical `weights`."""
    model = model_class(config, _do_init=False)
    model.load_canonical_state(weights)
    inputs = {k: np.asarray(v, np.int32) for k, v in _model_arguments(batch, task).items()}
    loss, grads = jax.value_and_grad(lambda p: model.apply(p, **inputs).loss)(model.params)
    return float(loss), model.canonical_state(grads)


def test_accumulation_gives_the_concatenated_batch_step(tmp_path):
    """2 micro-batches of 2 rows per step (uneven MLM label counts) == 1 micro-batch of those 4 rows."""
    config = tiny_training_config()
    micro = random_batches("pretrain", config, count=4, rows=2, seed=5)
    counts = [int(np.sum(b["labels"] != -100)) for b in micro]
    assert counts[0] != counts[1] and counts[2] != counts[3], counts
    whole = [concatenate(micro[0:2]), concatenate(micro[2:4])]
    common = dict(task="pretrain", max_steps=2, learning_rate=1e-2, warmup_steps=0, dropout=False, log_every=1, progress=False)
    train(TrainingArguments(output_dir=str(tmp_path / "a"), batch_size=2, grad_accum_steps=2, **common), config, BatchList(micro))
    train(TrainingArguments(output_dir=str(tmp_path / "b"), batch_size=4, grad_accum_steps=1, **common), config, BatchList(whole))

    accumulated, concatenated = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    for name, value in accumulated.items():
        np.testing.assert_allclose(value, concatenated[name], rtol=0, atol=1e-6, err_msg=name)
    moved = max(float(np.max(np.abs(value - initial_state(config, "pretraining")[name]))) for name, value in accumulated.items())
    assert moved > 1e-3  # the steps did move the weights
    losses_a = [r["loss"] for r in _records(tmp_path / "a", "train")]
    losses_b = [r["loss"] for r in _records(tmp_path / "b", "train")]
    np.testing.assert_allclose(losses_a, losses_b, rtol=1e-6)

    # Step 1's loss and pre-clip gradient norm are the model's own HF loss (mean MLM CE + mean SOP CE) on the 4 rows.
    loss, grads = _model_loss(albert_flax.AlbertForPreTraining, config, initial_state(config, "pretraining"), whole[0], "pretrain")
    trained = [spec.name for spec in param_specs(config, "pretraining")]  # tied copies (the decoder) excluded
    norm = float(np.sqrt(sum(np.sum(np.square(grads[name], dtype=np.float64)) for name in trained)))
    first = _records(tmp_path / "a", "train")[0]
    assert first["loss"] == pytest.approx(loss, rel=1e-6)
    assert first["grad_norm"] == pytest.approx(norm, rel=1e-5)


@pytest.mark.parametrize("task", ["pretrain", "classify", "tag", "choice", "qa"])
def test_every_task_trains_logs_and_saves(task, tmp_path, caplog):
    config = tiny_training_config(**TASK_CONFIGS.get(task, {}))
    eval_batch = random_batches(task, config, count=1, rows=3, seed=9)
    args = TrainingArguments(
        output_dir=str(tmp_path),
        task=task,
        max_steps=2,
        warmup_steps=1,
        batch_size=4,
        log_every=1,
        eval_every=2,
        save_every=1,
        keep_checkpoints=1,
        progress=False,
    )
    with caplog.at_level(logging.WARNING, logger="albert_flax.training.loop"):
        result = train(args, config, BatchList(random_batches(task, config, count=3, rows=4)), BatchList(eval_batch))

    train_records = _records(tmp_path, "train")
    assert [r["step"] for r in train_records] == [1, 2]
    for record in train_records:
        assert record["learning_rate"] == pytest.approx(learning_rate_at(record["step"] - 1, 1e-3, 1, 2), abs=1e-10)
        assert np.isfinite(record["loss"]) and record["grad_norm"] > 0
    assert result["train_loss"] == train_records[-1]["loss"] and result["step"] == 2
    assert (tmp_path / "metrics.csv").is_file()
    # The chart needs matplotlib (the plot extra): without it, a warning instead of the PNG.
    try:
        import matplotlib  # noqa: F401

        has_matplotlib = True
    except ImportError:
        has_matplotlib = False
    assert (tmp_path / "loss_curve.png").is_file() == has_matplotlib
    assert ("no loss_curve.png" in caplog.text) != has_matplotlib

    # keep_checkpoints=1: only step 2 is left, whole, with the optimizer state.
    checkpoints = CheckpointDir(tmp_path)
    assert checkpoints.steps() == [2]
    state, _, checkpoint_weights = CheckpointDir.load(checkpoints.latest())
    assert (state.backend, state.task, state.micro_batches) == ("flax", task, 2)
    assert (checkpoints.latest() / "optimizer" / "train_state.msgpack").is_file()

    # The final weights load with from_pretrained, equal the last checkpoint's, and give the eval loss.
    model_class = getattr(albert_flax, ARCHITECTURES[args.head])
    model = model_class.from_pretrained(tmp_path)
    assert not model.load_report.initialised
    final = model.canonical_state()
    for name, value in checkpoint_weights.items():
        np.testing.assert_array_equal(final[name], value, err_msg=name)
    outputs = model(**_model_arguments(eval_batch[0], task))  # one forward: the HF loss and the logits
    (eval_record,) = _records(tmp_path, "eval")
    assert eval_record["step"] == 2 and eval_record["loss"] == pytest.approx(float(outputs.loss), rel=1e-5)
    assert result["eval_loss"] == eval_record["loss"]

    # The eval record carries the task's Evaluator metrics of the final model's outputs (QA's need the examples).
    evaluator = make_evaluator(task, BatchList(eval_batch), config)
    assert (evaluator is None) == (task == "qa")
    if evaluator is not None:
        evaluator.update(eval_batch[0], {part.logits_key: np.asarray(getattr(outputs, part.logits_key)) for part in LOSS_PARTS[task]})
        expected = evaluator.result()
        assert expected and {k: eval_record[k] for k in expected} == pytest.approx(expected)
        assert result["eval_" + next(iter(expected))] == eval_record[next(iter(expected))]


def test_a_foreign_checkpoint_continues_with_its_weights_and_a_fresh_optimizer(tmp_path, caplog):
    """Another backend's step-2 checkpoint: step 3 trains on micro-batch 2 from its weights, at the
    schedule's step-2 rate, with Adam restarted: a first Adam step is lr·g/(|g| + eps) (plus weight decay)."""
    config = tiny_training_config()
    weights = initial_state(config, "pretraining", seed=7)
    CheckpointDir(tmp_path).save(TrainerState(step=2, micro_batches=2, backend="torch", task="pretrain"), config, weights)
    batches = random_batches("pretrain", config, count=3, rows=4, seed=2)
    args = TrainingArguments(
        output_dir=str(tmp_path), task="pretrain", max_steps=3, warmup_steps=1, learning_rate=1e-2, weight_decay=0.01,
        max_grad_norm=None, batch_size=4, dropout=False, log_every=1, progress=False,
    )
    with caplog.at_level(logging.WARNING, logger="albert_flax.training.loop"):
        train(args, config, BatchList(batches))
    assert "the optimizer state restarts" in caplog.text

    (record,) = _records(tmp_path, "train")
    lr = learning_rate_at(2, 1e-2, 1, 3)
    assert record["step"] == 3 and record["learning_rate"] == pytest.approx(lr, rel=1e-6)
    loss, grads = _model_loss(albert_flax.AlbertForPreTraining, config, weights, batches[2], "pretrain")
    assert record["loss"] == pytest.approx(loss, rel=1e-6)

    after = load_file(tmp_path / "model.safetensors")
    moved_by_lr = 0
    for spec in param_specs(config, "pretraining"):
        g, p = grads[spec.name], weights[spec.name]
        decay = args.weight_decay * p if decays_weight(spec.name) else 0.0
        first_adam_step = -lr * (g / (np.abs(g) + args.adam_eps) + decay)
        np.testing.assert_allclose(after[spec.name] - p, first_adam_step, rtol=0, atol=1e-3 * lr, err_msg=spec.name)
        moved_by_lr += int(np.sum(np.abs(g) > 100 * args.adam_eps))
    assert moved_by_lr > 1000  # elements whose step is ≈ ±lr: a continued Adam would move them otherwise
    assert json.loads((CheckpointDir(tmp_path).latest() / "trainer_state.json").read_text())["backend"] == "flax"


def test_bad_settings_are_named(tmp_path):
    config = tiny_training_config(num_labels=1)
    args = TrainingArguments(output_dir=str(tmp_path), task="classify", max_steps=1, batch_size=4, progress=False)
    with pytest.raises(TrainingArgumentError, match="num_labels=1"):
        train(args, config, BatchList(random_batches("classify", tiny_training_config(), count=1, rows=4)))

    config = tiny_training_config()
    CheckpointDir(tmp_path).save(TrainerState(step=1, micro_batches=1, backend="flax", task="pretrain"), config, initial_state(config, "pretraining"))
    args = TrainingArguments(output_dir=str(tmp_path), task="tag", max_steps=2, batch_size=4, progress=False)
    with pytest.raises(ResumeError, match="task 'pretrain'"):
        train(args, config, BatchList(random_batches("tag", config, count=1, rows=4)))
