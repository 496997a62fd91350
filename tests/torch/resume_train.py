"""Launched by test_training_resume.py: a tiny pretraining run into <output_dir> (dropout on,
accumulation 2, a checkpoint every 2 steps, a metrics line every step), slowed by 0.05 s per
micro-batch so the test can SIGKILL it mid-way. The same command continues a killed run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `tests` imports

from albert_core.training import TrainingArguments  # noqa: E402
from tests.torch.training_helpers import RandomStream, tiny_config  # noqa: E402

MAX_STEPS, SAVE_EVERY = 8, 2


def main(output_dir: str) -> None:
    from albert_torch.training import train

    config = tiny_config()
    args = TrainingArguments(
        output_dir=output_dir, task="pretrain", batch_size=4, grad_accum_steps=2, max_steps=MAX_STEPS, warmup_steps=3,
        save_every=SAVE_EVERY, log_every=1, dropout=True, seed=7, progress=False,
    )
    train(args, config, RandomStream("pretrain", config, 4, seed=2, delay=0.05))


if __name__ == "__main__":
    main(sys.argv[1])
