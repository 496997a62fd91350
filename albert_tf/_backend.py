"""Make sure Keras runs on TensorFlow before any albert_tf layer is defined.

Keras 3 picks its backend once per process (KERAS_BACKEND, else ~/.keras/keras.json). albert_tf
uses TensorFlow ops (tf.GradientTape, tf.function(jit_compile=True), SavedModel), so with any
other backend it would fail later in confusing ways; we fail at import with the fix instead.
"""

from __future__ import annotations

import os

from albert_core.errors import MissingDependencyError

_FIX = (
    "albert_tf needs Keras 3 on the TensorFlow backend, but Keras is set to {backend!r}. "
    "Set the environment variable KERAS_BACKEND=tensorflow before Python starts (or before the "
    "first `import keras`), or set \"backend\": \"tensorflow\" in ~/.keras/keras.json. To run "
    "ALBERT on {backend}, use the albert_{other} package instead."
)
_OTHER = {"jax": "flax", "torch": "torch"}


def _wrong_backend(backend: str) -> ImportError:
    return ImportError(_FIX.format(backend=backend, other=_OTHER.get(backend, "torch or albert_flax")))


def require_tensorflow_backend():
    """Import and return (keras, tensorflow), or raise ImportError saying how to fix the setup."""
    requested = os.environ.get("KERAS_BACKEND")
    if requested and requested != "tensorflow":
        # Checked before importing keras: keras itself would try to import that backend first.
        raise _wrong_backend(requested)
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise MissingDependencyError("tensorflow", "albert_tf", extra="tf") from exc
    try:
        import keras
    except ImportError as exc:
        raise MissingDependencyError("keras", "albert_tf", extra="tf") from exc
    if not keras.__version__.startswith("3"):
        raise ImportError(f"albert_tf needs Keras 3 (pip install 'keras>=3'), found keras {keras.__version__}")
    if keras.backend.backend() != "tensorflow":
        raise _wrong_backend(keras.backend.backend())
    return keras, tf
