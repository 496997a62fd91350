"""torch.compile, torch.export and ONNX (checked with onnxruntime) on small models."""

import numpy as np
import pytest
import torch

import albert_torch
from albert_core import AlbertConfig
from albert_torch.export import OUTPUT_NAMES, export_onnx, export_program


def small_config(**changes):
    base = dict(
        vocab_size=97, embedding_size=16, hidden_size=32, num_attention_heads=4, intermediate_size=37,
        num_hidden_layers=3, num_hidden_groups=2, inner_group_num=2, max_position_embeddings=40,
    )
    return AlbertConfig(**{**base, **changes})


def other_shape_inputs(model, batch=3, seq=17):
    """Inputs of a shape the export never saw, with padding in row 0."""
    g = torch.Generator().manual_seed(5)
    shape = (batch, 2, seq) if model.head.value == "multiple_choice" else (batch, seq)
    ids = torch.randint(1, model.config.vocab_size, shape, generator=g)
    mask = torch.ones(shape, dtype=torch.long)
    mask[0, ..., 9:] = 0
    types = torch.zeros(shape, dtype=torch.long)
    types[..., 4:] = 1
    return dict(input_ids=ids, attention_mask=mask, token_type_ids=types)


def test_torch_compile_matches_eager_mode():
    # Default (inductor) backend; one shared layer run twice keeps the compile short.
    torch.manual_seed(0)
    model = albert_torch.AlbertModel(small_config(num_hidden_layers=2, num_hidden_groups=1, inner_group_num=1)).eval()
    compiled = torch.compile(model)
    inputs = other_shape_inputs(model)
    with torch.no_grad():
        got, want = compiled(**inputs), model(**inputs)
    torch.testing.assert_close(got.last_hidden_state, want.last_hidden_state, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got.pooler_output, want.pooler_output, atol=1e-5, rtol=1e-5)


def test_torch_export_with_dynamic_batch_and_sequence():
    torch.manual_seed(0)
    model = albert_torch.AlbertModel(small_config())
    program = export_program(model)
    inputs = other_shape_inputs(model)
    got = program.module()(**inputs)
    with torch.no_grad():
        want = model(**inputs)
    torch.testing.assert_close(got.last_hidden_state, want.last_hidden_state)
    torch.testing.assert_close(got.pooler_output, want.pooler_output)


@pytest.mark.parametrize(
    "cls, positions",
    [(albert_torch.AlbertModel, "relative_key"), (albert_torch.AlbertForMultipleChoice, "absolute")],
    ids=["AlbertModel-relative_key", "AlbertForMultipleChoice-absolute"],
)
def test_onnx_export_matches_onnxruntime(tmp_path, cls, positions):
    import onnxruntime

    torch.manual_seed(0)
    model = cls(small_config(position_embedding_type=positions))
    path = export_onnx(model, tmp_path / "albert.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask", "token_type_ids"]
    inputs = other_shape_inputs(model)
    results = session.run(None, {k: v.numpy() for k, v in inputs.items()})
    with torch.no_grad():
        want = model(**inputs)
    for name, got in zip(OUTPUT_NAMES[model.head], results):
        delta = np.abs(got - getattr(want, name).numpy()).max()
        assert delta <= 1e-4, f"{name}: max |Δ| {delta:.3g}"
    assert not list(tmp_path.glob(".*tmp"))
