"""Helpers for the Flax backend's tests (numpy, jax, flax, albert_core only)."""

from pathlib import Path

import jax
import pytest

# Parity runs at full float32: on GPUs/TPUs JAX would otherwise use TF32/bf16 matmul passes.
jax.config.update("jax_default_matmul_precision", "highest")

HF_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "hf_tiny"


@pytest.fixture(scope="session")
def hf_tiny() -> Path:
    return HF_TINY

