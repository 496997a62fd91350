"""Helpers of the robustness suite (bad input, fuzzing, crash safety), importable from every test env.

The tests themselves live beside the code they exercise, so each tox env runs the ones its
packages allow: tests/core/test_robustness_*.py and test_fuzz_*.py (numpy only),
tests/torch|tf|flax/test_robustness_*.py (one framework each).
"""
