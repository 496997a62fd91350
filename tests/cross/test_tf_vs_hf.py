"""albert_tf against HF transformers' PyTorch ALBERT (the live reference), DESIGN.md section 5.

albert-base shape (12 layers, H 768, E 128, vocab 30000), random weights, batch 2, seq 64, fp32,
every head, with and without padding: hidden states and logits within 1e-5, losses within 1e-5
relative, gradients (tf.GradientTape vs torch autograd) within 1e-4 × max(the tensor's max |grad|,
the model's max |grad|). HF runs its eager attention (the reference that supports every feature).
"""

import os

os.environ.setdefault("USE_TF", "0")  # transformers' PyTorch classes only
os.environ.setdefault("USE_FLAX", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import transformers

import albert_tf
from albert_core import AlbertConfig
from albert_core.presets import preset_config
from albert_core.schema import ARCHITECTURES, BASE_PREFIX, Head, from_kernel_layout, specs_by_name
from albert_tf.weights import canonical_variables

ATOL = 1e-5
LOSS_RTOL = 1e-5
GRAD_RTOL = 1e-4
BATCH, SEQ = 2, 64
HEADS = list(Head)


def base_config(**changes) -> AlbertConfig:
    return preset_config("albert-base-v2").replace(**changes)


def hf_model(config: AlbertConfig, head: Head, state: dict):
    """HF's PyTorch model for `head` holding the canonical `state` (eager attention, eval mode)."""
    model = getattr(transformers, ARCHITECTURES[head])(transformers.AlbertConfig(**config.to_dict(), attn_implementation="eager"))
    if head is Head.BASE:  # HF's bare AlbertModel has no `albert.` prefix
        state = {k[len(BASE_PREFIX) :]: v for k, v in state.items()}
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()}, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    return model.eval()


def pair(config: AlbertConfig, head: Head, seed: int = 0):
    keras.utils.set_random_seed(seed)
    ours = albert_tf.MODEL_FOR_HEAD[head](config)
    return ours, hf_model(config, head, ours.canonical_state())


def make_inputs(config: AlbertConfig, head: Head, padded: bool, seed: int = 1):
    """numpy inputs and labels (HF names) for `head`; row 1 padded (23 tokens) when `padded`."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, config.vocab_size, (BATCH, SEQ))
    mask = np.ones((BATCH, SEQ), "int64")
    if padded:
        mask[1, SEQ - 23 :] = 0
        ids[1, SEQ - 23 :] = config.pad_token_id
    types = np.zeros((BATCH, SEQ), "int64")
    types[:, SEQ // 2 :] = 1
    inputs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types)
    labels = {}
    if head in (Head.PRETRAINING, Head.MASKED_LM):
        mlm = np.full((BATCH, SEQ), -100)
        mlm[:, ::5] = ids[:, ::5]
        labels["labels"] = mlm
        if head is Head.PRETRAINING:
            labels["sentence_order_label"] = np.array([0, 1])
    elif head is Head.SEQUENCE_CLASSIFICATION:
        labels["labels"] = np.array([1, 0])
    elif head is Head.TOKEN_CLASSIFICATION:
        tags = rng.integers(0, config.num_labels, (BATCH, SEQ))
        tags[mask == 0] = -100
        labels["labels"] = tags
    elif head is Head.QUESTION_ANSWERING:
        labels = dict(start_positions=np.array([3, 70]), end_positions=np.array([9, 80]))  # 70, 80: ignored
    elif head is Head.MULTIPLE_CHOICE:
        inputs = {k: np.stack([v, np.roll(v, 1, axis=1)], axis=1) for k, v in inputs.items()}
        inputs["input_ids"][:, 1, 0] = 7
        labels["labels"] = np.array([1, 0])
    return inputs, labels


def named_outputs(out) -> dict:
    """{name: numpy} of an output (our dict or HF's dataclass), hidden states / attentions flattened."""
    get = (lambda k: out.get(k)) if isinstance(out, dict) else (lambda k: getattr(out, k, None))
    found = {}
    for key in ("last_hidden_state", "pooler_output", "logits", "prediction_logits", "sop_logits", "start_logits", "end_logits"):
        value = get(key)
        if value is not None:
            found[key] = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    for key in ("hidden_states", "attentions"):
        for i, value in enumerate(get(key) or ()):
            found[f"{key}[{i}]"] = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    return found


def assert_outputs_close(ours, theirs, atol=ATOL):
    a, b = named_outputs(ours), named_outputs(theirs)
    assert a.keys() == b.keys()
    for key in a:
        delta = float(np.abs(a[key] - b[key]).max())
        assert delta <= atol, f"{key}: max |Δ| {delta:.3g} > {atol}"


def torch_inputs(values: dict) -> dict:
    return {k: torch.from_numpy(np.asarray(v)) for k, v in values.items()}


@pytest.fixture(scope="module")
def config():
    return base_config()


@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
@pytest.mark.parametrize("head", HEADS, ids=[h.value for h in HEADS])
def test_forward_loss_and_gradients_match_hf(config, head, padded):
    ours, theirs = pair(config, head)
    inputs, labels = make_inputs(config, head, padded)
    variables = canonical_variables(ours)
    with tf.GradientTape() as tape:
        out_ours = ours({**inputs, **labels}, output_hidden_states=True)
        if labels:
            loss_ours = out_ours["loss"]
        else:  # AlbertModel: backpropagate a fixed function of its outputs
            loss_ours = tf.reduce_mean(tf.square(out_ours["last_hidden_state"])) + tf.reduce_sum(out_ours["pooler_output"])
    grads_ours = dict(zip(variables, tape.gradient(loss_ours, list(variables.values()))))
    out_theirs = theirs(**torch_inputs(inputs), **torch_inputs(labels), output_hidden_states=True)
    assert_outputs_close(out_ours, out_theirs)
    if labels:
        loss_theirs = out_theirs.loss
        assert float(loss_ours) == pytest.approx(loss_theirs.item(), rel=LOSS_RTOL)
    else:
        loss_theirs = out_theirs.last_hidden_state.square().mean() + out_theirs.pooler_output.sum()
    loss_theirs.backward()

    prefix = BASE_PREFIX if head is Head.BASE else ""
    grads_theirs = {prefix + k: p.grad.numpy() for k, p in theirs.named_parameters()}  # tied ones once
    assert grads_ours.keys() == grads_theirs.keys()
    specs = specs_by_name(config, head)
    model_max = max(np.abs(g).max() for g in grads_theirs.values())
    for name, grad in grads_ours.items():
        got = from_kernel_layout(specs[name], tf.convert_to_tensor(grad).numpy())
        want = grads_theirs[name]
        bound = GRAD_RTOL * max(np.abs(want).max(), model_max)
        delta = np.abs(got - want).max()
        assert delta <= bound, f"grad of {name}: max |Δ| {delta:.3g} > {bound:.3g}"
    pad_row = grads_ours[f"{BASE_PREFIX}embeddings.word_embeddings.weight"]
    if padded and head not in (Head.PRETRAINING, Head.MASKED_LM):  # no tied decoder: lookups only
        assert np.all(tf.convert_to_tensor(pad_row).numpy()[config.pad_token_id] == 0)


@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
def test_attentions_and_xla_match_hf(config, padded):
    ours, theirs = pair(config, Head.MASKED_LM)
    inputs, _ = make_inputs(config, Head.MASKED_LM, padded)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), output_attentions=True, output_hidden_states=True)
    out_ours = ours(inputs, output_attentions=True, output_hidden_states=True)
    assert len(out_ours["attentions"]) == config.num_hidden_layers
    assert_outputs_close(out_ours, out_theirs)
    compiled = tf.function(lambda x: ours(x, output_attentions=True, output_hidden_states=True), jit_compile=True)
    assert_outputs_close(compiled({k: tf.constant(v) for k, v in inputs.items()}), out_theirs)
    np.testing.assert_allclose(ours.predict_on_batch(inputs)["logits"], out_theirs.logits.numpy(), atol=ATOL)


@pytest.mark.parametrize("problem_type, num_labels", [("regression", 1), ("multi_label_classification", 3), (None, 1)])
def test_sequence_classification_problem_types_match_hf(problem_type, num_labels):
    config = base_config(num_hidden_layers=2, problem_type=problem_type, num_labels=num_labels)
    ours, theirs = pair(config, Head.SEQUENCE_CLASSIFICATION)
    inputs, _ = make_inputs(config, Head.BASE, padded=True)
    if num_labels == 1:
        labels = np.array([0.5, -1.5], "float32")
    else:
        labels = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], "float32")
    out_ours = ours({**inputs, "labels": labels})
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), labels=torch.from_numpy(labels))
    assert_outputs_close(out_ours, out_theirs)
    assert float(out_ours["loss"]) == pytest.approx(out_theirs.loss.item(), rel=LOSS_RTOL)


def test_sharing_groups_and_inner_layers_match_hf():
    # 5 steps over 2 groups of 2 inner layers: HF's int(l·G/L) group schedule, L·K attentions.
    config = base_config(num_hidden_layers=5, num_hidden_groups=2, inner_group_num=2, vocab_size=500)
    ours, theirs = pair(config, Head.PRETRAINING)
    inputs, labels = make_inputs(config, Head.PRETRAINING, padded=True)
    out_ours = ours({**inputs, **labels}, output_attentions=True, output_hidden_states=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), **torch_inputs(labels), output_attentions=True, output_hidden_states=True)
    assert len(out_ours["hidden_states"]) == 6 and len(out_ours["attentions"]) == 10
    assert_outputs_close(out_ours, out_theirs)
    assert float(out_ours["loss"]) == pytest.approx(out_theirs.loss.item(), rel=LOSS_RTOL)


@pytest.mark.parametrize("kind", ["relative_key", "relative_key_query"])
def test_relative_position_embeddings_match_hf(kind):
    config = base_config(num_hidden_layers=3, position_embedding_type=kind, vocab_size=500)
    ours = albert_tf.AlbertModel(config)
    for name, variable in canonical_variables(ours).items():  # random distance tables, so the test sees them
        if name.endswith("distance_embedding.weight"):
            variable.assign(np.random.default_rng(0).normal(0, 0.5, variable.shape).astype("float32"))
    theirs = hf_model(config, Head.BASE, ours.canonical_state())
    inputs, _ = make_inputs(config, Head.BASE, padded=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs))
    assert_outputs_close(ours(inputs), out_theirs)


def test_head_mask_per_step_matches_hf_with_one_group_per_step():
    """Our head_mask row l masks step l. HF does that only when every step has its own group
    (HF picks the row by inner-layer index), so compare one shared group here against HF with
    L copies of that group: the same function, where HF's indexing is right."""
    layers, heads = 4, 12
    shared = base_config(num_hidden_layers=layers, vocab_size=500)
    ours = albert_tf.AlbertModel(shared)
    state = ours.canonical_state()
    for key in list(state):
        if ".albert_layer_groups.0." in key:
            for g in range(1, layers):
                state[key.replace(".albert_layer_groups.0.", f".albert_layer_groups.{g}.")] = state[key]
    theirs = hf_model(base_config(num_hidden_layers=layers, num_hidden_groups=layers, vocab_size=500), Head.BASE, state)
    head_mask = np.ones((layers, heads), "float32")
    head_mask[0, :3] = 0
    head_mask[2, 5] = 0
    head_mask[3, 7:] = 0.5
    inputs, _ = make_inputs(shared, Head.BASE, padded=True)
    out_ours = ours(inputs, head_mask=head_mask, output_attentions=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), head_mask=torch.from_numpy(head_mask), output_attentions=True)
    assert_outputs_close(out_ours, out_theirs)


def test_inputs_embeds_and_position_ids_match_hf(config):
    ours, theirs = pair(config, Head.BASE)
    inputs, _ = make_inputs(config, Head.BASE, padded=True)
    ids = inputs.pop("input_ids")
    embeds = tf.gather(ours.albert.embeddings.word_embeddings, ids).numpy()
    positions = np.broadcast_to(np.arange(SEQ)[::-1], (BATCH, SEQ)).copy()
    out_ours = ours({**inputs, "inputs_embeds": embeds, "position_ids": positions})
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), inputs_embeds=torch.from_numpy(embeds), position_ids=torch.from_numpy(positions))
    assert_outputs_close(out_ours, out_theirs)


def test_saved_folder_loads_in_hf_and_hf_bin_loads_here(tmp_path):
    small = base_config(num_hidden_layers=2, vocab_size=300)
    ours = albert_tf.AlbertForMaskedLM(small)
    ours.save_pretrained(tmp_path / "saved")
    theirs = transformers.AlbertForMaskedLM.from_pretrained(tmp_path / "saved", attn_implementation="eager").eval()
    inputs, _ = make_inputs(small, Head.MASKED_LM, padded=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs))
    assert_outputs_close(ours(inputs), out_theirs)

    theirs.save_pretrained(tmp_path / "hf_bin", safe_serialization=False)  # pytorch_model.bin
    assert (tmp_path / "hf_bin" / "pytorch_model.bin").exists()
    again = albert_tf.AlbertForMaskedLM.from_pretrained(tmp_path / "hf_bin")
    assert_outputs_close(again(inputs), out_theirs)
