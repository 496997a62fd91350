"""Original google-research ALBERT TF1 checkpoints (`model.ckpt-N.index` + `.data-*`), read-only.

Read without tensorflow, as memory-mapped views of the data files (`tf_bundle`: TensorFlow's
tensor bundle format, parsed with numpy), so a checkpoint's tensors cost no copy and no framework
import; Dense kernels are their transposed views. Variable names are those of google-research/albert's
modeling.py and run_pretraining.py / run_classifier.py / run_squad_*.py, given here as one explicit
table per canonical tensor (`tf1_names`), not as string rewrites. Dense kernels are [in, out]; the
classifier-style `output_weights` are [out, in] like the canonical layout. The SOP head
(`cls/seq_relationship/*`) is kept. Optimizer slots (`*/adam_m`, `*/adam_v`, Adam/LAMB/momentum
slots) and `global_step` are skipped and listed.

google-research's `albert_config.json` says "gelu" for the tanh approximation its modeling.py
implements; in HF's naming that is "gelu_new", so `config_from_google_json` translates it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..config import CONFIG_NAME, AlbertConfig
from ..errors import CheckpointError, ConfigError
from ..schema import BASE_PREFIX, layer_prefix
from .state import CanonicalState
from .tf_bundle import read_bundle

GOOGLE_CONFIG_NAME = "albert_config.json"

# Slots optimizers add beside each variable, and training counters: no model weights.
_OPTIMIZER_SLOT = re.compile(r"(^|/)(adam_m|adam_v|Adam|Adam_1|Momentum|lamb_m|lamb_v|AdamWeightDecayOptimizer(_\d+)?)$")
_COUNTERS = {"global_step", "good_steps", "loss_scale", "current_loss_scale"}

# Per layer: canonical module under the layer prefix -> google module under the inner group.
_LAYER_MODULES = {
    "attention.query": "attention_1/self/query",
    "attention.key": "attention_1/self/key",
    "attention.value": "attention_1/self/value",
    "attention.dense": "attention_1/output/dense",
    "ffn": "ffn_1/intermediate/dense",
    "ffn_output": "ffn_1/intermediate/output/dense",
}
_LAYER_NORMS = {"attention.LayerNorm": "LayerNorm", "full_layer_layer_norm": "LayerNorm_1"}


def tf1_names(config: AlbertConfig) -> dict[str, tuple[str, bool]]:
    """canonical name -> (google-research variable name, stored [in, out] so transpose on read)."""
    e = f"{BASE_PREFIX}embeddings"
    table = {
        f"{e}.word_embeddings.weight": ("bert/embeddings/word_embeddings", False),
        f"{e}.position_embeddings.weight": ("bert/embeddings/position_embeddings", False),
        f"{e}.token_type_embeddings.weight": ("bert/embeddings/token_type_embeddings", False),
        f"{e}.LayerNorm.weight": ("bert/embeddings/LayerNorm/gamma", False),
        f"{e}.LayerNorm.bias": ("bert/embeddings/LayerNorm/beta", False),
        f"{BASE_PREFIX}encoder.embedding_hidden_mapping_in.weight": ("bert/encoder/embedding_hidden_mapping_in/kernel", True),
        f"{BASE_PREFIX}encoder.embedding_hidden_mapping_in.bias": ("bert/encoder/embedding_hidden_mapping_in/bias", False),
        f"{BASE_PREFIX}pooler.weight": ("bert/pooler/dense/kernel", True),
        f"{BASE_PREFIX}pooler.bias": ("bert/pooler/dense/bias", False),
        # run_pretraining.py: the MLM head (decoder tied to the word embeddings) and the SOP head.
        "predictions.dense.weight": ("cls/predictions/transform/dense/kernel", True),
        "predictions.dense.bias": ("cls/predictions/transform/dense/bias", False),
        "predictions.LayerNorm.weight": ("cls/predictions/transform/LayerNorm/gamma", False),
        "predictions.LayerNorm.bias": ("cls/predictions/transform/LayerNorm/beta", False),
        "predictions.bias": ("cls/predictions/output_bias", False),
        "sop_classifier.classifier.weight": ("cls/seq_relationship/output_weights", False),
        "sop_classifier.classifier.bias": ("cls/seq_relationship/output_bias", False),
        # run_classifier.py's head, and run_squad_*.py's.
        "classifier.weight": ("output_weights", False),
        "classifier.bias": ("output_bias", False),
        "qa_outputs.weight": ("cls/squad/output_weights", False),
        "qa_outputs.bias": ("cls/squad/output_bias", False),
    }
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            ours, theirs = layer_prefix(g, k), f"bert/encoder/transformer/group_{g}/inner_group_{k}"
            for module, google in _LAYER_MODULES.items():
                table[f"{ours}.{module}.weight"] = (f"{theirs}/{google}/kernel", True)
                table[f"{ours}.{module}.bias"] = (f"{theirs}/{google}/bias", False)
            for module, google in _LAYER_NORMS.items():
                table[f"{ours}.{module}.weight"] = (f"{theirs}/{google}/gamma", False)
                table[f"{ours}.{module}.bias"] = (f"{theirs}/{google}/beta", False)
    return table


def config_from_google_json(path: str | os.PathLike) -> AlbertConfig:
    """AlbertConfig from google-research's albert_config.json ("gelu" there is HF's "gelu_new")."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if data.get("hidden_act") == "gelu":
        data["hidden_act"] = "gelu_new"
    try:
        return AlbertConfig.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def checkpoint_prefix(path: str | os.PathLike) -> Path:
    """The `model.ckpt-N` prefix of a TF1 checkpoint given as a folder, a prefix or one of its files."""
    path = Path(path)
    if path.is_dir():
        state_file = path / "checkpoint"
        if state_file.is_file():
            match = re.search(r'^model_checkpoint_path:\s*"(.+)"', state_file.read_text(encoding="utf-8"), re.M)
            if match:
                # The state file may name any path (TF writes the absolute one it saved to). Only a
                # checkpoint inside this folder is read: a copied folder still loads, and a crafted
                # state file cannot send the reader elsewhere on the machine.
                named = Path(match.group(1))
                prefix = path / named.name
                if not Path(f"{prefix}.index").is_file():
                    raise CheckpointError(
                        f"{state_file} names the checkpoint {str(named)!r}, but {prefix.name}.index is not in {path}"
                    )
                return prefix
        indexes = sorted(path.glob("*.index"), key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)])
        if not indexes:
            raise CheckpointError(f"no TF1 checkpoint (*.index) in folder {path}")
        return indexes[-1].with_suffix("")
    if path.suffix == ".index":
        return path.with_suffix("")
    if re.search(r"\.data-\d+-of-\d+$", path.name):
        return path.with_name(re.sub(r"\.data-\d+-of-\d+$", "", path.name))
    return path


def config_beside(prefix: Path) -> AlbertConfig | None:
    folder = prefix.parent
    if (folder / CONFIG_NAME).is_file():
        return AlbertConfig.from_json_file(folder / CONFIG_NAME)
    if (folder / GOOGLE_CONFIG_NAME).is_file():
        return config_from_google_json(folder / GOOGLE_CONFIG_NAME)
    return None


def read_tf1(path: str | os.PathLike, config: AlbertConfig) -> CanonicalState:
    """The canonical state of a TF1 checkpoint; variables outside the table keep their TF1 name
    (so the state check reports them), optimizer slots, counters and string tensors are skipped."""
    prefix = checkpoint_prefix(path)
    bundle = read_bundle(prefix)
    by_google = {google: (name, transpose) for name, (google, transpose) in tf1_names(config).items()}
    state = CanonicalState(source=str(prefix), skipped=bundle.skipped)
    for variable in sorted(bundle.tensors):
        plain = variable[len("module/"):] if variable.startswith("module/") else variable  # TF-Hub exports
        if _OPTIMIZER_SLOT.search(plain):
            state.skipped[variable] = "optimizer slot"
            continue
        if plain in _COUNTERS:
            state.skipped[variable] = "training counter"
            continue
        name, transpose = by_google.get(plain, (variable, False))
        array = bundle.tensors[variable]
        state[name] = array.T if transpose else array
    return state
