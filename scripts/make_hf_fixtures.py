"""Write the golden HF fixtures under tests/fixtures/hf_tiny/ (run with the `cross` env: torch+TF+Flax+transformers).

For each tiny config and each ALBERT head, Hugging Face transformers itself writes the checkpoint in
every format it has for that head (all seven heads have PyTorch, TF and Flax classes in transformers
4.57): model.safetensors and pytorch_model.bin (PyTorch), tf_model.h5 (TF), flax_model.msgpack (Flax),
plus config.json and reference.npz: fixed inputs and HF PyTorch's eval-mode fp32 outputs.

Weights are random (seeded), biases and LayerNorm scales included, so a reader that drops or swaps a
bias is caught. The TF and Flax files are written from the same weights (HF's from_pt conversion) and
the script checks that HF TF and HF Flax reproduce HF PyTorch's logits before it keeps a file.

reference.npz keys: the inputs under their HF argument names (input_ids, attention_mask,
token_type_ids, labels, sentence_order_label, start_positions, end_positions), and every output
field as `output.<field>` (`output.hidden_states`: the L+1 hidden states stacked on axis 0,
`output.attentions`: the L*K attention maps stacked on axis 0).

Also writes tests/fixtures/legacy/position_ids/: the tiny base model with the persistent
`albert.embeddings.position_ids` buffer that transformers < 4.31 saved (a key holding no weights).

    USE_TF=1 python scripts/make_hf_fixtures.py [--out tests/fixtures]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import torch
import transformers

from albert_core.atomic import atomic_folder

TINY = dict(
    vocab_size=128,
    embedding_size=16,
    hidden_size=32,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
    type_vocab_size=2,
    hidden_act="gelu_new",
)
CONFIGS = {
    "tiny": dict(TINY, num_hidden_layers=2, num_hidden_groups=1, inner_group_num=1),
    "tiny-g2k2": dict(TINY, num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2),
}
# head -> (HF class suffix, num_labels). Pretraining keeps 2 labels: HF PyTorch sizes its SOP
# classifier by num_labels while HF Flax hard-codes 2, so only 2 is valid in every framework.
HEADS = {
    "base": ("Model", 2),
    "pretraining": ("ForPreTraining", 2),
    "masked_lm": ("ForMaskedLM", 2),
    "sequence_classification": ("ForSequenceClassification", 3),
    "multiple_choice": ("ForMultipleChoice", 2),
    "token_classification": ("ForTokenClassification", 3),
    "question_answering": ("ForQuestionAnswering", 2),
}
BATCH, SEQ, CHOICES = 2, 9, 3


def make_inputs(head: str, vocab: int, num_labels: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fixed inputs: row 1 is padded after 6 tokens; token types switch half way."""
    shape = (BATCH, CHOICES, SEQ) if head == "multiple_choice" else (BATCH, SEQ)
    input_ids = rng.integers(5, vocab, size=shape, dtype=np.int64)
    attention_mask = np.ones(shape, dtype=np.int64)
    token_type_ids = np.zeros(shape, dtype=np.int64)
    token_type_ids[..., SEQ // 2 :] = 1
    input_ids[1, ..., 6:] = 0  # pad_token_id
    attention_mask[1, ..., 6:] = 0
    token_type_ids[1, ..., 6:] = 0
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
    if head in ("masked_lm", "pretraining"):
        labels = np.full(shape, -100, dtype=np.int64)
        labels[0, [1, 4, 7]] = rng.integers(0, vocab, size=3)
        labels[1, [2, 3]] = rng.integers(0, vocab, size=2)
        inputs["labels"] = labels
        if head == "pretraining":
            inputs["sentence_order_label"] = np.array([0, 1], dtype=np.int64)
    elif head == "sequence_classification":
        inputs["labels"] = np.array([2, 0], dtype=np.int64)
    elif head == "multiple_choice":
        inputs["labels"] = np.array([1, 2], dtype=np.int64)
    elif head == "token_classification":
        labels = rng.integers(0, num_labels, size=shape).astype(np.int64)
        labels[attention_mask == 0] = -100
        inputs["labels"] = labels
    elif head == "question_answering":
        inputs["start_positions"] = np.array([2, 1], dtype=np.int64)
        inputs["end_positions"] = np.array([5, 3], dtype=np.int64)
    return inputs


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Every parameter random: weights ~ N(0, 0.2), LayerNorm scales ~ 1 + N(0, 0.1), biases ~ N(0, 0.1)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():  # tied tensors appear once
            noise = torch.randn(param.shape, generator=gen)
            if "LayerNorm" in name or "layer_norm" in name:
                param.copy_((1.0 + 0.1 * noise) if name.endswith("weight") else 0.1 * noise)
            elif name.endswith("bias"):
                param.copy_(0.1 * noise)
            else:
                param.copy_(0.2 * noise)


def reference_outputs(model, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = model(
            **{k: torch.from_numpy(v) for k, v in inputs.items()},
            output_hidden_states=True,
            output_attentions=True,
            return_dict=True,
        )
    result = {}
    for key, value in out.items():
        if isinstance(value, tuple):
            result[f"output.{key}"] = np.stack([t.numpy() for t in value])
        else:
            result[f"output.{key}"] = value.numpy()
    return result


def check_close(name: str, expected: np.ndarray, got: np.ndarray, atol: float = 1e-5) -> None:
    err = float(np.max(np.abs(expected - np.asarray(got))))
    if err > atol:
        raise SystemExit(f"{name}: max |diff| {err:.3g} > {atol}: the conversion is wrong, not writing fixtures")


def main_logits(outputs: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
    for key in ("output.logits", "output.prediction_logits", "output.start_logits", "output.last_hidden_state"):
        if key in outputs:
            return key.split(".", 1)[1], outputs[key]
    raise AssertionError(outputs.keys())


def write_tf(folder: Path, suffix: str, inputs, expected_name, expected) -> None:
    """tf_model.h5 via HF TF's from_pt conversion; logits checked against HF PyTorch."""
    import tensorflow as tf

    model = getattr(transformers, f"TFAlbert{suffix}").from_pretrained(folder, from_pt=True)
    predictions = getattr(model, "predictions", None)
    if predictions is not None:
        # HF quirk: TF's MLM logits add `predictions/decoder/bias`, which a PyTorch checkpoint does
        # not carry (it is tied to `predictions.bias` and dropped on save), so from_pt leaves it at zero.
        predictions.decoder_bias.assign(predictions.bias)
    feed = {k: tf.constant(v) for k, v in inputs.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    got = getattr(model(feed, training=False), expected_name)
    check_close(f"{folder} TF {expected_name}", expected, got.numpy())
    model.save_pretrained(folder)  # tf_model.h5; config.json rewritten identically


def write_flax(folder: Path, suffix: str, inputs, expected_name, expected) -> None:
    model = getattr(transformers, f"FlaxAlbert{suffix}").from_pretrained(folder, from_pt=True)
    feed = {k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    got = getattr(model(**feed, train=False), expected_name)
    check_close(f"{folder} Flax {expected_name}", expected, np.asarray(got))
    model.save_pretrained(folder)


def write_head(root: Path, config_name: str, head: str, seed: int) -> None:
    suffix, num_labels = HEADS[head]
    config = transformers.AlbertConfig(**CONFIGS[config_name], num_labels=num_labels, attn_implementation="eager")
    torch.manual_seed(seed)
    model = getattr(transformers, f"Albert{suffix}")(config).eval()
    randomize(model, seed)
    inputs = make_inputs(head, config.vocab_size, num_labels, np.random.default_rng(seed))
    outputs = reference_outputs(model, inputs)
    name, expected = main_logits(outputs)

    folder = root / "hf_tiny" / config_name / head
    with atomic_folder(folder, keep_existing=False) as tmp:  # a failed check leaves the old fixture
        model.save_pretrained(tmp, safe_serialization=True)
        model.save_pretrained(tmp, safe_serialization=False)
        write_tf(tmp, suffix, inputs, name, expected)
        write_flax(tmp, suffix, inputs, name, expected)
        np.savez(tmp / "reference.npz", **inputs, **outputs)
    print(f"wrote {folder}: {sorted(p.name for p in folder.iterdir())}")


def write_legacy_position_ids(root: Path) -> None:
    """The tiny base model as transformers < 4.31 saved it: with the position_ids buffer."""
    from safetensors.torch import save_file

    config = transformers.AlbertConfig(**CONFIGS["tiny"])
    model = transformers.AlbertModel(config).eval()
    randomize(model, 7)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["embeddings.position_ids"] = torch.arange(config.max_position_embeddings).expand((1, -1)).contiguous()
    folder = root / "legacy" / "position_ids"
    folder.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(folder)
    # Old AlbertModel checkpoints carry no `albert.` prefix on the base model's own keys.
    torch.save(state, folder / "pytorch_model.bin")
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    print(f"wrote {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "tests" / "fixtures"))
    args = parser.parse_args()
    root = Path(args.out)
    for c, config_name in enumerate(CONFIGS):
        for h, head in enumerate(HEADS):
            write_head(root, config_name, head, seed=1000 * c + h)
    write_legacy_position_ids(root)


if __name__ == "__main__":
    main()
