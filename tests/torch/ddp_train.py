"""Launched by test_training_distributed.py under torchrun (2 processes, gloo on CPU): train the
tiny pretraining runs of `runs()` with DDP, each into <output_dir>/<name>.

The script starts the process group itself, so both runs share it (train() joins a group that
exists and leaves it open).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `tests` imports

from albert_core.training import TrainingArguments  # noqa: E402
from tests.torch.training_helpers import ListStream, random_batch, tiny_config  # noqa: E402

ROWS, ACCUM, STEPS = 4, 2, 2


def runs():
    """(name, config, arguments for output_dir, micro-batches): what both launches train."""
    rng = np.random.default_rng(11)
    out = []
    for name, position_type in (("absolute", "absolute"), ("relative", "relative_key")):
        config = tiny_config(position_embedding_type=position_type)
        batches = [random_batch("pretrain", config, ROWS, rng) for _ in range(STEPS * ACCUM)]
        knobs = dict(task="pretrain", batch_size=ROWS, grad_accum_steps=ACCUM, max_steps=STEPS, dropout=False,
                     warmup_steps=1, max_grad_norm=0.5, log_every=1, progress=False, seed=5)
        out.append((name, config, knobs, batches))
    return out


def main(output_dir: str) -> None:
    import torch.distributed as dist

    from albert_torch.training import train

    dist.init_process_group("gloo")
    for name, config, knobs, batches in runs():
        train(TrainingArguments(output_dir=str(Path(output_dir) / name), **knobs), config, ListStream(batches))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
