"""The torch training loop on tiny models: its loss is the contract's, accumulation is exact, every
task trains and saves loadable weights, a resumed run continues the same curve, another backend's
checkpoint restarts the optimizer, and the mixed-precision modes run."""

import json
import logging

import numpy as np
import pytest
import torch

from albert_core.checkpoint import load_checkpoint
from albert_core.inputs import InputError
from albert_core.schema import Head
from albert_core.training import CheckpointDir, MetricsLog, TrainerState, TrainingArguments
from albert_torch import MODEL_FOR_HEAD, AlbertForPreTraining
from albert_torch.training import build_model, train

from .training_helpers import ListEvalSource, ListStream, RandomStream, concat, config_for, random_batch, tiny_config


def _args(tmp_path, name="run", **changes):
    values = dict(output_dir=str(tmp_path / name), progress=False, log_every=1, learning_rate=1e-3, max_steps=2, batch_size=4)
    values.update(changes)
    return TrainingArguments(**values)


def _train_losses(output_dir) -> list[tuple[int, float]]:
    return [(r["step"], r["loss"]) for r in MetricsLog(output_dir).records() if r["split"] == "train"]


def _batches(task, config, rows, count, seed):
    rng = np.random.default_rng(seed)
    return [random_batch(task, config, rows, rng) for _ in range(count)]


def test_the_logged_loss_and_grad_norm_are_hf_s_loss_and_its_gradient(tmp_path):
    """One micro-batch per step: the step's loss is HF's mean MLM CE + mean SOP CE of the model."""
    config = tiny_config()
    batch = _batches("pretrain", config, 4, 1, seed=1)[0]
    args = _args(tmp_path, dropout=False, max_steps=1, max_grad_norm=None)
    train(args, config, ListStream([batch]))
    record = _train_losses(args.output_dir)
    model = build_model(args, config, None, torch.device("cpu")).eval()
    tensors = {k: torch.from_numpy(v) for k, v in batch.items() if not k.startswith("meta_")}
    loss = model(**tensors).loss
    loss.backward()
    loss = loss.item()
    norm = torch.sqrt(sum(p.grad.double().square().sum() for p in model.parameters()))
    logged = MetricsLog(args.output_dir).records()[0]
    assert record == [(1, pytest.approx(loss, rel=1e-6))]
    assert logged["grad_norm"] == pytest.approx(float(norm), rel=1e-5)
    assert logged["learning_rate"] == 1e-3  # warmup 0: the first update uses the peak rate


@pytest.mark.parametrize("optimizer", ["adamw", "lamb"])
def test_accumulating_two_micro_batches_equals_one_batch_of_their_rows(tmp_path, optimizer):
    """grad_accum_steps=2 over 2-row micro-batches with uneven MLM label counts == 4-row batches."""
    config = tiny_config()
    halves = _batches("pretrain", config, 2, 4, seed=2)
    counts = [int((b["labels"] != -100).sum()) for b in halves]
    assert len(set(counts)) > 1, counts
    knobs = dict(dropout=False, optimizer=optimizer, warmup_steps=1, max_grad_norm=0.5, max_steps=2)
    accumulated = _args(tmp_path, "accumulated", batch_size=2, grad_accum_steps=2, **knobs)
    whole = _args(tmp_path, "whole", batch_size=4, grad_accum_steps=1, **knobs)
    train(accumulated, config, ListStream(halves))
    train(whole, config, ListStream([concat(halves[:2]), concat(halves[2:])]))
    _, a = load_checkpoint(accumulated.output_dir)
    _, b = load_checkpoint(whole.output_dir)
    _, init = load_checkpoint(CheckpointDir(whole.output_dir).folder(2))  # (the final step's checkpoint)
    worst = max(float(np.abs(a[n] - b[n]).max()) for n in a)
    assert worst <= 1e-6, worst
    assert [l for _, l in _train_losses(accumulated.output_dir)] == pytest.approx([l for _, l in _train_losses(whole.output_dir)], rel=1e-6)
    assert np.array_equal(init["albert.pooler.weight"], b["albert.pooler.weight"])


# albert_core.data.metrics.Evaluator's metrics; QA's need the examples' texts, which plain batches lack.
EVAL_METRICS = {
    "pretrain": ["mlm_accuracy", "sop_accuracy"],
    "classify": ["accuracy"],
    "tag": ["accuracy", "precision", "recall", "f1"],
    "choice": ["accuracy"],
    "qa": [],
}


@pytest.mark.parametrize("task", sorted(EVAL_METRICS))
def test_every_task_trains_logs_checkpoints_and_saves_loadable_weights(tmp_path, task):
    config = config_for(task)
    args = _args(tmp_path, task=task, batch_size=4, grad_accum_steps=2, save_every=1, eval_every=2, warmup_steps=1)
    eval_source = ListEvalSource(_batches(task, config, 4, 2, seed=5))
    result = train(args, config, RandomStream(task, config, 4), eval_source)

    records = MetricsLog(args.output_dir).records()
    assert [(r["step"], r["split"]) for r in records] == [(1, "train"), (2, "train"), (2, "eval")]
    assert all(np.isfinite(r["loss"]) for r in records)
    assert [r["learning_rate"] for r in records[:2]] == [0.0, 1e-3]
    task_metrics = EVAL_METRICS[task]
    assert set(result) == {"step", "train_loss", "train_learning_rate", "train_grad_norm", "eval_loss", *(f"eval_{m}" for m in task_metrics)}
    assert result["step"] == 2 and result["eval_loss"] == records[2]["loss"]
    assert all(0.0 <= records[2][m] <= 1.0 for m in task_metrics)

    checkpoints = CheckpointDir(args.output_dir)
    assert checkpoints.steps() == [1, 2]
    state, _, step_weights = CheckpointDir.load(checkpoints.folder(2))
    assert (state.step, state.micro_batches, state.backend, state.task) == (2, 4, "torch", task)
    assert (checkpoints.folder(2) / "optimizer" / "optimizer.pt").is_file()
    assert (tmp_path / "run" / "metrics.csv").is_file()

    cls = MODEL_FOR_HEAD[Head(args.head)]
    model = cls.from_pretrained(args.output_dir)
    assert model.load_report.missing == []
    loaded = model.canonical_state()
    assert set(step_weights) <= set(loaded)  # (the checkpoint reader leaves tied copies out)
    assert all(np.array_equal(loaded[n], step_weights[n]) for n in step_weights)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["architectures"] == [cls.__name__]


def test_the_final_evaluation_is_the_final_model_s_loss_and_accuracy(tmp_path):
    config = tiny_config()
    eval_batches = _batches("classify", config, 4, 3, seed=8)
    eval_batches[-1] = {k: v[:3] for k, v in eval_batches[-1].items()}  # a short last batch
    args = _args(tmp_path, task="classify", dropout=False)
    result = train(args, config, RandomStream("classify", config, 4), ListEvalSource(eval_batches))
    model = MODEL_FOR_HEAD[Head.SEQUENCE_CLASSIFICATION].from_pretrained(args.output_dir)
    every = concat(eval_batches)
    with torch.no_grad():
        logits = model(**{k: torch.from_numpy(every[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}).logits
    labels = torch.from_numpy(every["labels"])
    assert result["eval_loss"] == pytest.approx(float(torch.nn.functional.cross_entropy(logits, labels)), rel=1e-6)
    assert result["eval_accuracy"] == int((logits.argmax(-1) == labels).sum()) / len(labels)


def test_training_from_init_weights_leaves_the_caller_s_arrays_alone(tmp_path):
    config = tiny_config()
    init = AlbertForPreTraining(config).canonical_state()
    before = {name: array.copy() for name, array in init.items()}
    train(_args(tmp_path), config, RandomStream("pretrain", config, 4), init_weights=init)
    _, after = load_checkpoint(tmp_path / "run")
    assert all(np.array_equal(init[n], before[n]) for n in init)
    assert not np.array_equal(after["albert.pooler.weight"], before["albert.pooler.weight"])


class _Crash(Exception):
    pass


class _CrashingStream(RandomStream):
    """Raises when it reaches micro-batch `crash_at`: a run that dies between two checkpoints."""

    def __init__(self, *args, crash_at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.crash_at = crash_at

    def __iter__(self):
        for batch in super().__iter__():
            if self.position > self.crash_at:
                raise _Crash
            yield batch


def test_a_run_restarted_after_a_crash_continues_the_uninterrupted_curve_exactly(tmp_path):
    """Dropout on (the RNG state is restored), accumulation 2, checkpoints every 2 steps; the run dies
    in step 4 and is started again with the same arguments."""
    config = tiny_config()
    knobs = dict(max_steps=5, grad_accum_steps=2, save_every=2, warmup_steps=2, dropout=True, seed=3)
    straight = _args(tmp_path, "straight", **knobs)
    train(straight, config, RandomStream("pretrain", config, 4, seed=1))
    broken = _args(tmp_path, "broken", **knobs)
    with pytest.raises(_Crash):
        train(broken, config, _CrashingStream("pretrain", config, 4, seed=1, crash_at=7))
    assert CheckpointDir(broken.output_dir).steps() == [2]
    assert [s for s, _ in _train_losses(broken.output_dir)] == [1, 2, 3]  # step 3 logged, not saved
    torch.manual_seed(12345)  # the restarted run must not depend on the process's RNG state
    train(broken, config, RandomStream("pretrain", config, 4, seed=1))
    assert _train_losses(broken.output_dir) == _train_losses(straight.output_dir)
    _, a = load_checkpoint(broken.output_dir)
    _, b = load_checkpoint(straight.output_dir)
    assert all(np.array_equal(a[n], b[n]) for n in a)


def test_another_backend_s_checkpoint_gives_its_weights_and_position_and_a_fresh_optimizer(tmp_path, caplog):
    config = tiny_config()
    args = _args(tmp_path, dropout=False, max_steps=3, save_every=10)
    foreign = AlbertForPreTraining(config).canonical_state()
    CheckpointDir(args.output_dir).save(
        TrainerState(step=2, micro_batches=2, backend="flax", task="pretrain", arguments=args.to_dict()), config, foreign
    )
    stream = RandomStream("pretrain", config, 4, seed=4)
    with caplog.at_level(logging.WARNING, logger="albert_torch.training.loop"):
        train(args, config, stream)
    assert any("written by flax" in r.message and "optimizer state restarts" in r.message for r in caplog.records)
    # Step 3 ran on micro-batch 2 from the foreign weights, at the schedule's step 2 ...
    (record,) = MetricsLog(args.output_dir).records()
    model = AlbertForPreTraining(config)
    model.load_canonical_state(foreign)
    batch = {k: torch.from_numpy(v) for k, v in stream.batch_at(2).items() if not k.startswith("meta_")}
    assert record["step"] == 3 and record["loss"] == pytest.approx(model.eval()(**batch).loss.item(), rel=1e-6)
    assert record["learning_rate"] == pytest.approx(1e-3 * (3 - 2) / 3)
    # ... with a new optimizer: one Adam step counted, not three.
    saved = torch.load(CheckpointDir(args.output_dir).folder(3) / "optimizer" / "optimizer.pt", weights_only=True)
    assert {float(s["step"]) for s in saved["state"].values()} == {1.0}


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_close_to_fp32(tmp_path, precision):
    """Autocast matmuls in 16 bits, float32 parameters and loss: the first loss within 1% of fp32's
    (bf16 keeps 8 bits of mantissa: ~0.4% per rounding; fp16 10 bits)."""
    config = tiny_config()
    batches = _batches("pretrain", config, 4, 2, seed=6)
    runs = {}
    for mode in ("fp32", precision):
        args = _args(tmp_path, mode, precision=mode, dropout=False)
        train(args, config, ListStream(batches))
        runs[mode] = _train_losses(args.output_dir)
        _, weights = load_checkpoint(args.output_dir)
        assert all(w.dtype == np.float32 and np.isfinite(w).all() for w in weights.values())
    assert runs[precision][0][1] == pytest.approx(runs["fp32"][0][1], rel=1e-2)
    scaler_file = CheckpointDir(tmp_path / precision).folder(2) / "optimizer" / "grad_scaler.pt"
    assert scaler_file.is_file() == (precision == "fp16")


def test_a_label_out_of_range_is_named(tmp_path):
    config = tiny_config()
    batch = _batches("classify", config, 4, 1, seed=7)[0]
    batch["labels"][0] = config.num_labels
    with pytest.raises(InputError, match=r"batch\['labels'\] must lie in \[0, 3\)"):
        train(_args(tmp_path, task="classify"), config, ListStream([batch]))
