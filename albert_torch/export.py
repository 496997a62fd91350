"""torch.export and ONNX export of any albert_torch model, with dynamic batch and sequence axes.

Input checks and the all-ones-mask shortcut are skipped while tracing (see inputs.is_tracing), so
the exported graph is the plain math: feed it valid ids, as any exported model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import torch

from albert_core.errors import require
from albert_core.schema import Head

# What each head returns without labels, in output order: the ONNX graph's output names.
OUTPUT_NAMES = {
    Head.BASE: ["last_hidden_state", "pooler_output"],
    Head.PRETRAINING: ["prediction_logits", "sop_logits"],
    Head.MASKED_LM: ["logits"],
    Head.SEQUENCE_CLASSIFICATION: ["logits"],
    Head.MULTIPLE_CHOICE: ["logits"],
    Head.TOKEN_CLASSIFICATION: ["logits"],
    Head.QUESTION_ANSWERING: ["start_logits", "end_logits"],
}
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]


def example_inputs(model, batch: int = 2, seq: int = 8) -> dict[str, torch.Tensor]:
    """Valid example ids / mask / token types on the model's device (a [batch, 2, seq] shape for
    multiple choice). Sizes above 1 so that tracing does not specialise the dynamic axes."""
    config = model.config
    seq = min(seq, config.max_position_embeddings)
    shape = (batch, 2, seq) if model.head is Head.MULTIPLE_CHOICE else (batch, seq)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, config.vocab_size, shape, generator=generator)
    return {
        "input_ids": ids.to(model.device),
        "attention_mask": torch.ones(shape, dtype=torch.long, device=model.device),
        "token_type_ids": torch.zeros(shape, dtype=torch.long, device=model.device),
    }


def dynamic_shapes(model) -> dict[str, dict[int, torch.export.Dim]]:
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("seq", max=model.config.max_position_embeddings)
    axes = {0: batch, 2: seq} if model.head is Head.MULTIPLE_CHOICE else {0: batch, 1: seq}
    if model.head is Head.MULTIPLE_CHOICE:
        axes[1] = torch.export.Dim("choices")
    return {name: dict(axes) for name in INPUT_NAMES}


def export_program(model, inputs: dict | None = None) -> torch.export.ExportedProgram:
    """torch.export of the model in eval mode, batch and sequence length dynamic."""
    model.eval()
    inputs = inputs or example_inputs(model)
    return torch.export.export(model, (), inputs, dynamic_shapes=dynamic_shapes(model))


def export_onnx(model, path: Union[str, os.PathLike], inputs: dict | None = None, opset_version: int | None = None) -> Path:
    """Write an ONNX graph (inputs input_ids, attention_mask, token_type_ids; dynamic axes) to `path`.

    Needs the `onnx` extra (onnx, onnxscript). Returns the path. Written beside `path` under a
    temporary name and renamed over it, so a reader never sees half a graph.
    """
    require("onnxscript", "ONNX export", extra="onnx")
    model.eval()
    inputs = inputs or example_inputs(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {} if opset_version is None else {"opset_version": opset_version}
    # The exporter lowers SDPA to matmul/softmax anyway; tracing the eager path directly avoids a
    # stride bug in torch 2.13's SDPA decomposition when the bias is [batch, heads, seq, seq]
    # (relative positions). The model's own setting is restored afterwards.
    attn = model.attn_implementation
    model.set_attn_implementation("eager")
    try:
        program = _onnx_program(model, inputs, kwargs)
    finally:
        model.set_attn_implementation(attn)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        program.save(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _onnx_program(model, inputs, kwargs):
    return torch.onnx.export(
        model,
        (),
        kwargs=inputs,
        dynamic_shapes=dynamic_shapes(model),
        input_names=INPUT_NAMES,
        output_names=OUTPUT_NAMES[model.head],
        dynamo=True,
        verbose=False,
        **kwargs,
    )
