"""The training checkpoint layout, shared by the three backends, and the state a resumed run needs.

    <output_dir>/checkpoints/step-00000200/
        config.json, model.safetensors   canonical weights: any backend (or HF) loads this folder
        trainer_state.json                step, data position, RNG state, arguments, backend
        optimizer/                        the backend's own optimizer state (only that backend reads it)

Each step folder is written whole into a sibling temp folder and swapped in (albert_core.atomic), so a
run killed at any instant leaves every step folder either complete or absent. A run started in a
folder that has checkpoints continues from the newest one: with the optimizer state when the same
backend wrote it; from another backend's checkpoint only the weights carry over and the optimizer
restarts (its state has no canonical form).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..atomic import atomic_folder, recover_folder
from ..checkpoint import load_checkpoint, save_checkpoint
from ..config import AlbertConfig
from ..checkpoint.safetensors_io import SAFETENSORS_NAME, write_safetensors
from ..errors import AlbertError

STATE_NAME = "trainer_state.json"
OPTIMIZER_DIR = "optimizer"
_STEP_FOLDER = re.compile(r"^step-(\d{8})$")


class ResumeError(AlbertError):
    """A checkpoint that cannot be resumed from, named."""


@dataclass
class TrainerState:
    step: int  # optimizer steps applied
    micro_batches: int  # data position: micro-batches consumed (step × grad_accum_steps)
    backend: str
    task: str
    arguments: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, Any] = field(default_factory=dict)  # the backend's RNG state, JSON-able
    metrics: dict[str, float] = field(default_factory=dict)  # the last logged values

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> "TrainerState":
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise ResumeError(f"{path}: not a readable trainer state ({exc})") from exc


class CheckpointDir:
    def __init__(self, output_dir: str | Path):
        self.root = Path(output_dir) / "checkpoints"

    def folder(self, step: int) -> Path:
        return self.root / f"step-{step:08d}"

    def steps(self) -> list[int]:
        """Steps with a complete checkpoint, oldest first (leftovers of killed writers are cleaned first)."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            match = _STEP_FOLDER.match(entry.name)
            if match:
                recover_folder(entry)
                if (entry / STATE_NAME).is_file():
                    found.append(int(match.group(1)))
        return sorted(found)

    def latest(self) -> Path | None:
        steps = self.steps()
        return self.folder(steps[-1]) if steps else None

    def save(
        self,
        state: TrainerState,
        config: AlbertConfig,
        weights: Mapping[str, np.ndarray],
        write_optimizer: Callable[[Path], None] | None = None,
        keep: int = 2,
    ) -> Path:
        """Write step `state.step` whole, then delete all but the newest `keep` checkpoints."""
        folder = self.folder(state.step)
        with atomic_folder(folder, keep_existing=False) as tmp:
            save_checkpoint(tmp, config, weights)
            if write_optimizer is not None:
                (tmp / OPTIMIZER_DIR).mkdir()
                write_optimizer(tmp / OPTIMIZER_DIR)
            (tmp / STATE_NAME).write_text(state.to_json())
        for old in self.steps()[:-keep]:
            shutil.rmtree(self.folder(old), ignore_errors=True)
        return folder

    def save_final(self, config: AlbertConfig, weights: Mapping[str, np.ndarray]) -> Path:
        """The run's final weights in the output folder itself (config.json + model.safetensors, each
        file replaced atomically), so the folder loads as a model beside its tokenizer, metrics and
        checkpoints/ (a whole-folder swap would have to copy checkpoints/ along)."""
        from ..checkpoint.api import _check_writable  # the checks and tied-copy rule of save_checkpoint

        folder = self.root.parent
        folder.mkdir(parents=True, exist_ok=True)
        write_safetensors(folder / SAFETENSORS_NAME, _check_writable(weights, config), {"format": "pt"})
        config.save_pretrained(folder)  # the config last: a folder with a config has its weights
        return folder

    @staticmethod
    def load(folder: Path) -> tuple[TrainerState, AlbertConfig, dict[str, np.ndarray]]:
        state = TrainerState.from_file(folder / STATE_NAME)
        config, weights = load_checkpoint(folder)
        return state, config, weights
