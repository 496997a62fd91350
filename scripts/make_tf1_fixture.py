"""Write tests/fixtures/tf1/: a TF1 checkpoint with google-research ALBERT's variable names.

Run in the `cross` env (tensorflow + torch + transformers):
    python scripts/make_tf1_fixture.py

Source weights: the HF fixture tests/fixtures/hf_tiny/tiny-g2k2/pretraining. Every tensor is saved
under the name google-research/albert's modeling.py and run_pretraining.py give it
(`bert/encoder/transformer/group_{g}/inner_group_{k}/attention_1/self/query/kernel`, ...,
`cls/predictions/*`, `cls/seq_relationship/*`), in its layout (Dense kernels [in, out],
`cls/seq_relationship/output_weights` [2, H]), with tf.compat.v1's Saver, so the files are what
run_pretraining.py leaves behind: model.ckpt-<step>.index, .data-00000-of-00001 and `checkpoint`
(the .meta graph is left out: no reader needs it).
Like a real training checkpoint it also holds LAMB slots (`<var>/adam_m`, `<var>/adam_v`) and
`global_step`, which a reader must skip.

The table below is written from google-research's source, independently of albert_core; the script
checks it by loading the result with HF transformers' own converter (load_tf_weights_in_albert)
and comparing every tensor with the source state before it keeps the files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_FLAX", "0")

import numpy as np
import tensorflow as tf
import torch
import transformers
from safetensors.numpy import load_file

from albert_core.atomic import atomic_folder

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SOURCE = ROOT / "hf_tiny" / "tiny-g2k2" / "pretraining"
TARGET = ROOT / "tf1"
STEP = 125000


def google_names(config: transformers.AlbertConfig) -> dict[str, tuple[str, bool]]:
    """HF name -> (google-research name, transpose?) for AlbertForPreTraining."""
    table = {
        "albert.embeddings.word_embeddings.weight": ("bert/embeddings/word_embeddings", False),
        "albert.embeddings.position_embeddings.weight": ("bert/embeddings/position_embeddings", False),
        "albert.embeddings.token_type_embeddings.weight": ("bert/embeddings/token_type_embeddings", False),
        "albert.embeddings.LayerNorm.weight": ("bert/embeddings/LayerNorm/gamma", False),
        "albert.embeddings.LayerNorm.bias": ("bert/embeddings/LayerNorm/beta", False),
        "albert.encoder.embedding_hidden_mapping_in.weight": ("bert/encoder/embedding_hidden_mapping_in/kernel", True),
        "albert.encoder.embedding_hidden_mapping_in.bias": ("bert/encoder/embedding_hidden_mapping_in/bias", False),
        "albert.pooler.weight": ("bert/pooler/dense/kernel", True),
        "albert.pooler.bias": ("bert/pooler/dense/bias", False),
        "predictions.dense.weight": ("cls/predictions/transform/dense/kernel", True),
        "predictions.dense.bias": ("cls/predictions/transform/dense/bias", False),
        "predictions.LayerNorm.weight": ("cls/predictions/transform/LayerNorm/gamma", False),
        "predictions.LayerNorm.bias": ("cls/predictions/transform/LayerNorm/beta", False),
        "predictions.bias": ("cls/predictions/output_bias", False),
        "sop_classifier.classifier.weight": ("cls/seq_relationship/output_weights", False),
        "sop_classifier.classifier.bias": ("cls/seq_relationship/output_bias", False),
    }
    layer = {
        "attention.query": "attention_1/self/query",
        "attention.key": "attention_1/self/key",
        "attention.value": "attention_1/self/value",
        "attention.dense": "attention_1/output/dense",
        "ffn": "ffn_1/intermediate/dense",
        "ffn_output": "ffn_1/intermediate/output/dense",
    }
    norms = {"attention.LayerNorm": "LayerNorm", "full_layer_layer_norm": "LayerNorm_1"}
    for g in range(config.num_hidden_groups):
        for k in range(config.inner_group_num):
            hf = f"albert.encoder.albert_layer_groups.{g}.albert_layers.{k}"
            google = f"bert/encoder/transformer/group_{g}/inner_group_{k}"
            for ours, theirs in layer.items():
                table[f"{hf}.{ours}.weight"] = (f"{google}/{theirs}/kernel", True)
                table[f"{hf}.{ours}.bias"] = (f"{google}/{theirs}/bias", False)
            for ours, theirs in norms.items():
                table[f"{hf}.{ours}.weight"] = (f"{google}/{theirs}/gamma", False)
                table[f"{hf}.{ours}.bias"] = (f"{google}/{theirs}/beta", False)
    return table


def write_checkpoint(folder: Path, variables: dict[str, np.ndarray]) -> None:
    graph = tf.Graph()
    with graph.as_default():
        tf_vars = {name: tf.compat.v1.Variable(value, name=name) for name, value in variables.items()}
        step = tf.compat.v1.Variable(np.int64(STEP), name="global_step")
        saver = tf.compat.v1.train.Saver(var_list={**tf_vars, "global_step": step})
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            # No .meta graph (a reader needs only .index/.data), and a `checkpoint` state file with a
            # relative path, as one that was copied off the training machine would be rewritten.
            saver.save(session, str(folder / "model.ckpt"), global_step=STEP, write_meta_graph=False, write_state=False)
    (folder / "checkpoint").write_text(
        f'model_checkpoint_path: "model.ckpt-{STEP}"\nall_model_checkpoint_paths: "model.ckpt-{STEP}"\n'
    )


def verify_with_hf(folder: Path, config: transformers.AlbertConfig, state: dict[str, np.ndarray]) -> None:
    model = transformers.AlbertForPreTraining(config)
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(float("nan"))  # anything the converter leaves untouched shows up
    transformers.load_tf_weights_in_albert(model, config, str(folder / f"model.ckpt-{STEP}"))
    got = {k: v.numpy() for k, v in model.state_dict().items()}
    for name, value in state.items():
        if not np.array_equal(got[name], value):
            raise SystemExit(f"HF's converter reads {name} differently: the name table is wrong")


def main() -> None:
    config = transformers.AlbertConfig.from_pretrained(SOURCE)
    state = load_file(SOURCE / "model.safetensors")
    table = google_names(config)
    if set(table) != set(state):
        raise SystemExit(f"name table and source disagree: {sorted(set(table) ^ set(state))}")
    variables = {table[n][0]: (v.T.copy() if table[n][1] else v) for n, v in state.items()}
    # LAMB slots for two variables, as run_pretraining.py's optimizer leaves them.
    rng = np.random.default_rng(0)
    for name in ("bert/embeddings/word_embeddings", "cls/predictions/output_bias"):
        for slot in ("adam_m", "adam_v"):
            variables[f"{name}/{slot}"] = rng.standard_normal(variables[name].shape).astype(np.float32)

    with atomic_folder(TARGET, keep_existing=False) as tmp:  # a failed check leaves the old fixture
        write_checkpoint(tmp, variables)
        verify_with_hf(tmp, config, state)
        # The google-research release ships albert_config.json beside the checkpoint; keep HF's
        # config.json too so the folder loads without a config argument.
        shutil.copy(SOURCE / "config.json", tmp / "config.json")
    print(f"wrote {TARGET}: {sorted(p.name for p in TARGET.iterdir())}")


if __name__ == "__main__":
    main()
