"""The canonical <-> Keras adapter: where each canonical (HF PyTorch) tensor lives in an albert_tf model.

The module tree mirrors HF's, so the names follow from the structure: `canonical_variables`
walks it once. Layouts come from the schema (`to_kernel_layout` / `from_kernel_layout`: Keras
Dense kernels are [in, out], canonical Linear weights [out, in]). Tied tensors (the MLM decoder)
are not variables of their own here; the schema's `tied_to` says what they equal.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from albert_core.errors import CheckpointError
from albert_core.schema import BASE_PREFIX, from_kernel_layout, layer_prefix, tensor_specs, to_kernel_layout


def _dense(prefix: str, layer) -> dict:
    out = {f"{prefix}.weight": layer.kernel}
    if layer.use_bias:
        out[f"{prefix}.bias"] = layer.bias
    return out


def _norm(prefix: str, layer) -> dict:
    return {f"{prefix}.weight": layer.gamma, f"{prefix}.bias": layer.beta}


def _encoder_variables(albert) -> dict:
    emb = albert.embeddings
    p = f"{BASE_PREFIX}embeddings"
    out = {
        f"{p}.word_embeddings.weight": emb.word_embeddings,
        f"{p}.position_embeddings.weight": emb.position_embeddings,
        f"{p}.token_type_embeddings.weight": emb.token_type_embeddings,
        **_norm(f"{p}.LayerNorm", emb.LayerNorm),
        **_dense(f"{BASE_PREFIX}encoder.embedding_hidden_mapping_in", albert.encoder.embedding_hidden_mapping_in),
    }
    for g, group in enumerate(albert.encoder.albert_layer_groups):
        for k, layer in enumerate(group.albert_layers):
            p = layer_prefix(g, k)
            att = layer.attention
            out.update(_norm(f"{p}.full_layer_layer_norm", layer.full_layer_layer_norm))
            for name in ("query", "key", "value", "dense"):
                out.update(_dense(f"{p}.attention.{name}", getattr(att, name)))
            out.update(_norm(f"{p}.attention.LayerNorm", att.LayerNorm))
            if att.relative:
                out[f"{p}.attention.distance_embedding.weight"] = att.distance_embedding
            out.update(_dense(f"{p}.ffn", layer.ffn))
            out.update(_dense(f"{p}.ffn_output", layer.ffn_output))
    if albert.pooler is not None:
        out.update(_dense(f"{BASE_PREFIX}pooler", albert.pooler))
    return out


def _mlm_variables(head) -> dict:
    out = {"predictions.bias": head.bias, **_dense("predictions.dense", head.dense), **_norm("predictions.LayerNorm", head.LayerNorm)}
    if head.decoder is not None:  # untied: its own [E, V] kernel
        out["predictions.decoder.weight"] = head.decoder.kernel
    return out


def canonical_variables(model) -> dict:
    """{canonical name: keras.Variable} for every tensor of `model` that is not tied to another."""
    out = _encoder_variables(model.albert)
    if hasattr(model, "predictions"):
        out.update(_mlm_variables(model.predictions))
    if hasattr(model, "sop_classifier"):
        out.update(_dense("sop_classifier.classifier", model.sop_classifier.classifier))
    if hasattr(model, "classifier"):
        out.update(_dense("classifier", model.classifier))
    if hasattr(model, "qa_outputs"):
        out.update(_dense("qa_outputs", model.qa_outputs))
    return out


def set_canonical_state(model, state: Mapping[str, np.ndarray]) -> None:
    """Assign `state` to the model's variables; every problem is reported at once, by name."""
    variables = canonical_variables(model)
    specs = [s for s in tensor_specs(model.config, model.head) if s.tied_to is None]
    missing = [s.name for s in specs if s.name not in state]
    wrong = [
        f"{s.name}: expected {list(s.shape)}, got {list(np.shape(state[s.name]))}"
        for s in specs
        if s.name in state and tuple(np.shape(state[s.name])) != s.shape
    ]
    if missing or wrong:
        lines = [f"cannot load this state into {type(model).__name__}:"]
        if missing:
            lines.append(f"  missing tensors ({len(missing)}): {', '.join(missing)}")
        if wrong:
            lines.append(f"  wrong shapes ({len(wrong)}): " + "; ".join(wrong))
        raise CheckpointError("\n".join(lines))
    for spec in specs:
        variable = variables[spec.name]
        value = np.asarray(to_kernel_layout(spec, np.asarray(state[spec.name])))
        variable.assign(value.astype(variable.dtype, copy=False))


def get_canonical_state(model) -> dict:
    """{canonical name: numpy array} of the whole model, tied tensors included (as their targets)."""
    variables = canonical_variables(model)
    specs = tensor_specs(model.config, model.head)
    own = {
        s.name: np.ascontiguousarray(from_kernel_layout(s, variables[s.name].numpy())) for s in specs if s.tied_to is None
    }
    # Schema order; a tied tensor is its target's array.
    return {s.name: own[s.tied_to] if s.tied_to else own[s.name] for s in specs}
