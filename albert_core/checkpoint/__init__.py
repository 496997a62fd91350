"""Checkpoint IO: every supported format in, the canonical state (HF PyTorch names, numpy) out.

    from albert_core.checkpoint import load_checkpoint, save_checkpoint, match_state
    config, state = load_checkpoint(path_or_hub_id, config=None)   # any supported format
    result = match_state(state, config, head)   # MatchResult(state, missing, unexpected, dropped, initialised)
    save_checkpoint(folder, config, state)      # atomic folder: config.json + model.safetensors

One module per format (safetensors_io, torch_bin, hf_tf_h5, hf_flax_msgpack, tf1, keras_hub),
each importing its optional package only when used; formats.py detects the format, state.py
checks a state against the schema.
"""

from .api import WRITABLE, load_checkpoint, save_checkpoint
from .formats import Format, detect_format
from .state import CanonicalState, MatchResult, infer_head, match_state, validate

__all__ = [
    "CanonicalState",
    "Format",
    "MatchResult",
    "WRITABLE",
    "detect_format",
    "infer_head",
    "load_checkpoint",
    "match_state",
    "save_checkpoint",
    "validate",
]
