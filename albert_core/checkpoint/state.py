"""The canonical state and its check against the schema.

A canonical state is a plain mapping {canonical name: numpy array} (HF PyTorch names and layouts).
Readers return a `CanonicalState`: a dict that also remembers which file it came from and which
keys of that file it skipped on purpose (optimizer slots, legacy buffers, tied duplicates), so the
final load report can list them.

`match_state(state, config, head)` is the one gate between any checkpoint and any model: it checks
every tensor against `tensor_specs(config, head)` and reports every problem in one CheckpointError,
or returns a complete state for that head (tied copies excluded), with what it had to drop or
initialise, as users of HF's `from_pretrained` expect:
- a state without a head loads into a head model: the head (and a pooler the state lacks) is
  initialised as HF initialises it, and listed;
- a state with a head loads into the base model or another head: the foreign head (and a pooler
  the target has none of) is dropped, and listed.
Missing encoder tensors, unknown tensors and wrong shapes are errors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..config import AlbertConfig
from ..errors import CheckpointError
from ..schema import ARCHITECTURES, BASE_PREFIX, HEAD_OF_ARCHITECTURE, Head, Kind, TensorSpec, tensor_specs

POOLER_PREFIX = f"{BASE_PREFIX}pooler."

# Keys real checkpoints carry that hold no weights. transformers < 4.31 saved the position_ids
# (and for a while token_type_ids) buffers of the embeddings; they are recomputed, never loaded.
NON_WEIGHT_KEYS = {
    f"{BASE_PREFIX}embeddings.position_ids": "a persistent buffer of transformers < 4.31, not a weight",
    f"{BASE_PREFIX}embeddings.token_type_ids": "a buffer of older transformers, not a weight",
}

# The parameters of every head that any ALBERT checkpoint may carry, by their first name part:
# a tensor under one of these that the target head lacks is another head's and is dropped.
HEAD_MODULES = ("predictions", "sop_classifier", "classifier", "qa_outputs")


class CanonicalState(dict):
    """{canonical name: numpy array}, plus where it came from and the keys skipped while reading."""

    def __init__(self, tensors=(), source: str = "", skipped: Mapping[str, str] | None = None):
        super().__init__(tensors)
        self.source = source
        self.skipped: dict[str, str] = dict(skipped or {})  # key -> why it holds no weights


@dataclass
class MatchResult:
    """The outcome of matching a checkpoint's state to a model.

    state: every tensor of the model (tied copies excluded), ready for a backend adapter.
    missing: tensors the model has that the checkpoint lacked (a head, a pooler).
    unexpected: keys of the checkpoint that hold no weights of this model and were ignored:
        legacy buffers, optimizer slots, step counters, tied duplicates (with the reason).
    dropped: real tensors of the checkpoint the model has no place for (another head's, a pooler).
    initialised: the tensors given fresh values (today: exactly `missing`; anything else missing
        is an error).
    """

    state: dict[str, np.ndarray]
    missing: list[str] = field(default_factory=list)
    unexpected: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    initialised: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.initialised:
            parts.append(f"initialised (not in the checkpoint): {', '.join(self.initialised)}")
        if self.dropped:
            parts.append(f"dropped (not used by this model): {', '.join(self.dropped)}")
        if self.unexpected:
            parts.append(f"ignored (no weights): {', '.join(self.unexpected)}")
        return "; ".join(parts) or "every tensor matched"


def normalise_keys(state: Mapping[str, np.ndarray], source: str = "") -> CanonicalState:
    """Bring HF-PyTorch-named keys to canonical form; skip the keys that hold no weights.

    Checkpoints saved from a bare AlbertModel carry its keys without the `albert.` prefix (as HF's
    base_model_prefix rule allows); they get it here. The result keeps the input's arrays (no copy).
    """
    skipped = dict(getattr(state, "skipped", {}))
    has_prefix = any(k.startswith(BASE_PREFIX) for k in state)
    bare_base = not has_prefix and any(k.startswith("embeddings.") or k.startswith("encoder.") for k in state)
    out = CanonicalState(source=source or getattr(state, "source", ""), skipped=skipped)
    for key, value in state.items():
        name = key
        if bare_base and not key.split(".", 1)[0] in HEAD_MODULES:
            name = BASE_PREFIX + key
        if name in NON_WEIGHT_KEYS:
            out.skipped[key] = NON_WEIGHT_KEYS[name]
            continue
        out[name] = value
    return out


def drop_tied(state: CanonicalState, config: AlbertConfig) -> CanonicalState:
    """Remove tied duplicates (the MLM decoder), after checking they equal what they are tied to.

    HF's pytorch_model.bin stores `predictions.decoder.weight` (= the word embeddings) and
    `predictions.decoder.bias` (= `predictions.bias`); the canonical state holds each tensor once.
    """
    for spec in tensor_specs(config, Head.PRETRAINING):
        if spec.tied_to is None or spec.name not in state:
            continue
        target = state.get(spec.tied_to)
        copy = state[spec.name]
        if target is None:
            # Only the duplicate was saved: it is the tensor (old HF TF->PT conversions do this).
            state[spec.tied_to] = state.pop(spec.name)
            state.skipped[spec.name] = f"tied to {spec.tied_to}; stored under that name"
            continue
        if copy.shape != target.shape or not np.array_equal(copy, target):
            raise CheckpointError(
                f"{state.source or 'checkpoint'}: {spec.name} should equal {spec.tied_to} (they are tied), "
                "but the values differ; set tie_word_embeddings=false in the config if they are meant to differ"
            )
        del state[spec.name]
        state.skipped[spec.name] = f"tied to {spec.tied_to}"
    return state


def _is_float(array: np.ndarray) -> bool:
    return array.dtype.kind == "f" or array.dtype.name == "bfloat16"  # ml_dtypes' bfloat16 has kind "V"


def _has_non_finite(array: np.ndarray) -> bool:
    # Fast path: a sum is finite when every element is (one vectorised pass, no temporary).
    with np.errstate(over="ignore", invalid="ignore"):
        total = array.sum(dtype=np.float32 if array.dtype.itemsize < 4 else None)
    if np.isfinite(total):
        return False
    # A non-finite sum may be an overflow of finite values (large fp16): check element-wise, in slices.
    flat = array.reshape(-1)
    step = 1 << 20
    return any(not np.isfinite(flat[i : i + step]).all() for i in range(0, flat.size, step))


def warn_non_finite(state: Mapping[str, np.ndarray], source: str = "") -> list[str]:
    """Warn (naming them) about tensors holding NaN or Inf; return their names."""
    bad = [
        name
        for name, array in state.items()
        if _is_float(array) and array.size and _has_non_finite(array)
    ]
    if bad:
        where = f" in {source}" if source else ""
        warnings.warn(f"NaN or Inf values{where}: {', '.join(bad)}", RuntimeWarning, stacklevel=3)
    return bad


def infer_head(state: Mapping[str, np.ndarray], config: AlbertConfig | None = None) -> Head:
    """The head a state holds: from its head tensors, and config.architectures where names alone
    cannot tell (a `classifier` is sequence, token or multiple-choice classification)."""
    names = set(state)
    declared = None
    if config is not None and config.architectures:
        declared = HEAD_OF_ARCHITECTURE.get(config.architectures[0])
    if "sop_classifier.classifier.weight" in names:
        return Head.PRETRAINING
    if "predictions.dense.weight" in names:
        return Head.MASKED_LM
    if "qa_outputs.weight" in names:
        return Head.QUESTION_ANSWERING
    if "classifier.weight" in names:
        classifiers = (Head.SEQUENCE_CLASSIFICATION, Head.MULTIPLE_CHOICE, Head.TOKEN_CLASSIFICATION)
        if declared in classifiers:
            return declared
        # Token classification is the classifier head without a pooler.
        has_pooler = any(n.startswith(POOLER_PREFIX) for n in names)
        return Head.SEQUENCE_CLASSIFICATION if has_pooler else Head.TOKEN_CLASSIFICATION
    return Head.BASE


def specs_for_writing(state: Mapping[str, np.ndarray], config: AlbertConfig, head: Head, file_name: str) -> dict[str, TensorSpec]:
    """The specs of `head`, after checking every tensor of `state` is one of them (all offenders
    named at once): a head-specific format (HF TF, HF Flax) has no place for another head's tensors."""
    specs = {spec.name: spec for spec in tensor_specs(config, head)}
    foreign = [name for name in state if name not in specs]
    if foreign:
        raise CheckpointError(
            f"cannot write {', '.join(foreign)} to {file_name}: not tensors of {ARCHITECTURES[head]} "
            "(pass the head the state belongs to)"
        )
    return specs


def initial_value(spec: TensorSpec, config: AlbertConfig, rng: np.random.Generator) -> np.ndarray:
    """A fresh tensor as HF's _init_weights makes it: N(0, initializer_range) weights, zero biases,
    unit LayerNorm scales, and a zero padding row in the word embeddings."""
    if spec.kind in (Kind.LINEAR_WEIGHT, Kind.EMBEDDING):
        value = rng.normal(0.0, config.initializer_range, size=spec.shape).astype(np.float32)
        if spec.name.endswith("word_embeddings.weight") and config.pad_token_id is not None:
            value[config.pad_token_id] = 0.0
        return value
    if spec.kind is Kind.NORM_SCALE:
        return np.ones(spec.shape, dtype=np.float32)
    return np.zeros(spec.shape, dtype=np.float32)


def _looks_like_other_model(names: list[str]) -> str:
    prefixes = sorted({n.split(".", 1)[0] for n in names if "." in n} - {"albert", *HEAD_MODULES})
    if prefixes and not any(n.startswith(BASE_PREFIX) for n in names):
        return (
            f" The checkpoint has no ALBERT encoder tensors; its tensors start with {', '.join(repr(p) for p in prefixes[:5])}"
            " — is it a checkpoint of another architecture (e.g. BERT)?"
        )
    return ""


def match_state(
    state: Mapping[str, np.ndarray],
    config: AlbertConfig,
    head: Head | str,
    seed: int | None = None,
) -> MatchResult:
    """Check `state` against the schema of (config, head); return a complete state for that head.

    Raises CheckpointError listing, all at once, every missing encoder tensor, every tensor the
    schema does not know and every tensor of the wrong shape. `seed` makes the values given to
    missing head tensors reproducible.
    """
    head = Head(head)
    if not isinstance(state, CanonicalState):
        state = normalise_keys(state)
    source = state.source or "checkpoint"
    state = drop_tied(CanonicalState(state, source=state.source, skipped=state.skipped), config)

    wanted = [spec for spec in tensor_specs(config, head) if spec.tied_to is None]
    wanted_names = {spec.name for spec in wanted}

    result = MatchResult(state={}, unexpected=dict(state.skipped))
    problems: list[str] = []
    rng = np.random.default_rng(seed)

    for spec in wanted:
        if spec.name in state:
            array = state[spec.name]
            if tuple(array.shape) != spec.shape:
                problems.append(f"{spec.name} has shape {list(array.shape)}, the config says {list(spec.shape)}")
            elif not _is_float(array):
                # Any float width is a valid checkpoint (fp16/bf16 saves); integers are not weights.
                problems.append(f"{spec.name} has dtype {array.dtype}, not a floating-point type")
            else:
                result.state[spec.name] = array
        elif spec.is_head or spec.name.startswith(POOLER_PREFIX):
            result.missing.append(spec.name)
            result.initialised.append(spec.name)
            result.state[spec.name] = initial_value(spec, config, rng)
        else:
            problems.append(f"missing {spec.name}")

    unknown = []
    for name in state:
        if name in wanted_names:
            continue
        if name.split(".", 1)[0] in HEAD_MODULES or name.startswith(POOLER_PREFIX):
            result.dropped.append(name)
        else:
            unknown.append(name)
    if unknown:
        problems.append(f"unexpected tensors (not ALBERT's): {', '.join(unknown)}")

    if problems:
        architecture = ARCHITECTURES[head]
        hint = _looks_like_other_model(list(state))
        raise CheckpointError(
            f"{source} does not fit {architecture} with this config ({len(problems)} problem(s)): "
            + "; ".join(problems)
            + "."
            + hint
        )
    return result


# The name for the same check: validate a state against (config, head).
validate = match_state
