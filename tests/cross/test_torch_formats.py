"""albert_torch loads the formats that need another framework to read: the google-research TF1
checkpoint (tensorflow's checkpoint reader) gives HF PyTorch's outputs for the same weights."""

from pathlib import Path

import numpy as np
import torch

import albert_torch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_tf1_checkpoint_matches_hf_reference():
    # tests/fixtures/tf1 holds the tiny-g2k2 pretraining weights under google-research names.
    model = albert_torch.AlbertForPreTraining.from_pretrained(FIXTURES / "tf1")
    ref = np.load(FIXTURES / "hf_tiny" / "tiny-g2k2" / "pretraining" / "reference.npz")
    inputs = {k: torch.from_numpy(ref[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        out = model(**inputs)
    assert np.abs(out.prediction_logits.numpy() - ref["output.prediction_logits"]).max() <= 1e-5
    assert np.abs(out.sop_logits.numpy() - ref["output.sop_logits"]).max() <= 1e-5
