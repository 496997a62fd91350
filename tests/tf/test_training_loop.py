"""albert_tf.training.train: schedule, clipping, weight-decay mask, accumulation, every task end to end,
canonical checkpoints, restarting from another backend's checkpoint."""

import importlib.util
import json
import logging
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_core.checkpoint import load_checkpoint
from albert_core.schema import Head
from albert_core.training import CheckpointDir, MetricsLog, TrainerState, TrainingArguments, add_loss_counts, decays_weight, learning_rate_at
from albert_core.training.arguments import TASKS
from albert_core.training.checkpoints import ResumeError
from albert_tf.training import LinearWarmupDecay, make_optimizer, train
from albert_tf.training.objective import micro_batch_loss
from albert_tf.training.state import OPTIMIZER_FILE
from albert_tf.weights import canonical_variables
from tests.tf.training_loop_data import concatenated, eval_set, micro_batch, random_stream, tiny_config


def run_args(tmp_path, name="run", **overrides) -> TrainingArguments:
    # Eager steps: the tiny model trains faster than XLA compiles it (XLA is covered below).
    values = dict(output_dir=str(tmp_path / name), max_steps=2, log_every=1, progress=False, extra={"jit_compile": False})
    return TrainingArguments(**{**values, **overrides})


def train_losses(output_dir) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in MetricsLog(output_dir).records() if r["split"] == "train"}


@pytest.mark.parametrize("warmup, max_steps", [(0, 5), (3, 10), (4, 4)])
def test_schedule_equals_albert_core_learning_rate_at(warmup, max_steps):
    schedule = LinearWarmupDecay(2e-3, warmup, max_steps)
    got = [float(schedule(step)) for step in range(max_steps + 2)]
    want = [learning_rate_at(step, 2e-3, warmup, max_steps) for step in range(max_steps + 2)]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    # An optimizer restarted at step 3 continues the run's schedule.
    shifted = LinearWarmupDecay(2e-3, warmup, max_steps, offset=3)
    np.testing.assert_allclose(float(shifted(0)), learning_rate_at(3, 2e-3, warmup, max_steps), rtol=1e-6, atol=1e-12)


def optax_reference(name, params, grad_steps, args, decayed):
    """optax's clip_by_global_norm + adamw / lamb (with a decay mask), in float64 numpy."""
    m = {k: np.zeros_like(v, np.float64) for k, v in params.items()}
    v = {k: np.zeros_like(p, np.float64) for k, p in params.items()}
    p = {k: val.astype(np.float64) for k, val in params.items()}
    for t, grads in enumerate(grad_steps, start=1):
        norm = np.sqrt(sum(np.sum(np.square(g.astype(np.float64))) for g in grads.values()))
        scale = min(1.0, args.max_grad_norm / norm)
        lr = learning_rate_at(t - 1, args.learning_rate, args.warmup_steps, args.max_steps)
        for k in p:
            g = grads[k] * scale
            m[k] = args.adam_b1 * m[k] + (1 - args.adam_b1) * g
            v[k] = args.adam_b2 * v[k] + (1 - args.adam_b2) * g * g
            u = (m[k] / (1 - args.adam_b1**t)) / (np.sqrt(v[k] / (1 - args.adam_b2**t)) + args.adam_eps)
            if decayed[k]:
                u = u + args.weight_decay * p[k]
            if name == "lamb":
                pn, un = np.linalg.norm(p[k]), np.linalg.norm(u)
                u = u * (pn / un if pn > 0 and un > 0 else 1.0)
            p[k] = p[k] - lr * u
    return p


@pytest.mark.parametrize("name", ["adamw", "lamb"])
def test_optimizer_clips_the_global_norm_and_decays_only_weights(tmp_path, name):
    rng = np.random.default_rng(0)
    params = {
        "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight": rng.normal(0, 0.5, (6, 4)).astype(np.float32),
        "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.bias": rng.normal(0, 0.5, (4,)).astype(np.float32),
        "albert.embeddings.LayerNorm.weight": (1 + rng.normal(0, 0.1, (4,))).astype(np.float32),
    }
    # Step 1's gradient (norm ≈ 8) is clipped to 1, step 2's (norm ≈ 0.3) is not.
    grad_steps = [{k: rng.normal(0, s, v.shape).astype(np.float32) for k, v in params.items()} for s in (2.0, 0.08)]
    args = run_args(tmp_path, optimizer=name, learning_rate=0.05, weight_decay=0.2, warmup_steps=1, max_steps=4, max_grad_norm=1.0)
    variables = {k: tf.Variable(v) for k, v in params.items()}
    optimizer = make_optimizer(args, variables)
    for grads in grad_steps:
        optimizer.apply([tf.constant(grads[k]) for k in params], list(variables.values()))
    decayed = {k: decays_weight(k) for k in params}
    assert decayed == {k: k.endswith("ffn.weight") for k in params}
    want = optax_reference(name, params, grad_steps, args, decayed)
    for k in params:
        np.testing.assert_allclose(variables[k].numpy(), want[k], rtol=0, atol=2e-6, err_msg=k)


def test_weight_decay_mask_of_a_model_is_albert_core_s_rule(tmp_path):
    model = albert_tf.AlbertForPreTraining(tiny_config())
    variables = canonical_variables(model)
    optimizer = make_optimizer(run_args(tmp_path), variables)
    excluded = sorted(name for name, v in variables.items() if not optimizer._use_weight_decay(v))
    assert excluded == sorted(name for name in variables if name.endswith("bias") or "LayerNorm" in name)
    assert "albert.embeddings.word_embeddings.weight" not in excluded and len(excluded) > 10


def test_accumulating_two_micro_batches_equals_one_batch_of_their_rows(tmp_path):
    config = tiny_config()
    small = random_stream("pretrain", config, rows=2, count=4)  # 1 to 5 MLM labels per row
    counts = [int(np.sum(b["labels"] != -100)) for b in small.batches]
    assert len(set(counts)) > 1  # uneven label counts per micro-batch
    init = albert_tf.AlbertForPreTraining(config).canonical_state()
    common = dict(max_steps=2, max_grad_norm=0.5, warmup_steps=1, dropout=False)
    accumulated = train(run_args(tmp_path, "accumulated", grad_accum_steps=2, **common), config, small, init_weights=init)
    whole = train(run_args(tmp_path, "whole", grad_accum_steps=1, **common), config, concatenated(small, 2), init_weights=init)
    a, b = load_checkpoint(tmp_path / "accumulated")[1], load_checkpoint(tmp_path / "whole")[1]
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) <= 1e-6
    assert max(float(np.abs(a[k] - init[k]).max()) for k in a) > 1e-4  # the steps did move the weights
    # The logged loss of a step is the whole step's: the mean MLM loss over all its labels + mean SOP loss.
    assert accumulated["train_loss"] == pytest.approx(whole["train_loss"], rel=1e-6)
    assert train_losses(tmp_path / "accumulated") == pytest.approx(train_losses(tmp_path / "whole"), rel=1e-6)


def test_step_loss_of_one_micro_batch_is_hf_s_loss():
    config = tiny_config()
    model = albert_tf.AlbertForPreTraining(config)
    batch = add_loss_counts("pretrain", [micro_batch("pretrain", 3, np.random.default_rng(1), config)])[0]
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    labels = {k: batch[k] for k in ("labels", "sentence_order_label")}
    ours = micro_batch_loss("pretrain", model(inputs), labels, batch)
    assert float(ours) == pytest.approx(float(model({**inputs, **labels})["loss"]), rel=1e-6)


# albert_core's Evaluator metrics in each eval record (QA's need the examples' texts: loss only here).
EVAL_METRICS = {
    "pretrain": {"mlm_accuracy", "sop_accuracy"},
    "classify": {"accuracy"},
    "tag": {"accuracy", "precision", "recall", "f1"},
    "choice": {"accuracy"},
    "qa": set(),
}


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_trains_logs_checkpoints_and_saves_loadable_weights(tmp_path, task, caplog):
    config = tiny_config(task)
    stream = random_stream(task, config)
    eval_source = eval_set(task, config, seed=7)
    args = run_args(tmp_path, task=task, max_steps=2, save_every=1, keep_checkpoints=1, eval_every=1)
    with caplog.at_level(logging.WARNING, logger="albert_tf.training.loop"):
        metrics = train(args, config, stream, eval_source)

    out = tmp_path / "run"
    records = MetricsLog(out).records()
    assert [(r["step"], r["split"]) for r in records] == [(1, "train"), (1, "eval"), (2, "train"), (2, "eval")]
    assert all(np.isfinite(r["loss"]) and r["loss"] > 0 for r in records)
    assert set(records[1]) - {"step", "split"} == {"loss"} | EVAL_METRICS[task]
    assert metrics["step"] == 2 and metrics["train_loss"] == records[2]["loss"] and metrics["eval_loss"] == records[3]["loss"]
    assert metrics["train_learning_rate"] == records[2]["learning_rate"] and metrics["train_grad_norm"] == records[2]["grad_norm"]
    assert (out / "metrics.csv").read_text().startswith("step,split,")
    # The chart needs matplotlib (the plot extra, not in the tf test env): else a warning instead.
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert (out / "loss_curve.png").is_file() == has_matplotlib
    assert ("no loss-curve chart" in caplog.text) != has_matplotlib

    assert CheckpointDir(out).steps() == [2]  # keep_checkpoints=1
    folder = CheckpointDir(out).latest()
    state = json.loads((folder / "trainer_state.json").read_text())
    assert (state["step"], state["micro_batches"], state["backend"], state["task"]) == (2, 2, "tf", task)
    assert (folder / "optimizer" / OPTIMIZER_FILE).is_file()

    head = Head(TASKS[task])
    model = albert_tf.MODEL_FOR_HEAD[head].from_pretrained(out)
    assert not model.load_report.missing and not model.load_report.initialised
    final, at_step_2 = model.canonical_state(), load_checkpoint(folder)[1]
    assert all(np.array_equal(final[k], at_step_2[k]) for k in at_step_2)


def test_xla_step_equals_eager_step(tmp_path):
    config = tiny_config()
    init = albert_tf.AlbertForPreTraining(config).canonical_state()
    for jit in (True, False):
        args = run_args(tmp_path, f"jit-{jit}", grad_accum_steps=2, dropout=False, extra={"jit_compile": jit})
        train(args, config, random_stream("pretrain", config, rows=2), init_weights=init)
    a, b = load_checkpoint(tmp_path / "jit-True")[1], load_checkpoint(tmp_path / "jit-False")[1]
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) <= 1e-5
    assert train_losses(tmp_path / "jit-True") == pytest.approx(train_losses(tmp_path / "jit-False"), rel=1e-5)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_with_float32_parameters(tmp_path, precision):
    config = tiny_config()
    args = run_args(tmp_path, precision=precision, max_steps=3, learning_rate=3e-3)
    train(args, config, random_stream("pretrain", config, count=1))  # the same batch every step
    losses = train_losses(tmp_path / "run")
    assert all(np.isfinite(list(losses.values()))) and losses[3] < losses[1]
    weights = load_checkpoint(tmp_path / "run")[1]
    assert all(w.dtype == np.float32 for w in weights.values())


def test_restart_from_another_backend_s_checkpoint_keeps_weights_and_restarts_the_optimizer(tmp_path, caplog):
    config = tiny_config()
    foreign = albert_tf.AlbertForPreTraining(config).canonical_state()  # stands for torch's weights
    out = tmp_path / "run"
    state = TrainerState(step=2, micro_batches=2, backend="torch", task="pretrain")
    CheckpointDir(out).save(state, config, foreign)
    stream = random_stream("pretrain", config)
    args = run_args(tmp_path, max_steps=4, warmup_steps=0, dropout=False, save_every=10)
    with caplog.at_level(logging.WARNING, logger="albert_tf.training.loop"):
        train(args, config, stream)

    assert "written by torch: its weights, step and data position carry over; the optimizer state restarts" in caplog.text
    log = {r["step"]: r for r in MetricsLog(out).records() if r["split"] == "train"}
    assert sorted(log) == [3, 4]
    # Step 3 starts from the foreign weights, on the data after that checkpoint's position (micro-batch 2).
    model = albert_tf.AlbertForPreTraining(config)
    model.load_canonical_state(foreign)
    batch = add_loss_counts("pretrain", [stream.batches[2]])[0]
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    want = micro_batch_loss("pretrain", model(inputs), batch, batch)
    assert log[3]["loss"] == pytest.approx(float(want), rel=1e-5)
    # The schedule continues (step 3 uses the rate of update index 2); Adam starts over: 2 updates.
    assert log[3]["learning_rate"] == pytest.approx(learning_rate_at(2, args.learning_rate, 0, 4), rel=1e-6)
    saved = np.load(CheckpointDir(out).latest() / "optimizer" / OPTIMIZER_FILE)
    assert int(saved["adamw/iteration"]) == 2 and int(saved["__schedule_offset__"]) == 2


def test_a_checkpoint_of_another_task_is_refused(tmp_path):
    config = tiny_config()
    out = tmp_path / "run"
    weights = albert_tf.AlbertForPreTraining(config).canonical_state()
    CheckpointDir(out).save(TrainerState(step=1, micro_batches=1, backend="tf", task="classify"), config, weights)
    with pytest.raises(ResumeError, match="'classify' checkpoint; this run's task is 'pretrain'"):
        train(run_args(tmp_path), config, random_stream("pretrain", config))


def test_without_matplotlib_a_warning_replaces_the_chart_and_the_keras_policy_is_left_as_found(tmp_path, caplog, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    config = tiny_config()
    with caplog.at_level(logging.WARNING, logger="albert_tf.training.loop"):
        train(run_args(tmp_path, precision="bf16", max_steps=1), config, random_stream("pretrain", config))
    assert "no loss-curve chart" in caplog.text and not (tmp_path / "run" / "loss_curve.png").exists()
    assert (tmp_path / "run" / "metrics.csv").is_file()
    assert keras.mixed_precision.global_policy().name == "float32"  # bf16 was the model's own policy
