"""albert_tf tests run with TensorFlow + Keras 3 only (no torch, JAX or transformers)."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
