"""AlbertConfig: the model's hyper-parameters, read from and written to HF `config.json`.

Field names and defaults are Hugging Face's (`transformers.AlbertConfig`, whose defaults are the
xxlarge shape). Keys this class does not model (e.g. `transformers_version`, `down_scale_factor`
in hub configs) are kept in `extra` and written back, so a config.json survives a round trip.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .errors import ConfigError

CONFIG_NAME = "config.json"

# Activations every backend implements (HF ACT2FN names).
ACTIVATIONS = (
    "gelu",
    "gelu_new",
    "gelu_fast",
    "gelu_pytorch_tanh",
    "quick_gelu",
    "relu",
    "silu",
    "swish",
    "tanh",
    "linear",
)
# Every size and id must index an int32 tensor; larger values are corrupt configs, refused before
# a backend tries to allocate them.
MAX_DIMENSION = 2**31 - 1
POSITION_EMBEDDING_TYPES = ("absolute", "relative_key", "relative_key_query")
PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")

# Generic PretrainedConfig keys this class models, with HF's defaults. HF writes them only when
# they differ from these; we do the same (and also when a loaded file had them).
_GENERIC_DEFAULTS: dict[str, Any] = {
    "architectures": None,
    "problem_type": None,
    "tie_word_embeddings": True,
}


# A label table is built eagerly: a forged "num_labels": 10**12 must not exhaust memory.
MAX_LABELS = 1_000_000


def _default_id2label(n: int) -> dict[int, str]:
    if n > MAX_LABELS:
        raise ConfigError(f"num_labels is {n}; at most {MAX_LABELS:,} labels are supported")
    return {i: f"LABEL_{i}" for i in range(n)}


@dataclass
class AlbertConfig:
    vocab_size: int = 30000
    embedding_size: int = 128
    hidden_size: int = 4096
    num_hidden_layers: int = 12
    num_hidden_groups: int = 1
    num_attention_heads: int = 64
    intermediate_size: int = 16384
    inner_group_num: int = 1
    hidden_act: str = "gelu_new"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    classifier_dropout_prob: float | None = 0.1
    position_embedding_type: str = "absolute"
    pad_token_id: int | None = 0
    bos_token_id: int | None = 2
    eos_token_id: int | None = 3
    # Not in HF: the MLM head's LayerNorm epsilon. None means layer_norm_eps (as HF and the original
    # code); keras-hub's ALBERT uses 1e-5 there. Written to config.json only when set.
    mlm_layer_norm_eps: float | None = None
    # Generic PretrainedConfig fields that the heads use.
    id2label: dict[int, str] = field(default_factory=lambda: _default_id2label(2))
    problem_type: str | None = None
    architectures: list[str] | None = None
    tie_word_embeddings: bool = True
    # Every other key of a loaded config.json, kept verbatim and written back.
    extra: dict[str, Any] = field(default_factory=dict)
    # Generic keys that were present in the loaded file (written back even at their defaults).
    _loaded_generic_keys: frozenset = field(default=frozenset(), repr=False, compare=False)

    model_type = "albert"

    def __post_init__(self):
        self.id2label = {int(k): str(v) for k, v in dict(self.id2label).items()}
        self.validate()

    # ----- derived -----------------------------------------------------------------------------
    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"num_labels must be a positive int, got {n!r}")
        if n != len(self.id2label):
            self.id2label = _default_id2label(n)

    @property
    def label2id(self) -> dict[str, int]:
        return {v: k for k, v in self.id2label.items()}

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def effective_mlm_layer_norm_eps(self) -> float:
        return self.layer_norm_eps if self.mlm_layer_norm_eps is None else self.mlm_layer_norm_eps

    def classifier_dropout(self, per_token: bool = False) -> float:
        """The dropout rate before a task classifier, as HF's heads take it: classifier_dropout_prob;
        when that is None, the token classifier falls back to hidden_dropout_prob and the
        pooled-output heads (sequence, choice, sentence order) use none."""
        if self.classifier_dropout_prob is None:
            return self.hidden_dropout_prob if per_token else 0.0
        return self.classifier_dropout_prob

    def group_of_layer(self, layer: int) -> int:
        """The layer group that step `layer` (0 ≤ layer < num_hidden_layers) runs, as HF does."""
        return int(layer / (self.num_hidden_layers / self.num_hidden_groups))

    # ----- validation --------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ConfigError naming the first field that is of the wrong type or out of range."""

        def check_int(name, minimum=1, optional=False):
            value = getattr(self, name)
            if value is None and optional:
                return
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"config field '{name}' must be an int, got {value!r} ({type(value).__name__})")
            if value < minimum:
                raise ConfigError(f"config field '{name}' must be ≥ {minimum}, got {value}")
            if value > MAX_DIMENSION:
                raise ConfigError(f"config field '{name}' is {value}, over the limit {MAX_DIMENSION} (int32 indexing)")

        def check_float(name, low, high, optional=False, high_inclusive=False):
            value = getattr(self, name)
            if value is None and optional:
                return
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise ConfigError(f"config field '{name}' must be a finite number, got {value!r}")
            if value < low or (value > high if high_inclusive else value >= high):
                bracket = "]" if high_inclusive else ")"
                raise ConfigError(f"config field '{name}' must be in [{low}, {high}{bracket}, got {value}")

        for name in (
            "vocab_size",
            "embedding_size",
            "hidden_size",
            "num_hidden_layers",
            "num_hidden_groups",
            "num_attention_heads",
            "intermediate_size",
            "inner_group_num",
            "max_position_embeddings",
            "type_vocab_size",
        ):
            check_int(name)
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            check_int(name, minimum=0, optional=True)
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            check_float(name, 0.0, 1.0)
        check_float("classifier_dropout_prob", 0.0, 1.0, optional=True)
        check_float("initializer_range", 0.0, math.inf)
        check_float("layer_norm_eps", 0.0, math.inf)
        check_float("mlm_layer_norm_eps", 0.0, math.inf, optional=True)
        if self.layer_norm_eps <= 0:
            raise ConfigError(f"config field 'layer_norm_eps' must be > 0, got {self.layer_norm_eps}")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"hidden_size ({self.hidden_size}) is not a multiple of num_attention_heads "
                f"({self.num_attention_heads})"
            )
        if self.num_hidden_groups > self.num_hidden_layers:
            raise ConfigError(
                f"num_hidden_groups ({self.num_hidden_groups}) must be ≤ num_hidden_layers "
                f"({self.num_hidden_layers}): some groups would never run"
            )
        if not isinstance(self.hidden_act, str) or self.hidden_act not in ACTIVATIONS:
            raise ConfigError(f"unknown hidden_act {self.hidden_act!r}; supported: {', '.join(ACTIVATIONS)}")
        if self.position_embedding_type not in POSITION_EMBEDDING_TYPES:
            raise ConfigError(
                f"unknown position_embedding_type {self.position_embedding_type!r}; "
                f"supported: {', '.join(POSITION_EMBEDDING_TYPES)}"
            )
        if self.problem_type is not None and self.problem_type not in PROBLEM_TYPES:
            raise ConfigError(f"unknown problem_type {self.problem_type!r}; supported: {', '.join(PROBLEM_TYPES)}")
        if self.pad_token_id is not None and self.pad_token_id >= self.vocab_size:
            raise ConfigError(f"pad_token_id ({self.pad_token_id}) must be < vocab_size ({self.vocab_size})")
        if not self.id2label:
            raise ConfigError("id2label must name at least one label")
        if self.architectures is not None and not (
            isinstance(self.architectures, list) and all(isinstance(a, str) for a in self.architectures)
        ):
            raise ConfigError(f"architectures must be a list of class names, got {self.architectures!r}")
        if not isinstance(self.tie_word_embeddings, bool):
            raise ConfigError(f"tie_word_embeddings must be a bool, got {self.tie_word_embeddings!r}")

    # ----- dict / JSON -------------------------------------------------------------------------
    @classmethod
    def _own_fields(cls) -> list[str]:
        generic = {"id2label", "problem_type", "architectures", "tie_word_embeddings", "extra", "_loaded_generic_keys"}
        return [f.name for f in dataclasses.fields(cls) if f.name not in generic]

    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides) -> "AlbertConfig":
        """Build from a config.json dict (HF keys); unknown keys go to `extra`."""
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        data = {**data, **overrides}
        model_type = data.get("model_type", "albert")
        if model_type != "albert":
            raise ConfigError(f"config is for model_type {model_type!r}, not 'albert'")
        own = set(cls._own_fields())
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        loaded_generic = set()
        num_labels = data.pop("num_labels", None)
        label2id = data.get("label2id")
        for key, value in data.items():
            if key in own:
                kwargs[key] = value
            elif key in ("id2label", "problem_type", "architectures", "tie_word_embeddings"):
                kwargs[key] = value
                loaded_generic.add(key)
            elif key in ("model_type", "label2id"):
                continue
            else:
                extra[key] = value
        if "id2label" in kwargs:
            try:
                kwargs["id2label"] = {int(k): v for k, v in kwargs["id2label"].items()}
            except (AttributeError, TypeError, ValueError) as exc:
                raise ConfigError(f"id2label must map integer ids to names, got {kwargs['id2label']!r}") from exc
        elif label2id is not None:
            try:
                kwargs["id2label"] = {int(v): k for k, v in label2id.items()}
            except (AttributeError, TypeError, ValueError) as exc:
                raise ConfigError(f"label2id must map names to integer ids, got {label2id!r}") from exc
            loaded_generic.add("id2label")
        elif num_labels is not None:
            if not isinstance(num_labels, int) or isinstance(num_labels, bool) or num_labels < 1:
                raise ConfigError(f"num_labels must be a positive int, got {num_labels!r}")
            kwargs["id2label"] = _default_id2label(num_labels)
        if "label2id" in data:
            loaded_generic.add("id2label")
        return cls(**kwargs, extra=extra, _loaded_generic_keys=frozenset(loaded_generic))

    def to_dict(self) -> dict[str, Any]:
        """The config.json content, with the keys HF itself would write (sorted, as HF sorts)."""
        out: dict[str, Any] = {"model_type": self.model_type}
        for name in self._own_fields():
            value = getattr(self, name)
            if name == "mlm_layer_norm_eps" and value is None:
                continue
            out[name] = value
        for key, default in _GENERIC_DEFAULTS.items():
            value = getattr(self, key)
            if value != default or key in self._loaded_generic_keys:
                out[key] = value
        if self.id2label != _default_id2label(2) or "id2label" in self._loaded_generic_keys:
            out["id2label"] = {str(k): v for k, v in self.id2label.items()}
            out["label2id"] = self.label2id
        out.update(self.extra)
        return dict(sorted(out.items()))

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def replace(self, **changes) -> "AlbertConfig":
        """A copy with some fields changed (validated again)."""
        num_labels = changes.pop("num_labels", None)
        new = dataclasses.replace(self, **changes)
        if num_labels is not None:
            new.num_labels = num_labels
        return new

    # ----- files -------------------------------------------------------------------------------
    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "AlbertConfig":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"malformed JSON in {path}: {exc}") from exc
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **overrides) -> "AlbertConfig":
        """From a folder holding config.json, a .json file, a preset name, or a hub id.

        Presets: `albert-base-v2` (also `albert/albert-base-v2`), see `PRESETS`. Hub ids other than
        the presets resolve through huggingface_hub and its cache.
        """
        from .hub import resolve_file
        from .presets import PRESETS, preset_config

        path = Path(name_or_path)
        if path.is_dir():
            config = cls.from_json_file(path / CONFIG_NAME) if (path / CONFIG_NAME).exists() else None
            if config is None:
                raise FileNotFoundError(f"no {CONFIG_NAME} in folder {path}")
        elif path.is_file():
            config = cls.from_json_file(path)
        elif str(name_or_path).split("/")[-1] in PRESETS and not str(name_or_path).startswith((".", "/")):
            config = preset_config(str(name_or_path).split("/")[-1])
        else:
            config = cls.from_json_file(resolve_file(str(name_or_path), CONFIG_NAME))
        return config.replace(**overrides) if overrides else config

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write `folder/config.json` atomically; returns its path."""
        target = Path(folder) / CONFIG_NAME
        atomic_write_text(target, self.to_json_string())
        return target


_dataclass_init = AlbertConfig.__init__


def _init_with_num_labels(self, *args, num_labels: int | None = None, label2id: dict | None = None, **kwargs):
    """HF's constructor also takes num_labels (-> LABEL_i names) and label2id."""
    if "id2label" not in kwargs:
        if label2id is not None:
            kwargs["id2label"] = {int(v): k for k, v in label2id.items()}
        elif num_labels is not None:
            if not isinstance(num_labels, int) or isinstance(num_labels, bool) or num_labels < 1:
                raise ConfigError(f"num_labels must be a positive int, got {num_labels!r}")
            kwargs["id2label"] = _default_id2label(num_labels)
    _dataclass_init(self, *args, **kwargs)



AlbertConfig.__init__ = _init_with_num_labels
