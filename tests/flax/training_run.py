"""A tiny pretraining run, the same in-process and as a subprocess (resume and distributed tests).

    python -m tests.flax.training_run OUTPUT_DIR [--max-steps 8] [--save-every 2] [--delay 0.2]

`--delay` makes each micro-batch slow to arrive (as a real data loader can be), so a test has
time to kill the run between checkpoints.
"""

from __future__ import annotations

import argparse
import json
import time

from albert_core.training import TrainingArguments

from albert_core.data import BatchList

from .training_data import random_batches, tiny_training_config


class SlowStream(BatchList):
    def __init__(self, batches, delay: float):
        super().__init__(batches)
        self.delay = delay

    def __iter__(self):
        for batch in super().__iter__():
            time.sleep(self.delay)
            yield batch


def run_pretraining(output_dir: str, max_steps: int = 4, save_every: int = 2, delay: float = 0.0, dropout: bool = True) -> dict:
    from albert_flax.training import train

    config = tiny_training_config()
    args = TrainingArguments(
        output_dir=output_dir,
        task="pretrain",
        optimizer="lamb",
        learning_rate=1e-2,
        warmup_steps=2,
        max_steps=max_steps,
        batch_size=4,
        grad_accum_steps=2,
        max_grad_norm=0.5,
        dropout=dropout,
        seed=3,
        log_every=1,
        save_every=save_every,
        eval_every=1000,
        progress=False,
    )
    stream = SlowStream(random_batches("pretrain", config, count=6, rows=4, seed=1), delay)
    return train(args, config, stream)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("output_dir")
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--save-every", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--no-dropout", action="store_true")
    options = parser.parse_args()
    metrics = run_pretraining(options.output_dir, options.max_steps, options.save_every, options.delay, not options.no_dropout)
    import jax

    print(json.dumps({"devices": jax.device_count(), **metrics}))


if __name__ == "__main__":
    main()
