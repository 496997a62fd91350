"""The one definition of what the cross-framework harness checks: checkpoints, heads, inputs,
optimizers. Every backend plug-in runs exactly these cases; nothing here knows a framework.

Checkpoints:
- the golden HF fixtures (tests/fixtures/hf_tiny: `tiny` with G=1, K=1 and `tiny-g2k2` with
  num_hidden_groups=2, inner_group_num=2), as HF transformers wrote them;
- random checkpoints of other shapes, every tensor random (biases and LayerNorm too, so a tensor
  put in the wrong place shows): `small-g2k2-rel` (L=5 over G=2 groups, so layers map to groups
  unevenly, 3 then 2; K=2, relative_key_query positions, exact GELU, E != H) and the albert-base
  shape (where DESIGN.md's 1e-5 statement is made; one head, pretraining: MLM and SOP heads).
  HF transformers itself fails when inner_group_num > num_hidden_layers // num_hidden_groups
  (e.g. L=3, G=2, K=2: it slices its per-layer head mask by that quotient), so no case has that;
- every checkpoint shipped under weights/ (one case per folder, its own head), when there are any.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from albert_core.checkpoint import infer_head, load_checkpoint, match_state
from albert_core.cli.parity import make_inputs
from albert_core.config import AlbertConfig
from albert_core.presets import preset_config
from albert_core.schema import Head, Kind, tensor_specs

REPO = Path(__file__).resolve().parents[3]
HF_TINY = REPO / "tests" / "fixtures" / "hf_tiny"
SHIPPED = REPO / "weights"

HEADS = list(Head)


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer step, defined as optax defines it (`optax.adamw`, `optax.lamb`).

    AdamW: p <- p - lr * (m̂ / (sqrt(v̂) + eps) + weight_decay * p). LAMB: the same update u, then
    p <- p - lr * (||p|| / ||u||) * u, the weight decay inside the trust ratio (ratio 1 where a
    norm is 0). m̂, v̂ are Adam's bias-corrected moments.
    """

    name: str
    learning_rate: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-6
    weight_decay: float = 0.01


OPTIMIZERS = (OptimizerSpec("adamw"), OptimizerSpec("lamb"))

# Random-checkpoint shapes: name -> config.
RANDOM_CONFIGS = {
    "small-g2k2-rel": dict(
        vocab_size=96,
        embedding_size=24,
        hidden_size=48,
        num_hidden_layers=5,
        num_hidden_groups=2,
        inner_group_num=2,
        num_attention_heads=6,
        intermediate_size=64,
        max_position_embeddings=40,
        position_embedding_type="relative_key_query",
        hidden_act="gelu",
    ),
}


@dataclass(frozen=True)
class Case:
    """One checkpoint and head, run by every backend. `source` says where the weights come from:
    "fixture:<config>", "random:<shape>", "preset:<name>" (random weights) or "folder:<path>"."""

    source: str
    head: Head
    batch: int = 2
    seq_len: int = 16
    steps: bool = True  # the optimizer-step checks
    bf16: bool = False  # the bf16-vs-own-fp32 measurement

    @property
    def id(self) -> str:
        return f"{self.source.split(':', 1)[1]}/{self.head.value}"

    def config_and_state(self) -> tuple[AlbertConfig, dict[str, np.ndarray]]:
        return _config_and_state(self.source, self.head)

    def inputs(self, config: AlbertConfig):
        return make_inputs(config, self.head, batch=self.batch, seq_len=self.seq_len, seed=1)


def random_state(config: AlbertConfig, head: Head, seed: int = 0) -> dict[str, np.ndarray]:
    """Every tensor of (config, head) random: N(0, 0.02), LayerNorm scales around 1; tied ones left out."""
    rng = np.random.default_rng(seed)
    state = {}
    for spec in tensor_specs(config, head):
        if spec.tied_to is None:
            centre = 1.0 if spec.kind is Kind.NORM_SCALE else 0.0
            state[spec.name] = (centre + rng.normal(0.0, 0.02, spec.shape)).astype(np.float32)
    return state


@lru_cache(maxsize=4)
def _config_and_state(source: str, head: Head) -> tuple[AlbertConfig, dict[str, np.ndarray]]:
    kind, name = source.split(":", 1)
    if kind == "fixture":
        config, state = load_checkpoint(HF_TINY / name / head.value / "model.safetensors")
    elif kind == "folder":
        config, state = load_checkpoint(Path(name))
    elif kind == "random":
        config = AlbertConfig(**RANDOM_CONFIGS[name])
        state = random_state(config, head)
    elif kind == "preset":
        config = preset_config(name)
        state = random_state(config, head)
    else:
        raise ValueError(f"unknown case source {source!r}")
    # The complete state of the head, tied copies excluded: what every backend loads.
    return config, match_state(state, config, head, seed=0).state


def shipped_cases() -> list[Case]:
    """One case per checkpoint folder under weights/, run with the head it holds."""
    cases = []
    for config_file in sorted(SHIPPED.glob("*/config.json")) if SHIPPED.is_dir() else []:
        config, state = load_checkpoint(config_file.parent)
        cases.append(Case(f"folder:{config_file.parent}", infer_head(state, config), seq_len=32, bf16=True))
    return cases


# bf16 is measured where the encoder and the larger heads run: the error is the encoder's (the
# heads add one matmul each), and every bf16 forward costs a compile in JAX and TF.
BF16_HEADS = (Head.PRETRAINING, Head.MASKED_LM)
# The random shape adds encoder features, not head features: the heads that differ most suffice.
RANDOM_SHAPE_HEADS = (Head.BASE, Head.PRETRAINING, Head.MULTIPLE_CHOICE, Head.QUESTION_ANSWERING)


def all_cases() -> list[Case]:
    cases = [Case(f"fixture:{name}", head, bf16=head in BF16_HEADS) for name in ("tiny", "tiny-g2k2") for head in HEADS]
    cases += [Case("random:small-g2k2-rel", head) for head in RANDOM_SHAPE_HEADS]
    cases.append(Case("preset:albert-base-v2", Head.PRETRAINING, seq_len=64, bf16=True))
    return cases + shipped_cases()


CASES = all_cases()
