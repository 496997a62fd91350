"""albert_torch against HF PyTorch's committed outputs (tests/fixtures/hf_tiny, scripts/make_hf_fixtures.py).

Weights come from each fixture's model.safetensors through the canonical-state adapter; every head,
both configs (plain and 2 groups × 2 inner layers), both attention implementations. Row 1 of each
batch is padded, so the padding path is always exercised.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

import albert_torch
from albert_core import AlbertConfig
from albert_core.schema import ARCHITECTURES, BASE_PREFIX, Head

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf_tiny"
ATOL = 1e-5
LOSS_RTOL = 1e-5
CASES = [(c, h) for c in ("tiny", "tiny-g2k2") for h in Head]
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
LABEL_NAMES = ("labels", "sentence_order_label", "start_positions", "end_positions")


def fixture_state(folder: Path, head: Head) -> dict:
    """HF's model.safetensors as a canonical state. HF saves a bare AlbertModel without the
    `albert.` prefix (its base_model_prefix); canonical names always carry it."""
    state = load_file(folder / "model.safetensors")
    if head is Head.BASE:
        state = {k if k.startswith(BASE_PREFIX) else BASE_PREFIX + k: v for k, v in state.items()}
    return state


def load_fixture_model(config_name: str, head: Head, attn: str):
    folder = FIXTURES / config_name / head.value
    config = AlbertConfig.from_json_file(folder / "config.json")
    model = getattr(albert_torch, ARCHITECTURES[head])(config, attn_implementation=attn).eval()
    model.load_canonical_state(fixture_state(folder, head))
    return model, np.load(folder / "reference.npz")


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("config_name, head", CASES, ids=[f"{c}-{h.value}" for c, h in CASES])
def test_outputs_match_hf_reference(config_name, head, attn):
    model, ref = load_fixture_model(config_name, head, attn)
    kwargs = {k: torch.from_numpy(ref[k]) for k in INPUT_NAMES + LABEL_NAMES if k in ref}
    with torch.no_grad():
        out = model(**kwargs, output_hidden_states=True, output_attentions=True)
    fields = [k.removeprefix("output.") for k in ref if k.startswith("output.")]
    assert fields, "reference.npz holds no outputs"
    for field in fields:
        expected = ref[f"output.{field}"]
        got = getattr(out, field)
        if field == "loss":
            assert got.item() == pytest.approx(float(expected), rel=LOSS_RTOL)
            continue
        got = torch.stack(got).numpy() if isinstance(got, tuple) else got.numpy()
        assert got.shape == expected.shape, field
        delta = np.abs(got - expected).max()
        assert delta <= ATOL, f"{field}: max |Δ| {delta:.3g}"
