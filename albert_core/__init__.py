"""albert_core: the framework-neutral half of albert (numpy, sentencepiece, safetensors only).

Config, tokenizer, weight-naming schema and checkpoint IO, data pipelines, the `albert` CLI.
Importing it imports no deep-learning framework.
"""

from .config import AlbertConfig
from .errors import AlbertError, CheckpointError, ConfigError, MissingDependencyError, TokenizerError
from .presets import PRESETS, preset_config
from .schema import Head, Kind, TensorSpec, tensor_specs

__version__ = "0.1.0"

__all__ = [
    "AlbertConfig",
    "AlbertError",
    "CheckpointError",
    "ConfigError",
    "Head",
    "Kind",
    "MissingDependencyError",
    "PRESETS",
    "TensorSpec",
    "TokenizerError",
    "preset_config",
    "tensor_specs",
]


def __getattr__(name):
    # The tokenizer imports sentencepiece; load it on first use so `import albert_core` stays light.
    if name in ("AlbertTokenizer", "AlbertTokenizerFast", "BatchEncoding"):
        from . import tokenizer

        return getattr(tokenizer, name)
    raise AttributeError(f"module 'albert_core' has no attribute {name!r}")
