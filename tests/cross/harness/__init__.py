"""The cross-framework harness: one definition of the cases (cases.py), one plug-in per backend
(torch_plugin.py, tf_plugin.py, flax_plugin.py, and HF transformers' PyTorch as the reference),
all implementing plugin.py's interface; run.py runs a case on every installed backend and compares
every pair by the rules of checks.py and albert_core.cli.parity (DESIGN.md section 5)."""
