"""AlbertPreTrainedModel: what every albert_tf model shares (calling convention, fit, checks, files).

Calling convention, Keras-native with HF's names:
    outputs = model({"input_ids": ids, "attention_mask": mask}, training=False)   # -> dict
    outputs = model(input_ids=ids, attention_mask=mask, labels=labels)            # keywords too
A call with labels (in the dict or as keywords) also returns "loss". For `fit`, labels come as `y`
(a tensor for one-label heads, a dict with HF's label names otherwise) or inside `x`; the loss is
computed in `compute_loss`, so `model.compile(optimizer=...)` needs no loss argument.
"""

from __future__ import annotations

from typing import Any, Mapping

import keras
import tensorflow as tf

from albert_core.config import AlbertConfig
from albert_core.errors import ConfigError
from albert_core.inputs import InputError
from albert_core.schema import ARCHITECTURES, Head

from .inputs import check_features, check_label_values, collect_inputs, graph_checks
from .layers import AlbertMainLayer


class AlbertPreTrainedModel(keras.Model):
    head: Head = Head.BASE
    label_keys: tuple[str, ...] = ()
    multiple_choice: bool = False
    add_pooling_layer: bool = True

    def __init__(self, config: AlbertConfig | Mapping[str, Any], **kwargs):
        if isinstance(config, Mapping):
            config = AlbertConfig.from_dict(dict(config))
        if not isinstance(config, AlbertConfig):
            raise ConfigError(f"{type(self).__name__} needs an albert_core.AlbertConfig, got {type(config).__name__}")
        super().__init__(**kwargs)
        self.config = config
        self.albert = AlbertMainLayer(config, add_pooling_layer=self.add_pooling_layer, dtype=self.dtype_policy, name="albert")
        self.init_head(config)
        # Every shape is known from the config: create all variables now, so weights can be
        # loaded (and counted, and saved) before the first call.
        self.build()

    # ----- subclass hooks ----------------------------------------------------------------------
    def init_head(self, config: AlbertConfig) -> None:
        """Create the head's layers."""

    def build_head(self) -> None:
        """Build the head's layers (create their variables)."""

    def forward(self, features: dict, training: bool, output_attentions: bool, output_hidden_states: bool) -> dict:
        raise NotImplementedError

    def loss_from_labels(self, outputs: Mapping[str, Any], labels: Mapping[str, Any]):
        raise InputError(f"{type(self).__name__} has no loss: it takes no labels")

    # ----- Keras plumbing ----------------------------------------------------------------------
    def build(self, input_shape=None):
        self.albert.build()
        self.build_head()
        self.built = True

    def call(self, inputs=None, training=False, output_attentions=False, output_hidden_states=False, **kwargs):
        features = collect_inputs(inputs, kwargs, self.label_keys)
        labels = {k: features.pop(k) for k in self.label_keys if k in features}
        shape = check_features(self.config, features, self.multiple_choice)
        if labels and shape is not None:
            check_label_values(self.head.value, self.config, labels, shape)
        outputs = self.forward(
            features, training=training, output_attentions=bool(output_attentions), output_hidden_states=bool(output_hidden_states)
        )
        if labels:
            outputs = {"loss": self.loss_from_labels(outputs, labels), **outputs}
        return outputs

    def labels_dict(self, y) -> dict:
        """`y` as given to fit -> {label name: tensor}."""
        if isinstance(y, Mapping):
            unknown = sorted(set(y) - set(self.label_keys))
            if unknown:
                raise InputError(f"unknown label name(s) {unknown}; {type(self).__name__} takes {list(self.label_keys)}")
            return dict(y)
        if len(self.label_keys) != 1:
            raise InputError(f"{type(self).__name__} needs y as a dict with keys {list(self.label_keys)}")
        return {self.label_keys[0]: y}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if sample_weight is not None:
            raise InputError(f"{type(self).__name__} does not support sample_weight; mask labels with -100 instead")
        if y is not None:
            loss = self.loss_from_labels(y_pred, self.labels_dict(y))
        elif isinstance(y_pred, Mapping) and "loss" in y_pred:
            loss = y_pred["loss"]
        elif not self.label_keys:
            raise InputError(f"{type(self).__name__} has no loss to train; use a model with a head")
        else:
            raise InputError(f"no labels to compute a loss: pass y=... to fit, or put {list(self.label_keys)} in the inputs dict")
        for extra in self.losses:  # regularisers and add_loss terms, as Keras' default does
            loss = loss + keras.ops.cast(keras.ops.sum(extra), loss.dtype)
        return loss

    def _resolve_auto_jit_compile(self):
        # Keras turns XLA off on CPU-only machines by default; for ALBERT it is the fast path on
        # CPU too (docs/bench_tf.md), so jit_compile="auto" means XLA unless a tf.distribute
        # strategy is in use (where Keras' own rule applies).
        if self._distribute_strategy:
            return super()._resolve_auto_jit_compile()
        return True

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": keras.dtype_policies.serialize(self.dtype_policy), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        dtype = config.pop("dtype", None)
        if isinstance(dtype, dict):
            dtype = keras.dtype_policies.deserialize(dtype)
        return cls(AlbertConfig.from_dict(config.pop("config")), dtype=dtype, **config)

    # ----- data checks before Keras compiles a step ----------------------------------------------
    def _checked(self, x, y=None):
        """Validate numpy data now, or map graph checks over a tf.data pipeline; returns x."""
        if isinstance(x, tf.data.Dataset):
            config = self.config

            def check(*element):
                features = element[0] if isinstance(element[0], Mapping) else {"input_ids": element[0]}
                with tf.control_dependencies(graph_checks(config, features)):
                    element = tf.nest.map_structure(tf.identity, element)
                return element if len(element) > 1 else element[0]

            return x.map(check)
        if isinstance(x, Mapping) or tf.is_tensor(x) or hasattr(x, "__array__"):
            features = collect_inputs(x, {}, self.label_keys)
            labels = {k: features.pop(k) for k in self.label_keys if k in features}
            if y is not None:
                labels.update(self.labels_dict(y))
            shape = check_features(self.config, features, self.multiple_choice)
            if labels and shape is not None:
                check_label_values(self.head.value, self.config, labels, shape)
        return x

    def fit(self, x=None, y=None, *args, **kwargs):
        return super().fit(self._checked(x, y), y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self._checked(x, y), y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self._checked(x), *args, **kwargs)

    def train_on_batch(self, x, y=None, *args, **kwargs):
        return super().train_on_batch(self._checked(x, y), y, *args, **kwargs)

    def test_on_batch(self, x, y=None, *args, **kwargs):
        return super().test_on_batch(self._checked(x, y), y, *args, **kwargs)

    def predict_on_batch(self, x):
        """The fast inference call: XLA-compiled (Keras' jit_compile), inputs checked first, numpy out."""
        return super().predict_on_batch(self._checked(x))

    # ----- weights and files -------------------------------------------------------------------
    def canonical_state(self) -> dict:
        """{canonical HF name: numpy array} of every tensor of this model (tied ones included)."""
        from .weights import get_canonical_state

        return get_canonical_state(self)

    def load_canonical_state(self, state: Mapping[str, Any]) -> None:
        """Assign a complete canonical state (as `canonical_state` returns) to this model's variables."""
        from .weights import set_canonical_state

        set_canonical_state(self, state)

    @classmethod
    def from_pretrained(cls, name_or_path, *, config: AlbertConfig | None = None, **config_overrides):
        """Load a folder, a hub id or a checkpoint file in any format albert_core reads.

        `config_overrides` change config fields (e.g. num_labels=3). Head tensors the checkpoint
        lacks are initialised as HF does and reported in `model.load_report`; tensors of another
        head are dropped (also reported).
        """
        from albert_core.checkpoint import load_checkpoint, match_state

        config, state = load_checkpoint(name_or_path, config=config)
        if config_overrides:
            config = config.replace(**config_overrides)
        result = match_state(state, config, cls.head)
        model = cls(config)
        model.load_canonical_state(result.state)
        model.load_report = result
        return model

    def save_pretrained(self, folder):
        """Write `folder` (config.json + model.safetensors, canonical names) atomically; HF loads it."""
        from albert_core.checkpoint import save_checkpoint

        config = self.config.replace(architectures=[ARCHITECTURES[self.head]])
        return save_checkpoint(folder, config, self.canonical_state())

    def export(self, filepath, format="tf_saved_model", verbose=True, input_signature=None, **kwargs):
        """SavedModel whose `serve` / serving_default takes input_ids, attention_mask, token_type_ids."""
        if format != "tf_saved_model" or input_signature is not None or kwargs:
            return super().export(filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)
        from .export import export_saved_model

        return export_saved_model(self, filepath, verbose=verbose)
