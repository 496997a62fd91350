"""The seven user-facing model classes, used as Hugging Face's Flax models are.

    model = AlbertForMaskedLM(config, seed=0)            # config + freshly initialised params
    model = AlbertForMaskedLM.from_pretrained("albert/albert-base-v2")
    out = model(input_ids=ids, attention_mask=mask, labels=labels)   # cached jitted forward
    out = model(..., params=p, dropout_rng=key, train=True)          # HF Flax's signature
    model.save_pretrained("folder")                      # canonical config.json + model.safetensors

`model(...)` checks every input on the host first (ids outside the vocabulary, sequences longer
than max_position_embeddings, mismatched shapes, bad labels) and raises an InputError with the
numbers, then runs one jitted function (one compile per input shape and flag combination).
For your own jit/grad/sharding, use the pure pieces: `model.apply(params, ...)` (same arguments,
no host checks) or the linen module `model.module` (`AlbertModule`, `AlbertForMaskedLMModule`, ...).

Precision: on GPUs and TPUs JAX runs float32 matmuls in TF32/bfloat16 passes by default; pass
`precision="highest"` (or set `jax.config.update("jax_default_matmul_precision", "highest")`) for
full float32, as the parity tests do.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import jax
import jax.numpy as jnp
import numpy as np

from albert_core.checkpoint import MatchResult, load_checkpoint, match_state, save_checkpoint
from albert_core.config import AlbertConfig
from albert_core.errors import CheckpointError, ConfigError
from albert_core.inputs import InputError, check_labels, check_model_inputs
from albert_core.schema import ARCHITECTURES, Head

from . import heads
from .modeling import AlbertModule
from .params import canonical_to_params, initial_state, param_shapes, params_to_canonical

def _host(value) -> Optional[np.ndarray]:
    """A numpy copy/view of an input (numpy, list, jax array) for the host-side checks."""
    return None if value is None else np.asarray(value)


def _device(name: str, value: Optional[np.ndarray]):
    """The jax array a model input becomes: int32 ids (as HF Flax), float32 masks and embeddings."""
    if value is None:
        return None
    if name in ("head_mask", "inputs_embeds") or np.issubdtype(value.dtype, np.floating):
        return jnp.asarray(value, jnp.float32)
    if np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_:
        return jnp.asarray(value, jnp.int32)
    raise InputError(f"{name} must hold numbers, got dtype {value.dtype}")


def _shapes_by_path(tree) -> dict[str, tuple[int, ...]]:
    """{"encoder/pooler/kernel"-style path: shape} of a parameter tree."""
    leaves = jax.tree_util.tree_leaves_with_path(tree)
    return {"/".join(str(getattr(k, "key", k)) for k in path): tuple(np.shape(leaf)) for path, leaf in leaves}


class AlbertPreTrainedModel:
    """Config + params + a linen module, with HF Flax's calling convention. Subclasses set the head."""

    module_class: type = AlbertModule
    head: Head = Head.BASE
    # label argument -> the albert_core.inputs.check_labels task that validates its values
    # (None: shape and dtype only, checked by the module).
    label_tasks: Mapping[str, Optional[str]] = {}
    multiple_choice: bool = False

    def __init__(
        self,
        config: AlbertConfig,
        seed: int = 0,
        dtype: Any = jnp.float32,
        param_dtype: Any = jnp.float32,
        precision: Any = None,
        remat: bool = False,
        scan_unroll: int = 1,
        attention_per_example: Optional[bool] = None,
        ffn_chunk_tokens: Optional[int] = None,
        _do_init: bool = True,
    ):
        if not isinstance(config, AlbertConfig):
            raise ConfigError(f"{type(self).__name__} needs an albert_core.AlbertConfig, got {type(config).__name__}")
        self.config = config
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.module = self.module_class(
            config=config,
            dtype=dtype,
            param_dtype=param_dtype,
            precision=precision,
            remat=remat,
            scan_unroll=scan_unroll,
            attention_per_example=attention_per_example,
            ffn_chunk_tokens=ffn_chunk_tokens,
        )
        self.seed = seed
        self._params = None
        if _do_init:
            self.params = canonical_to_params(initial_state(config, self.head, seed), config, self.head, param_dtype)
        self._forward = jax.jit(self.apply, static_argnames=("train", "output_attentions", "output_hidden_states"))

    # ----- parameters --------------------------------------------------------------------------
    def _dummy_inputs(self) -> dict:
        shape = (1, 1, 1) if self.multiple_choice else (1, 1)
        return {"input_ids": jnp.zeros(shape, jnp.int32)}

    def init_weights(self, rng: jax.Array) -> dict:
        """Fresh parameters from `module.init` with a JAX key (the constructor draws the same
        distributions with numpy instead, see params.initial_state, which needs no compile)."""
        params_rng, dropout_rng = jax.random.split(rng)
        init = jax.jit(self.module.init)
        return init({"params": params_rng, "dropout": dropout_rng}, **self._dummy_inputs())["params"]

    @property
    def params(self) -> dict:
        if self._params is None:
            raise ValueError(f"{type(self).__name__} was built with _do_init=False and has no params yet")
        return self._params

    @params.setter
    def params(self, params: Mapping) -> None:
        want = {"/".join(path): shape for path, shape in param_shapes(self.config, self.head).items()}
        got = _shapes_by_path(params)
        problems = [f"missing {k}" for k in want.keys() - got.keys()]
        problems += [f"unexpected {k}" for k in got.keys() - want.keys()]
        problems += [
            f"{k} has shape {list(got[k])}, expected {list(want[k])}" for k in want.keys() & got.keys() if got[k] != want[k]
        ]
        if problems:
            raise CheckpointError(f"params do not fit {type(self).__name__}: " + "; ".join(sorted(problems)))
        self._params = params

    def canonical_state(self, params: Optional[Mapping] = None) -> dict[str, np.ndarray]:
        """The canonical state (HF PyTorch names and layouts, numpy) of `params` or self.params."""
        return params_to_canonical(self.params if params is None else params, self.config, self.head)

    def load_canonical_state(self, state: Mapping[str, np.ndarray]) -> MatchResult:
        """Set params from a canonical state, checked by albert_core's match_state: head tensors it
        lacks are initialised, other heads' tensors dropped (both listed in the returned MatchResult);
        missing encoder tensors, unknown or wrong-shaped tensors raise CheckpointError, all named."""
        match = match_state(state, self.config, self.head, seed=self.seed)
        self.params = canonical_to_params(match.state, self.config, self.head, dtype=self.param_dtype)
        return match

    # The names this class had first (albert_core's CLI runner uses them); same methods.
    load_state_dict = load_canonical_state
    state_dict = canonical_state

    # ----- checkpoints -------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, config: Optional[AlbertConfig] = None, **kwargs):
        """Load any checkpoint format albert_core reads (folder, file or hub id).

        Head tensors the checkpoint lacks are initialised (listed in `model.load_report`), head
        tensors this class does not use are dropped; missing or wrong-shaped encoder tensors raise
        CheckpointError. kwargs go to the constructor (dtype, param_dtype, precision, remat, seed).
        """
        config, state = load_checkpoint(name_or_path, config=config)
        model = cls(config, _do_init=False, **kwargs)
        # The report without its copy of the tensors, which now live in model.params.
        model.load_report = dataclasses.replace(model.load_canonical_state(state), state={})
        return model

    def save_pretrained(
        self, folder: str | os.PathLike, params: Optional[Mapping] = None, extra_formats: Iterable[str] = ()
    ) -> Path:
        """Write `folder/config.json` + `folder/model.safetensors` (canonical), atomically as a whole.

        extra_formats: any of "pytorch", "tf", "flax" also writes HF's pytorch_model.bin,
        tf_model.h5 or flax_model.msgpack, for HF classes that want their own format.
        """
        config = self.config.replace(architectures=[ARCHITECTURES[self.head]])
        return save_checkpoint(folder, config, self.canonical_state(params), extra_formats=extra_formats, head=self.head)

    # ----- forward -----------------------------------------------------------------------------
    def apply(
        self,
        params: Mapping,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        dropout_rng: Optional[jax.Array] = None,
        train: bool = False,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        **labels,
    ):
        """The pure forward: a function of params, inputs and the dropout key (jit/grad it freely)."""
        return self.module.apply(
            {"params": params},
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            head_mask=head_mask,
            inputs_embeds=inputs_embeds,
            deterministic=not train,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            rngs={} if dropout_rng is None else {"dropout": dropout_rng},
            **labels,
        )

    def __call__(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        params: Optional[Mapping] = None,
        dropout_rng: Optional[jax.Array] = None,
        train: bool = False,
        output_attentions: Optional[bool] = None,
        output_hidden_states: Optional[bool] = None,
        **labels,
    ):
        unknown = set(labels) - set(self.label_tasks)
        if unknown:
            allowed = ", ".join(self.label_tasks) or "none"
            raise TypeError(f"{type(self).__name__} got unexpected argument(s) {sorted(unknown)}; label arguments: {allowed}")
        inputs = dict(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            head_mask=head_mask,
            inputs_embeds=inputs_embeds,
        )
        inputs = {name: _host(value) for name, value in inputs.items()}
        shape = check_model_inputs(self.config, **inputs, multiple_choice=self.multiple_choice)
        labels = {name: _host(value) for name, value in labels.items()}
        self._check_label_values(labels, shape)
        if train and dropout_rng is None and self._has_dropout():
            raise InputError("train=True needs dropout_rng (a jax.random key) for dropout")
        return self._forward(
            self.params if params is None else params,
            **{name: _device(name, value) for name, value in inputs.items()},
            dropout_rng=dropout_rng,
            train=train,
            output_attentions=bool(output_attentions),
            output_hidden_states=bool(output_hidden_states),
            **{name: _device(name, value) for name, value in labels.items()},
        )

    def _check_label_values(self, labels: Mapping[str, Optional[np.ndarray]], shape: tuple[int, ...]) -> None:
        for name, value in labels.items():
            task = self.label_tasks[name]
            if task is not None:
                num_choices = shape[1] if self.multiple_choice else 0
                check_labels(task, value, self.config, shape, num_choices=num_choices)

    def _has_dropout(self) -> bool:
        c = self.config
        return max(c.hidden_dropout_prob, c.attention_probs_dropout_prob, c.classifier_dropout_prob or 0.0) > 0


class AlbertModel(AlbertPreTrainedModel):
    """The bare encoder: last_hidden_state, pooler_output (, hidden_states, attentions)."""


class AlbertForPreTraining(AlbertPreTrainedModel):
    """MLM + sentence-order prediction; loss when both labels and sentence_order_label are given."""

    module_class = heads.AlbertForPreTrainingModule
    head = Head.PRETRAINING
    label_tasks = {"labels": "pretraining", "sentence_order_label": "sentence_order"}


class AlbertForMaskedLM(AlbertPreTrainedModel):
    module_class = heads.AlbertForMaskedLMModule
    head = Head.MASKED_LM
    label_tasks = {"labels": "masked_lm"}


class AlbertForSequenceClassification(AlbertPreTrainedModel):
    module_class = heads.AlbertForSequenceClassificationModule
    head = Head.SEQUENCE_CLASSIFICATION
    label_tasks = {"labels": "sequence_classification"}


class AlbertForMultipleChoice(AlbertPreTrainedModel):
    """Inputs [batch, num_choices, seq]; logits [batch, num_choices]."""

    module_class = heads.AlbertForMultipleChoiceModule
    head = Head.MULTIPLE_CHOICE
    label_tasks = {"labels": "multiple_choice"}
    multiple_choice = True


class AlbertForTokenClassification(AlbertPreTrainedModel):
    module_class = heads.AlbertForTokenClassificationModule
    head = Head.TOKEN_CLASSIFICATION
    label_tasks = {"labels": "token_classification"}


class AlbertForQuestionAnswering(AlbertPreTrainedModel):
    """start_logits / end_logits; loss when start_positions and end_positions are given."""

    module_class = heads.AlbertForQuestionAnsweringModule
    head = Head.QUESTION_ANSWERING
    label_tasks = {"start_positions": None, "end_positions": None}

    def __init__(self, config: AlbertConfig, **kwargs):
        if isinstance(config, AlbertConfig):
            heads.check_question_answering_config(config)
        super().__init__(config, **kwargs)
