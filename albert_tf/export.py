"""SavedModel export: a serving signature over input_ids / attention_mask / token_type_ids.

The exported `serve` function (also the `serving_default` signature) checks the inputs with
tf.debugging assertions, then runs the model's inference graph compiled with XLA; it returns the
model's named outputs as a dict. Reload with `tf.saved_model.load(path).serve({...})` or
`.signatures["serving_default"](input_ids=..., ...)`; no albert_tf import is needed to serve.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from .inputs import graph_checks

SERVING_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def serving_signature(model) -> dict:
    shape = (None, None, None) if model.multiple_choice else (None, None)
    return {name: tf.TensorSpec(shape, tf.int32, name=name) for name in SERVING_INPUTS}


def export_saved_model(model, filepath, verbose: bool = True):
    config = model.config

    @tf.function(jit_compile=True)
    def compiled(inputs):
        return model(inputs, training=False)

    def serve(inputs):
        with tf.control_dependencies(graph_checks(config, inputs)):
            inputs = {k: tf.identity(v) for k, v in inputs.items()}
        return compiled(inputs)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, input_signature=[serving_signature(model)])
    archive.write_out(str(filepath), verbose=verbose)
    return filepath
