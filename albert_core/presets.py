"""The published ALBERT shapes (Lan et al. 2019, Table 1), as the hub's config.json files give them.

v1 and v2 share shapes; v2 was trained without dropout and with the tanh-approximated GELU
("gelu_new"), v1 with dropout 0.1 and the exact GELU.
"""

from __future__ import annotations

from .config import AlbertConfig

_SHAPES = {
    "base": dict(hidden_size=768, num_attention_heads=12, intermediate_size=3072, num_hidden_layers=12),
    "large": dict(hidden_size=1024, num_attention_heads=16, intermediate_size=4096, num_hidden_layers=24),
    "xlarge": dict(hidden_size=2048, num_attention_heads=16, intermediate_size=8192, num_hidden_layers=24),
    "xxlarge": dict(hidden_size=4096, num_attention_heads=64, intermediate_size=16384, num_hidden_layers=12),
}
_VERSIONS = {
    "v1": dict(hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1),
    "v2": dict(hidden_act="gelu_new", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0),
}

PRESETS: dict[str, dict] = {
    f"albert-{size}-{version}": {"vocab_size": 30000, "embedding_size": 128, **shape, **_VERSIONS[version]}
    for size, shape in _SHAPES.items()
    for version in _VERSIONS
}


def preset_config(name: str, **overrides) -> AlbertConfig:
    """AlbertConfig of a preset (`albert-base-v2` or the hub id `albert/albert-base-v2`)."""
    key = name.split("/")[-1]
    if key not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return AlbertConfig(**{**PRESETS[key], **overrides})
