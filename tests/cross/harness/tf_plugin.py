"""The albert_tf plug-in: tf.GradientTape over the model's variables, Keras optimizers.

`albert_tf.weights.canonical_variables` names every variable canonically; Dense kernels are
[in, out], so gradients and parameters pass through the schema's kernel-layout rule. Embedding
gradients come back as IndexedSlices and are made dense. Keras' optimizers differ from optax's
definitions, which the harness holds every backend to: its Adam adds eps before the bias
correction, and its Lamb applies weight decay outside the trust ratio; the plug-in steps with the
library's `OptaxAdamW` / `OptaxLamb` (albert_tf.training.optimizers), which the loop trains with.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

from albert_core.cli.parity import named_outputs
from albert_core.cli.runners import TFRunner
from albert_core.schema import from_kernel_layout, specs_by_name, to_kernel_layout
from albert_tf.training.optimizers import OptaxAdamW, OptaxLamb
from albert_tf.weights import canonical_variables

from .cases import OptimizerSpec
from .plugin import Evaluation, check_complete


def make_optimizer(spec: OptimizerSpec) -> keras.optimizers.Optimizer:
    kwargs = dict(learning_rate=spec.learning_rate, beta_1=spec.b1, beta_2=spec.b2, epsilon=spec.eps)
    if spec.name == "adamw":
        return OptaxAdamW(weight_decay=spec.weight_decay, **kwargs)
    if spec.name == "lamb":
        return OptaxLamb(decay=spec.weight_decay, **kwargs)
    raise ValueError(spec.name)


class TFPlugin(TFRunner):
    def evaluate(self, model, inputs, labels):
        variables = canonical_variables(model)
        with tf.GradientTape() as tape:
            out = self.call(model, inputs, labels)
            if labels:
                loss = out["loss"]
            else:
                loss = tf.reduce_mean(tf.square(out["last_hidden_state"])) + tf.reduce_sum(out["pooler_output"])
        grads = tape.gradient(loss, list(variables.values()))
        specs = specs_by_name(model.config, model.head)
        # None: a variable the loss does not reach (the absolute position table under relative
        # position embeddings), a zero gradient as JAX reports it.
        canonical = {
            name: np.ascontiguousarray(from_kernel_layout(specs[name], np.zeros(v.shape, np.float32) if g is None else tf.convert_to_tensor(g).numpy()))
            for (name, v), g in zip(variables.items(), grads)
        }
        outputs = named_outputs(out.get, self.to_numpy)  # the same call: TF has one attention path
        return Evaluation(outputs, check_complete(self.name, canonical, model.config, model.head, "gradients"))

    def step(self, model, grads, spec: OptimizerSpec):
        variables = canonical_variables(model)
        specs = specs_by_name(model.config, model.head)
        before = {name: v.numpy() for name, v in variables.items()}
        pairs = [(tf.constant(to_kernel_layout(specs[name], np.asarray(grads[name]))), v) for name, v in variables.items()]
        make_optimizer(spec).apply_gradients(pairs)
        after = {name: np.ascontiguousarray(from_kernel_layout(specs[name], v.numpy())) for name, v in variables.items()}
        for name, v in variables.items():  # leave the model as loaded
            v.assign(before[name])
        return check_complete(self.name, after, model.config, model.head, "stepped parameters")

    def forward_bf16(self, config, head, state, inputs, labels):
        """Keras' mixed precision: the "mixed_bfloat16" policy (fp32 variables, bf16 compute)."""
        previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            model = self.load(config, head, state)
        finally:
            keras.mixed_precision.set_global_policy(previous)
        return self.forward(model, inputs, labels)
