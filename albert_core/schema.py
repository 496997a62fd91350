"""The weight-naming schema: which tensors an ALBERT checkpoint holds, their names, shapes, kinds.

Canonical names and layouts are Hugging Face's PyTorch ones (Linear weights [out, in]); the base
model's tensors always carry the `albert.` prefix. From a config and a head, `tensor_specs` lists
every tensor; foreign formats map names by *kind* (see the format modules), never by string tables.
Tied tensors (the MLM decoder) are declared here once, so no backend has to rediscover them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from .config import AlbertConfig


class Kind(str, Enum):
    LINEAR_WEIGHT = "linear_weight"  # [out, in]
    BIAS = "bias"
    EMBEDDING = "embedding"  # [rows, dim]
    NORM_SCALE = "norm_scale"
    NORM_BIAS = "norm_bias"


class Head(str, Enum):
    BASE = "base"
    PRETRAINING = "pretraining"
    MASKED_LM = "masked_lm"
    SEQUENCE_CLASSIFICATION = "sequence_classification"
    MULTIPLE_CHOICE = "multiple_choice"
    TOKEN_CLASSIFICATION = "token_classification"
    QUESTION_ANSWERING = "question_answering"


# The HF architecture name (config.json "architectures") of each head, and back.
ARCHITECTURES = {
    Head.BASE: "AlbertModel",
    Head.PRETRAINING: "AlbertForPreTraining",
    Head.MASKED_LM: "AlbertForMaskedLM",
    Head.SEQUENCE_CLASSIFICATION: "AlbertForSequenceClassification",
    Head.MULTIPLE_CHOICE: "AlbertForMultipleChoice",
    Head.TOKEN_CLASSIFICATION: "AlbertForTokenClassification",
    Head.QUESTION_ANSWERING: "AlbertForQuestionAnswering",
}
HEAD_OF_ARCHITECTURE = {name: head for head, name in ARCHITECTURES.items()}

# Heads whose encoder has no pooler (HF builds them with add_pooling_layer=False).
_NO_POOLER = {Head.MASKED_LM, Head.TOKEN_CLASSIFICATION, Head.QUESTION_ANSWERING}

BASE_PREFIX = "albert."


@dataclass(frozen=True)
class TensorSpec:
    name: str  # canonical (HF PyTorch) name
    shape: tuple[int, ...]
    kind: Kind
    tied_to: str | None = None  # canonical name of the tensor this one always equals
    # Every ALBERT tensor is floating point; checkpoints store float32 (HF's default) and a state
    # of another float width (fp16/bf16 saves) is accepted and cast by the loader.
    dtype: str = "float32"

    @property
    def is_head(self) -> bool:
        return not self.name.startswith(BASE_PREFIX)


def _linear(prefix: str, out_dim: int, in_dim: int) -> list[TensorSpec]:
    return [
        TensorSpec(f"{prefix}.weight", (out_dim, in_dim), Kind.LINEAR_WEIGHT),
        TensorSpec(f"{prefix}.bias", (out_dim,), Kind.BIAS),
    ]


def _norm(prefix: str, dim: int) -> list[TensorSpec]:
    return [
        TensorSpec(f"{prefix}.weight", (dim,), Kind.NORM_SCALE),
        TensorSpec(f"{prefix}.bias", (dim,), Kind.NORM_BIAS),
    ]


def layer_prefix(group: int, inner: int) -> str:
    return f"{BASE_PREFIX}encoder.albert_layer_groups.{group}.albert_layers.{inner}"


def encoder_specs(config: AlbertConfig, with_pooler: bool = True) -> list[TensorSpec]:
    """Every tensor of the encoder (AlbertModel), `albert.`-prefixed, in HF's module order."""
    c = config
    emb = f"{BASE_PREFIX}embeddings"
    specs = [
        TensorSpec(f"{emb}.word_embeddings.weight", (c.vocab_size, c.embedding_size), Kind.EMBEDDING),
        TensorSpec(f"{emb}.position_embeddings.weight", (c.max_position_embeddings, c.embedding_size), Kind.EMBEDDING),
        TensorSpec(f"{emb}.token_type_embeddings.weight", (c.type_vocab_size, c.embedding_size), Kind.EMBEDDING),
        *_norm(f"{emb}.LayerNorm", c.embedding_size),
        *_linear(f"{BASE_PREFIX}encoder.embedding_hidden_mapping_in", c.hidden_size, c.embedding_size),
    ]
    for group in range(c.num_hidden_groups):
        for inner in range(c.inner_group_num):
            p = layer_prefix(group, inner)
            specs += _norm(f"{p}.full_layer_layer_norm", c.hidden_size)
            for proj in ("query", "key", "value"):
                specs += _linear(f"{p}.attention.{proj}", c.hidden_size, c.hidden_size)
            specs += _linear(f"{p}.attention.dense", c.hidden_size, c.hidden_size)
            specs += _norm(f"{p}.attention.LayerNorm", c.hidden_size)
            if c.position_embedding_type in ("relative_key", "relative_key_query"):
                specs.append(
                    TensorSpec(
                        f"{p}.attention.distance_embedding.weight",
                        (2 * c.max_position_embeddings - 1, c.head_dim),
                        Kind.EMBEDDING,
                    )
                )
            specs += _linear(f"{p}.ffn", c.intermediate_size, c.hidden_size)
            specs += _linear(f"{p}.ffn_output", c.hidden_size, c.intermediate_size)
    if with_pooler:
        specs += _linear(f"{BASE_PREFIX}pooler", c.hidden_size, c.hidden_size)
    return specs


def mlm_head_specs(config: AlbertConfig) -> list[TensorSpec]:
    c = config
    return [
        TensorSpec("predictions.bias", (c.vocab_size,), Kind.BIAS),
        *_linear("predictions.dense", c.embedding_size, c.hidden_size),
        *_norm("predictions.LayerNorm", c.embedding_size),
        TensorSpec(
            "predictions.decoder.weight",
            (c.vocab_size, c.embedding_size),
            Kind.LINEAR_WEIGHT,
            tied_to=f"{BASE_PREFIX}embeddings.word_embeddings.weight" if c.tie_word_embeddings else None,
        ),
        TensorSpec("predictions.decoder.bias", (c.vocab_size,), Kind.BIAS, tied_to="predictions.bias"),
    ]


def head_specs(config: AlbertConfig, head: Head | str) -> list[TensorSpec]:
    """The tensors a head adds on top of the encoder (no `albert.` prefix)."""
    head = Head(head)
    c = config
    if head is Head.BASE:
        return []
    if head is Head.PRETRAINING:
        # The SOP classifier is 2-wide whatever num_labels is (HF: config.num_labels, default 2).
        return mlm_head_specs(c) + _linear("sop_classifier.classifier", 2, c.hidden_size)
    if head is Head.MASKED_LM:
        return mlm_head_specs(c)
    if head in (Head.SEQUENCE_CLASSIFICATION, Head.TOKEN_CLASSIFICATION):
        return _linear("classifier", c.num_labels, c.hidden_size)
    if head is Head.MULTIPLE_CHOICE:
        return _linear("classifier", 1, c.hidden_size)
    if head is Head.QUESTION_ANSWERING:
        return _linear("qa_outputs", c.num_labels, c.hidden_size)
    raise AssertionError(head)


def tensor_specs(config: AlbertConfig, head: Head | str = Head.BASE) -> list[TensorSpec]:
    """Every tensor of `head` on `config`, canonical names, in a stable order."""
    head = Head(head)
    return encoder_specs(config, with_pooler=head not in _NO_POOLER) + head_specs(config, head)


def count_parameters(specs) -> int:
    """Trainable parameters among `specs`: tied tensors counted once (at their source)."""
    return sum(math.prod(spec.shape) for spec in specs if spec.tied_to is None)


def parameter_count(config: AlbertConfig, head: Head | str = Head.BASE) -> int:
    """Trainable parameters of `head` on `config`."""
    return count_parameters(tensor_specs(config, head))


def to_kernel_layout(spec: TensorSpec, array):
    """Canonical -> the [in, out] kernel layout Keras and Flax Dense use (other kinds unchanged)."""
    return array.T if spec.kind is Kind.LINEAR_WEIGHT else array


def from_kernel_layout(spec: TensorSpec, array):
    """[in, out] kernel layout -> canonical [out, in] (other kinds unchanged)."""
    return array.T if spec.kind is Kind.LINEAR_WEIGHT else array


def specs_by_name(config: AlbertConfig, head: Head | str = Head.BASE) -> dict[str, TensorSpec]:
    return {spec.name: spec for spec in tensor_specs(config, head)}


# ----- foreign naming rules, by kind ----------------------------------------------------------
# A framework names a tensor by its module path (the canonical name minus its last part) plus a
# leaf name that depends only on the tensor's kind. Backends and format readers/writers take the
# leaf from here; only their module paths are their own.


class Style(str, Enum):
    KERAS = "keras"  # Keras layers (HF TF, keras-hub, albert_tf): kernel / embeddings / gamma / beta
    FLAX = "flax"  # flax.linen modules (HF Flax, albert_flax): kernel / embedding / scale / bias


LEAF_NAMES: dict[Style, dict[Kind, str]] = {
    Style.KERAS: {
        Kind.LINEAR_WEIGHT: "kernel",
        Kind.BIAS: "bias",
        Kind.EMBEDDING: "embeddings",
        Kind.NORM_SCALE: "gamma",
        Kind.NORM_BIAS: "beta",
    },
    Style.FLAX: {
        Kind.LINEAR_WEIGHT: "kernel",
        Kind.BIAS: "bias",
        Kind.EMBEDDING: "embedding",
        Kind.NORM_SCALE: "scale",
        Kind.NORM_BIAS: "bias",
    },
}

# The last part of a canonical (HF PyTorch) name for each kind.
CANONICAL_LEAF = {
    Kind.LINEAR_WEIGHT: "weight",
    Kind.BIAS: "bias",
    Kind.EMBEDDING: "weight",
    Kind.NORM_SCALE: "weight",
    Kind.NORM_BIAS: "bias",
}


def module_path(spec: TensorSpec) -> tuple[str, ...]:
    """The canonical name's module parts: `albert.pooler.weight` -> ('albert', 'pooler')."""
    return tuple(spec.name.split(".")[:-1])


def leaf_name(spec: TensorSpec, style: Style | str) -> str:
    return LEAF_NAMES[Style(style)][spec.kind]


def canonical_leaf(leaf: str, style: Style | str) -> tuple[str, bool]:
    """A foreign leaf name -> (canonical leaf, whether the array is in [in, out] kernel layout).

    The inverse of `leaf_name`, for readers that meet names before they know the config; an unknown
    leaf raises KeyError (the caller names the file and the tensor).
    """
    for kind, name in LEAF_NAMES[Style(style)].items():
        if name == leaf:
            return CANONICAL_LEAF[kind], kind is Kind.LINEAR_WEIGHT
    raise KeyError(leaf)
