"""Shared fixtures: paths to committed test data."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SPIECE_MODEL = FIXTURES / "spiece" / "spiece.model"


@pytest.fixture(scope="session")
def spiece_model() -> Path:
    return SPIECE_MODEL


@pytest.fixture(scope="session")
def tokenizer():
    from albert_core.tokenizer import AlbertTokenizer

    return AlbertTokenizer(SPIECE_MODEL)
