"""The framework-free parts of training: arguments, schedule, loss counts, metrics log, checkpoints."""

import json

import numpy as np
import pytest

from albert_core.config import AlbertConfig
from albert_core.schema import Head
from albert_core.training import (
    CheckpointDir,
    MetricsLog,
    TrainerState,
    TrainingArguments,
    add_loss_counts,
    learning_rate_at,
    model_inputs_and_labels,
    training_steps,
)
from albert_core.training.arguments import TrainingArgumentError
from tests.cross.harness.cases import random_state


def test_schedule_is_hf_linear_warmup_then_decay():
    # HF get_linear_schedule_with_warmup(warmup=2, total=6) multiplies lr by 0, .5, 1, .75, .5, .25, 0.
    assert [learning_rate_at(s, 2.0, 2, 6) for s in range(7)] == [0.0, 1.0, 2.0, 1.5, 1.0, 0.5, 0.0]
    assert learning_rate_at(0, 1e-3, 0, 10) == 1e-3  # no warmup: the first update at the peak


def test_loss_counts_cover_the_whole_step():
    labels = np.array([[5, -100, 7], [-100, -100, 9]])
    micro = [
        dict(input_ids=np.zeros((2, 3), np.int32), labels=labels, sentence_order_label=np.array([0, 1]), meta_x=np.ones(2)),
        dict(input_ids=np.zeros((2, 3), np.int32), labels=np.full((2, 3), -100), sentence_order_label=np.array([1, 1]), meta_x=np.ones(2)),
    ]
    step = add_loss_counts("pretrain", micro)
    for batch in step:  # 3 masked tokens and 4 SOP examples in the step, on every row of every micro-batch
        assert batch["mlm_count"].tolist() == [3.0, 3.0] and batch["sop_count"].tolist() == [4.0, 4.0]
    inputs, labs, counts = model_inputs_and_labels("pretrain", step[0])
    assert set(inputs) == {"input_ids"} and set(labs) == {"labels", "sentence_order_label"}
    assert set(counts) == {"mlm_count", "sop_count"}


def test_training_steps_group_micro_batches():
    stream = [dict(input_ids=np.full((1, 2), i, np.int32), labels=np.array([i])) for i in range(5)]
    steps = list(training_steps(stream, "classify", grad_accum_steps=2))
    assert [[int(b["input_ids"][0, 0]) for b in step] for step in steps] == [[0, 1], [2, 3]]  # the odd one out is not a step
    assert steps[0][0]["cls_count"].tolist() == [2.0]


def test_arguments_validate_and_round_trip():
    args = TrainingArguments("out", task="qa", warmup_steps=3, max_steps=10, extra={"doc_stride": 64})
    assert TrainingArguments.from_dict(json.loads(json.dumps(args.to_dict()))) == args
    assert args.head == "question_answering"
    with pytest.raises(TrainingArgumentError, match="task"):
        TrainingArguments("out", task="translate")
    with pytest.raises(TrainingArgumentError, match="warmup_steps"):
        TrainingArguments("out", warmup_steps=20, max_steps=10)
    with pytest.raises(TrainingArgumentError, match="unknown training arguments"):
        TrainingArguments.from_dict({"output_dir": "x", "lr": 1})


def test_metrics_log_truncates_to_a_resumed_step(tmp_path):
    log = MetricsLog(tmp_path)
    for step in (1, 2, 3):
        log.log(step, "train", loss=10.0 - step)
    log.log(2, "eval", loss=7.5, accuracy=0.25)
    with open(log.path, "a") as f:
        f.write('{"step": 4, "spl')  # a line cut by a kill
    log.truncate_after(2)
    assert [(r["step"], r["split"]) for r in log.records()] == [(1, "train"), (2, "train"), (2, "eval")]
    header = log.write_csv().read_text().splitlines()[0]
    assert header == "step,split,accuracy,loss"


def test_checkpoints_save_load_and_prune(tmp_path):
    config = AlbertConfig(vocab_size=32, embedding_size=8, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24)
    weights = random_state(config, Head.MASKED_LM)
    ckpt = CheckpointDir(tmp_path)
    assert ckpt.latest() is None
    for step in (2, 4, 6):
        state = TrainerState(step=step, micro_batches=2 * step, backend="torch", task="pretrain", rng={"seed": step})
        ckpt.save(state, config, weights, write_optimizer=lambda d: (d / "opt.npz").write_bytes(b"x"), keep=2)
    assert ckpt.steps() == [4, 6]
    state, loaded_config, loaded = CheckpointDir.load(ckpt.latest())
    assert (state.step, state.micro_batches, state.rng) == (6, 12, {"seed": 6})
    assert loaded_config.hidden_size == 16
    assert all(np.array_equal(loaded[k], v) for k, v in weights.items())
    assert (ckpt.latest() / "optimizer" / "opt.npz").read_bytes() == b"x"


def test_weight_decay_skips_biases_and_layer_norms():
    from albert_core.training import decays_weight

    assert decays_weight("albert.embeddings.word_embeddings.weight")
    assert decays_weight("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight")
    assert not decays_weight("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.bias")
    assert not decays_weight("albert.embeddings.LayerNorm.weight")
    assert not decays_weight("predictions.bias")


def test_final_weights_go_beside_the_checkpoints(tmp_path):
    config = AlbertConfig(vocab_size=32, embedding_size=8, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24)
    weights = random_state(config, Head.MASKED_LM)
    ckpt = CheckpointDir(tmp_path)
    ckpt.save(TrainerState(step=1, micro_batches=1, backend="torch", task="pretrain"), config, weights)
    (tmp_path / "spiece.model").write_bytes(b"tokenizer")
    ckpt.save_final(config, weights)
    from albert_core.checkpoint import load_checkpoint

    _, loaded = load_checkpoint(tmp_path)
    assert all(np.array_equal(loaded[k], v) for k, v in weights.items())
    assert ckpt.steps() == [1] and (tmp_path / "spiece.model").read_bytes() == b"tokenizer"


def test_eval_loss_weights_each_part_by_its_own_label_count():
    from albert_core.training import EvalLoss

    loss = EvalLoss("qa")  # start and end parts, weight 1/2 each
    loss.add("start", 6.0, 3)
    loss.add("start", 2.0, 1)
    loss.add("end", 4.0, 4)
    assert loss.labelled and loss.value() == 0.5 * (8.0 / 4) + 0.5 * (4.0 / 4)
    assert not EvalLoss("classify").labelled
