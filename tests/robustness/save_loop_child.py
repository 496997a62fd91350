"""The child of the SIGKILL test: a core-only process that forks savers on request.

Started once as `python save_loop_child.py FOLDER [--no-exchange]`, it imports numpy and
albert_core (nothing else), prints "ready", then serves one command per stdin line:

    fork G   fork a saver that writes generations G, G+1, ... to FOLDER in a loop, for ever;
             the server prints "pid P", then, once the parent has SIGKILLed the saver, "reaped P".

The saver prints "begin G" before each save_checkpoint and "end G" after it returns, so the
parent knows which saves had completed when its kill landed. Forking from this warm process
costs milliseconds; a fresh interpreter per kill would cost 0.4 s (100 kills: 40 s).

Generation G is a state whose every element equals G, saved with config.extra["generation"] = G;
odd generations are sharded into several files, so a folder mixing two saves cannot load equal.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from albert_core.checkpoint import save_checkpoint
from albert_core.config import AlbertConfig
from albert_core.schema import Head, tensor_specs

# 16000 x 64 word embeddings: a 4.2 MB state, several MB through write + fsync per save.
CONFIG = dict(
    vocab_size=16000, embedding_size=64, hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
    intermediate_size=128, max_position_embeddings=64,
)
SHARD_BYTES = 1_500_000


def generation_config(generation: int) -> AlbertConfig:
    return AlbertConfig(**CONFIG, extra={"generation": generation})


def generation_state(generation: int) -> dict[str, np.ndarray]:
    return {
        spec.name: np.full(spec.shape, float(generation), dtype=np.float32)
        for spec in tensor_specs(generation_config(generation), Head.BASE)
        if spec.tied_to is None
    }


def save_generation(folder: str, generation: int) -> None:
    shard = SHARD_BYTES if generation % 2 else None
    save_checkpoint(folder, generation_config(generation), generation_state(generation), max_shard_size=shard)


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one small write: atomic on a pipe, no stdio buffer to lose


def _saver(folder: str, generation: int) -> None:
    while True:
        _say(f"begin {generation}")
        save_generation(folder, generation)
        _say(f"end {generation}")
        generation += 1


def main() -> None:
    folder = sys.argv[1]
    if "--no-exchange" in sys.argv:
        import albert_core.atomic

        albert_core.atomic._renameat2 = None  # exercise the two-rename fallback and its recovery
    _say("ready")
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command != "fork":
            _say(f"error unknown command {command!r}")
            continue
        pid = os.fork()
        if pid == 0:
            try:
                _saver(folder, int(argument))
            finally:
                os._exit(1)  # never return into the server loop
        _say(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"reaped {pid} {status}")


if __name__ == "__main__":
    main()
