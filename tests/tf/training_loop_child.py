"""Training runs the loop tests start in a child process (killed mid-way, or with 2 logical CPUs).

    python -m tests.tf.training_loop_child resume <output_dir> <seconds per micro-batch>
    python -m tests.tf.training_loop_child distributed <output_dir> <replicas> <optimizer>   (then a classify run in <output_dir>-classify)
    python -m tests.tf.training_loop_child multiworker <output_dir> <worker index> <port>,<port> <optimizer>
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class SlowStream:
    """A stream that takes `delay` seconds per micro-batch: a run long enough to be killed mid-way."""

    def __init__(self, stream, delay: float):
        self.stream, self.delay = stream, delay
        self.batch_size = stream.batch_size

    @property
    def position(self):
        return self.stream.position

    def seek(self, position):
        self.stream.seek(position)

    def __iter__(self):
        for batch in self.stream:
            time.sleep(self.delay)
            yield batch


def resume_run(output_dir: str, delay: float = 0.0) -> dict:
    """A tiny pretraining run with dropout on: 8 steps of 2 micro-batches, a checkpoint every 2."""
    from albert_core.training import TrainingArguments
    from albert_tf.training import train
    from tests.tf.training_loop_data import random_stream, tiny_config

    config = tiny_config("pretrain", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    stream = random_stream("pretrain", config, rows=2, count=16)
    args = TrainingArguments(
        output_dir=output_dir,
        task="pretrain",
        max_steps=8,
        warmup_steps=2,
        grad_accum_steps=2,
        save_every=2,
        log_every=1,
        progress=False,
        extra={"jit_compile": False},
    )
    return train(args, config, SlowStream(stream, delay) if delay else stream)


def distributed_run(output_dir: str, optimizer: str, task: str = "pretrain") -> dict:
    """2 steps of 2 micro-batches of 4 rows, clipping and weight decay active, dropout off; an
    evaluation at the end."""
    from albert_core.training import TrainingArguments
    from albert_tf.training import train
    from tests.tf.training_loop_data import eval_set, random_stream, tiny_config

    config = tiny_config(task)
    stream = random_stream(task, config, rows=4, count=4)
    eval_source = eval_set(task, config, seed=5)
    args = TrainingArguments(
        output_dir=output_dir,
        task=task,
        optimizer=optimizer,
        learning_rate=1e-2,
        weight_decay=0.1,
        max_grad_norm=0.5,
        max_steps=2,
        grad_accum_steps=2,
        dropout=False,
        log_every=1,
        progress=False,
        extra={"jit_compile": False},
    )
    return train(args, config, stream, eval_source)


if __name__ == "__main__":
    command, output_dir = sys.argv[1], sys.argv[2]
    if command == "resume":
        resume_run(output_dir, float(sys.argv[3]))
    elif command == "distributed":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(sys.argv[3]))
        distributed_run(output_dir, sys.argv[4])
        # A second run in the same process, with other variables (other collective-op shapes).
        distributed_run(output_dir + "-classify", sys.argv[4], task="classify")
    elif command == "multiworker":
        # One worker of a local two-process cluster (MultiWorkerMirroredStrategy via TF_CONFIG).
        workers = [f"localhost:{port}" for port in sys.argv[4].split(",")]
        os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": int(sys.argv[3])}})
        distributed_run(output_dir, sys.argv[5])
    else:
        raise SystemExit(f"unknown command {command!r}")
