"""config.json files written by HF transformers, one per preset (+ head variants), for round trips.

    pip install transformers==4.57.6
    python scripts/make_config_golden.py   # writes tests/fixtures/hf_configs/<name>/config.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import transformers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from albert_core.presets import PRESETS  # noqa: E402

OUT = ROOT / "tests/fixtures/hf_configs"

VARIANTS = {
    **{name: kwargs for name, kwargs in PRESETS.items()},
    "base-3-labels": {**PRESETS["albert-base-v2"], "num_labels": 3},
    "base-named-labels-regression": {
        **PRESETS["albert-base-v2"],
        "id2label": {0: "score"},
        "label2id": {"score": 0},
        "problem_type": "regression",
        "architectures": ["AlbertForSequenceClassification"],
    },
    "tiny-relative-grouped": {
        "vocab_size": 128, "embedding_size": 16, "hidden_size": 32, "num_hidden_layers": 5,
        "num_hidden_groups": 2, "inner_group_num": 2, "num_attention_heads": 4, "intermediate_size": 37,
        "position_embedding_type": "relative_key_query", "hidden_act": "gelu", "classifier_dropout_prob": None,
    },
}


def main() -> None:
    for name, kwargs in VARIANTS.items():
        config = transformers.AlbertConfig(**kwargs)
        config.save_pretrained(OUT / name)
    print(f"wrote {len(VARIANTS)} configs under {OUT} with transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
