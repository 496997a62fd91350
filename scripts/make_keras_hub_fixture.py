"""Write tests/fixtures/keras_hub/tiny-g2k2_masked_lm/: a keras-hub ALBERT preset (backbone + masked-LM head).

Run in the `cross` env with keras-hub installed without its dependencies (they pull full TensorFlow):
    pip install --no-deps keras-hub
    python scripts/make_keras_hub_fixture.py

Source weights: the HF fixture tests/fixtures/hf_tiny/tiny-g2k2/pretraining (keras-hub's backbone always
has a pooler, so the pretraining checkpoint, not the masked-LM one, is the one that carries every
backbone tensor). The backbone is ported by keras-hub's own HF converter (`AlbertBackbone.from_preset`
on the HF folder); keras-hub has no converter for the MLM head, so the script assigns its four tensors
from HF's `predictions.*`. Before saving, it checks that keras-hub reproduces HF PyTorch: the sequence
output exactly as HF's last hidden state, and the MLM logits as HF's once HF's MLM LayerNorm epsilon is
set to keras-hub's 1e-5 (keras-hub's MaskedLMHead default; HF and the original code use 1e-12).
The preset folder is what `AlbertMaskedLM.save_to_preset` writes: config.json, task.json,
metadata.json, model.weights.h5 (backbone), task.weights.h5 (head).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_FLAX", "0")

import keras_hub
import numpy as np
import torch
import transformers

from albert_core.atomic import atomic_folder

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SOURCE = ROOT / "hf_tiny" / "tiny-g2k2" / "pretraining"
TARGET = ROOT / "keras_hub" / "tiny-g2k2_masked_lm"
KERAS_HUB_MLM_EPS = 1e-5


def check_close(what: str, expected, got, atol: float = 1e-5) -> None:
    err = float(np.max(np.abs(np.asarray(expected) - np.asarray(got))))
    print(f"{what}: max |diff| {err:.3g}")
    if err > atol:
        raise SystemExit(f"{what}: keras-hub disagrees with HF PyTorch ({err:.3g} > {atol}); not writing the fixture")


def main() -> None:
    hf = transformers.AlbertForPreTraining.from_pretrained(SOURCE, attn_implementation="eager").eval()
    hf.predictions.LayerNorm.eps = KERAS_HUB_MLM_EPS
    state = {k: v.detach().numpy() for k, v in hf.state_dict().items()}

    backbone = keras_hub.models.AlbertBackbone.from_preset(str(SOURCE))
    mlm = keras_hub.models.AlbertMaskedLM(backbone, preprocessor=None)
    head = mlm.masked_lm_head
    head._intermediate_dense.kernel.assign(state["predictions.dense.weight"].T)
    head._intermediate_dense.bias.assign(state["predictions.dense.bias"])
    head._intermediate_layer_norm.gamma.assign(state["predictions.LayerNorm.weight"])
    head._intermediate_layer_norm.beta.assign(state["predictions.LayerNorm.bias"])
    head._bias.assign(state["predictions.bias"])
    assert head._intermediate_layer_norm.epsilon == KERAS_HUB_MLM_EPS

    ref = np.load(SOURCE / "reference.npz")
    ids, mask, types = ref["input_ids"], ref["attention_mask"], ref["token_type_ids"]
    mask_positions = np.array([[1, 4, 7], [0, 2, 3]], dtype=np.int32)
    with torch.no_grad():
        out = hf(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            token_type_ids=torch.from_numpy(types),
            output_hidden_states=True,
        )
    expected_logits = np.take_along_axis(out.prediction_logits.numpy(), mask_positions[..., None], axis=1)
    feed = {"token_ids": ids.astype(np.int32), "segment_ids": types.astype(np.int32), "padding_mask": mask.astype(np.int32)}
    seq = backbone(feed)["sequence_output"]
    # Padded positions differ by design (keras-hub masks with -inf, HF with the dtype's min); compare real tokens.
    real = mask.astype(bool)
    check_close("sequence_output", out.hidden_states[-1].numpy()[real], np.asarray(seq)[real])
    logits = mlm({**feed, "mask_positions": mask_positions})
    check_close("mlm logits", expected_logits, np.asarray(logits))

    with atomic_folder(TARGET, keep_existing=False) as tmp:
        mlm.save_to_preset(str(tmp))
        meta = json.loads((tmp / "metadata.json").read_text())
        meta["date_saved"] = "fixture"  # keep the committed file stable across reruns
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=4))
    print(f"wrote {TARGET}: {sorted(p.name for p in TARGET.iterdir())}")


if __name__ == "__main__":
    main()
