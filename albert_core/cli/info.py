"""`albert info CONFIG`: shapes, parameter counts, and what ALBERT's two tricks save against BERT.

The counts come from the schema (the tensors a checkpoint of that config holds), so they are the
numbers a loaded model reports. "BERT-equivalent" is the same width, depth, FFN and vocabulary
with no embedding factorisation (E = H) and no layer sharing (L separate layers).
"""

from __future__ import annotations

import json

from ..config import AlbertConfig
from ..schema import ARCHITECTURES, Head, count_parameters, encoder_specs, parameter_count, tensor_specs


def summarise(config: AlbertConfig) -> dict:
    c = config
    specs = encoder_specs(c, with_pooler=True)
    embeddings = count_parameters(s for s in specs if ".embeddings." in s.name)
    projection = count_parameters(s for s in specs if "embedding_hidden_mapping_in" in s.name)
    layers = count_parameters(s for s in specs if ".albert_layer_groups." in s.name)
    pooler = count_parameters(s for s in specs if ".pooler." in s.name)
    per_layer = layers // (c.num_hidden_groups * c.inner_group_num)
    bert_embeddings = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * c.hidden_size + 2 * c.hidden_size
    bert_layers = per_layer * c.num_hidden_layers * c.inner_group_num
    bert_total = bert_embeddings + bert_layers + pooler
    albert_total = embeddings + projection + layers + pooler
    return {
        "config": {k: v for k, v in c.to_dict().items() if k not in ("id2label", "label2id")},
        "shapes": {
            "word_embeddings": [c.vocab_size, c.embedding_size],
            "position_embeddings": [c.max_position_embeddings, c.embedding_size],
            "token_type_embeddings": [c.type_vocab_size, c.embedding_size],
            "embedding_projection": [c.embedding_size, c.hidden_size],
            "attention": f"{c.num_attention_heads} heads x {c.head_dim}",
            "ffn": [c.hidden_size, c.intermediate_size],
            "layer_groups": f"{c.num_hidden_groups} group(s) x {c.inner_group_num} layer(s), "
            f"run over {c.num_hidden_layers} steps",
        },
        "parameters": {
            "embeddings": embeddings,
            "embedding_projection": projection,
            "shared_layers": layers,
            "per_layer": per_layer,
            "pooler": pooler,
            "encoder_total": albert_total,
            "heads": {ARCHITECTURES[h]: parameter_count(c, h) for h in Head},
        },
        "bert_equivalent": {
            "embeddings": bert_embeddings,
            "layers": bert_layers,
            "total": bert_total,
            "saved_by_factorised_embeddings": bert_embeddings - embeddings - projection,
            "saved_by_layer_sharing": bert_layers - layers,
            "albert_fraction_of_bert": albert_total / bert_total,
        },
        "tensors": len(tensor_specs(c, Head.BASE)),
    }


def _fmt(n: int) -> str:
    return f"{n:,}" if abs(n) < 1e6 else f"{n:,} ({n / 1e6:.1f}M)"


def render(summary: dict) -> str:
    p, b, s = summary["parameters"], summary["bert_equivalent"], summary["shapes"]
    lines = ["shapes:"]
    lines += [f"  {k:24s} {v}" for k, v in s.items()]
    lines += [
        "parameters:",
        f"  {'embeddings':24s} {_fmt(p['embeddings'])}",
        f"  {'embedding projection':24s} {_fmt(p['embedding_projection'])}",
        f"  {'shared layers':24s} {_fmt(p['shared_layers'])}  ({_fmt(p['per_layer'])} per layer)",
        f"  {'pooler':24s} {_fmt(p['pooler'])}",
        f"  {'encoder total':24s} {_fmt(p['encoder_total'])}",
        "  with heads:",
    ]
    lines += [f"    {name:36s} {_fmt(n)}" for name, n in p["heads"].items()]
    lines += [
        "against BERT of the same width and depth (E = H, no sharing):",
        f"  {'BERT total':24s} {_fmt(b['total'])}",
        f"  {'saved by factorised E':24s} {_fmt(b['saved_by_factorised_embeddings'])}",
        f"  {'saved by layer sharing':24s} {_fmt(b['saved_by_layer_sharing'])}",
        f"  {'ALBERT / BERT':24s} {b['albert_fraction_of_bert']:.1%}",
    ]
    return "\n".join(lines)


def run(args) -> int:
    config = AlbertConfig.from_pretrained(args.config)
    summary = summarise(config)
    print(json.dumps(summary, indent=2) if args.json else render(summary))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("info", help="shapes and parameter counts of a config (and the savings vs BERT)")
    parser.add_argument("config", help="a preset (albert-base-v2), a folder with config.json, a .json file or a hub id")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)
