"""albert_flax against HF transformers' PyTorch ALBERT (the live reference), DESIGN.md section 5.

albert-base shape (12 layers, H 768, E 128, vocab 30000), random weights, batch 2, seq 64, fp32,
every head, with and without padding: hidden states and logits within 1e-5, losses within 1e-5
relative, gradients (jax.grad) within 1e-4 × max(the tensor's max |grad|, the model's max |grad|).
JAX runs at the highest matmul precision (TF32 would otherwise be used on recent GPUs).
"""

import os

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_FLAX", "0")

import jax
import numpy as np
import pytest
import torch
import transformers

import albert_flax
from albert_core import AlbertConfig
from albert_core.presets import preset_config
from albert_core.schema import Head, Kind, tensor_specs
from albert_flax.params import param_specs, params_to_canonical

jax.config.update("jax_default_matmul_precision", "highest")

ATOL = 1e-5
LOSS_RTOL = 1e-5
GRAD_RTOL = 1e-4
BATCH, SEQ = 2, 64

HEADS = {
    "AlbertModel": Head.BASE,
    "AlbertForPreTraining": Head.PRETRAINING,
    "AlbertForMaskedLM": Head.MASKED_LM,
    "AlbertForSequenceClassification": Head.SEQUENCE_CLASSIFICATION,
    "AlbertForMultipleChoice": Head.MULTIPLE_CHOICE,
    "AlbertForTokenClassification": Head.TOKEN_CLASSIFICATION,
    "AlbertForQuestionAnswering": Head.QUESTION_ANSWERING,
}


def base_config(**changes) -> AlbertConfig:
    return preset_config("albert-base-v2").replace(**changes)


def random_state(config: AlbertConfig, head: Head, seed: int = 0) -> dict[str, np.ndarray]:
    """Every tensor random (biases and LayerNorm too, so a mislaid one shows), tied ones tied."""
    rng = np.random.default_rng(seed)
    state = {}
    for spec in tensor_specs(config, head):
        if spec.tied_to is None:
            centre = 1.0 if spec.kind is Kind.NORM_SCALE else 0.0
            state[spec.name] = (centre + rng.normal(0.0, 0.02, spec.shape)).astype(np.float32)
    for spec in tensor_specs(config, head):
        if spec.tied_to is not None:
            state[spec.name] = state[spec.tied_to]
    return state


def pair(name: str, config: AlbertConfig, seed: int = 0):
    """Our model and HF's (eager attention, eval mode) holding the same random weights."""
    head = HEADS[name]
    state = random_state(config, head, seed)
    ours = getattr(albert_flax, name)(config, _do_init=False)
    ours.load_canonical_state(state)
    theirs = getattr(transformers, name)(transformers.AlbertConfig(**config.to_dict(), attn_implementation="eager"))
    prefix = "albert." if head is Head.BASE else ""
    theirs.load_state_dict({k[len(prefix):]: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    return ours, theirs.eval()


def make_inputs(config: AlbertConfig, name: str, padded: bool, seed: int = 1):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, config.vocab_size, (BATCH, SEQ))
    mask = np.ones((BATCH, SEQ), np.int64)
    if padded:  # the pad token in the padded tail: its embedding row must get no gradient
        mask[1, SEQ - 23:] = 0
        ids[1, SEQ - 23:] = config.pad_token_id
    types = np.zeros((BATCH, SEQ), np.int64)
    types[:, SEQ // 2:] = 1
    inputs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types)
    labels = {}
    if name in ("AlbertForPreTraining", "AlbertForMaskedLM"):
        mlm = np.full((BATCH, SEQ), -100)
        mlm[:, ::5] = ids[:, ::5]
        labels["labels"] = mlm
        if name == "AlbertForPreTraining":
            labels["sentence_order_label"] = np.array([0, 1])
    elif name == "AlbertForSequenceClassification":
        labels["labels"] = np.array([1, 0])
    elif name == "AlbertForTokenClassification":
        tags = rng.integers(0, config.num_labels, (BATCH, SEQ))
        tags[mask == 0] = -100
        labels["labels"] = tags
    elif name == "AlbertForQuestionAnswering":
        labels = dict(start_positions=np.array([3, 70]), end_positions=np.array([9, 80]))  # 70, 80: clamped, ignored
    elif name == "AlbertForMultipleChoice":
        inputs = {k: np.stack([v, np.roll(v, 1, axis=1)], axis=1) for k, v in inputs.items()}
        inputs["input_ids"][:, 1, 0] = 7
        labels["labels"] = np.array([1, 0])
    return inputs, labels


def torch_inputs(arrays: dict) -> dict:
    return {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}


def output_arrays(out) -> dict[str, np.ndarray]:
    """The named arrays of an output (ours or HF's), hidden states and attentions flattened."""
    found = {}
    for key in ("last_hidden_state", "pooler_output", "logits", "prediction_logits", "sop_logits", "start_logits", "end_logits"):
        value = getattr(out, key, None)
        if value is not None:
            found[key] = value
    for key in ("hidden_states", "attentions"):
        for i, value in enumerate(getattr(out, key, None) or ()):
            found[f"{key}[{i}]"] = value
    return {k: v.detach().numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for k, v in found.items()}


def assert_outputs_close(ours, theirs, atol=ATOL):
    a, b = output_arrays(ours), output_arrays(theirs)
    assert a.keys() == b.keys()
    for key in a:
        delta = np.abs(a[key] - b[key]).max()
        assert delta <= atol, f"{key}: max |Δ| {delta:.3g} > {atol}"


def base_model_objective(out):
    """A fixed scalar of AlbertModel's outputs to backpropagate (it has no loss)."""
    return (out.last_hidden_state**2).mean() + out.pooler_output.sum()


@pytest.fixture(scope="module")
def config():
    return base_config()


@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
@pytest.mark.parametrize("name", HEADS)
def test_forward_loss_and_gradients_match_hf(config, name, padded):
    ours, theirs = pair(name, config)
    inputs, labels = make_inputs(config, name, padded)
    out_ours = ours(**inputs, **labels, output_hidden_states=True)
    out_theirs = theirs(**torch_inputs(inputs), **torch_inputs(labels), output_hidden_states=True)
    assert_outputs_close(out_ours, out_theirs)

    def objective(params):
        out = ours.apply(params, **inputs, **labels)
        return base_model_objective(out) if not labels else out.loss

    loss_ours, grads = jax.jit(jax.value_and_grad(objective))(ours.params)
    loss_theirs = base_model_objective(out_theirs) if not labels else out_theirs.loss
    assert float(loss_ours) == pytest.approx(loss_theirs.item(), rel=LOSS_RTOL)
    loss_theirs.backward()

    head = HEADS[name]
    prefix = "albert." if head is Head.BASE else ""
    theirs_grads = {prefix + k: p.grad.numpy() for k, p in theirs.named_parameters()}
    ours_grads = params_to_canonical(grads, config, head)
    names = [spec.name for spec in param_specs(config, head)]
    assert set(names) <= set(theirs_grads)
    model_max = max(np.abs(theirs_grads[n]).max() for n in names)
    for n in names:
        bound = GRAD_RTOL * max(np.abs(theirs_grads[n]).max(), model_max)
        delta = np.abs(ours_grads[n] - theirs_grads[n]).max()
        assert delta <= bound, f"grad of {n}: max |Δ| {delta:.3g} > {bound:.3g}"
    if padded and head not in (Head.PRETRAINING, Head.MASKED_LM):  # (a tied decoder trains the row)
        assert not ours_grads["albert.embeddings.word_embeddings.weight"][config.pad_token_id].any()


@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
def test_attentions_match_hf(config, padded):
    ours, theirs = pair("AlbertForMaskedLM", config)
    inputs, _ = make_inputs(config, "AlbertForMaskedLM", padded)
    out_ours = ours(**inputs, output_attentions=True, output_hidden_states=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), output_attentions=True, output_hidden_states=True)
    assert len(out_ours.attentions) == config.num_hidden_layers
    assert_outputs_close(out_ours, out_theirs)


@pytest.mark.parametrize("problem_type, num_labels", [("regression", 1), ("multi_label_classification", 3)])
def test_sequence_classification_problem_types_match_hf(problem_type, num_labels):
    config = base_config(num_hidden_layers=2, problem_type=problem_type, num_labels=num_labels)
    ours, theirs = pair("AlbertForSequenceClassification", config)
    inputs, _ = make_inputs(config, "AlbertModel", padded=True)
    if problem_type == "regression":
        labels = np.array([0.5, -1.5], np.float32)
    else:
        labels = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], np.float32)
    out_ours = ours(**inputs, labels=labels)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), labels=torch.from_numpy(labels))
    assert_outputs_close(out_ours, out_theirs)
    assert float(out_ours.loss) == pytest.approx(out_theirs.loss.item(), rel=LOSS_RTOL)


def test_sharing_groups_and_inner_layers_match_hf():
    # 5 steps over 2 groups of 2 inner layers: HF's int(l·G/L) schedule, L·K attention maps.
    config = base_config(num_hidden_layers=5, num_hidden_groups=2, inner_group_num=2, vocab_size=500)
    ours, theirs = pair("AlbertForPreTraining", config)
    inputs, labels = make_inputs(config, "AlbertForPreTraining", padded=True)
    out_ours = ours(**inputs, **labels, output_attentions=True, output_hidden_states=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), **torch_inputs(labels), output_attentions=True, output_hidden_states=True)
    assert len(out_ours.hidden_states) == 6 and len(out_ours.attentions) == 10
    assert_outputs_close(out_ours, out_theirs)
    assert float(out_ours.loss) == pytest.approx(out_theirs.loss.item(), rel=LOSS_RTOL)


@pytest.mark.parametrize("kind", ["relative_key", "relative_key_query"])
def test_relative_position_embeddings_match_hf(kind):
    config = base_config(num_hidden_layers=3, position_embedding_type=kind, vocab_size=500)
    ours, theirs = pair("AlbertModel", config)  # random_state gives the distance tables random values
    inputs, _ = make_inputs(config, "AlbertModel", padded=True)
    with torch.no_grad():
        assert_outputs_close(ours(**inputs, output_attentions=True), theirs(**torch_inputs(inputs), output_attentions=True))


def test_head_mask_per_step_matches_hf_with_one_group_per_step():
    """Our head_mask row l masks step l. HF does that only when every step has its own group (it
    picks the row by inner-layer index), so compare one shared group against HF holding L copies
    of it: the same function, where HF's indexing is right."""
    layers, heads = 4, 12
    shared = base_config(num_hidden_layers=layers, vocab_size=500)
    ours, _ = pair("AlbertModel", shared)
    unshared = base_config(num_hidden_layers=layers, num_hidden_groups=layers, vocab_size=500)
    theirs = transformers.AlbertModel(transformers.AlbertConfig(**unshared.to_dict(), attn_implementation="eager")).eval()
    state = {k[len("albert."):]: torch.from_numpy(np.array(v)) for k, v in ours.canonical_state().items()}
    for key in list(state):
        if ".albert_layer_groups.0." in key:
            for g in range(1, layers):
                state[key.replace(".albert_layer_groups.0.", f".albert_layer_groups.{g}.")] = state[key]
    theirs.load_state_dict(state)
    head_mask = np.ones((layers, heads), np.float32)
    head_mask[0, :3] = 0
    head_mask[2, 5] = 0
    head_mask[3, 7:] = 0.5
    inputs, _ = make_inputs(shared, "AlbertModel", padded=True)
    out_ours = ours(**inputs, head_mask=head_mask, output_attentions=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), head_mask=torch.from_numpy(head_mask), output_attentions=True)
    assert_outputs_close(out_ours, out_theirs)


def test_one_dimensional_head_mask_matches_hf():
    config = base_config(num_hidden_layers=3, vocab_size=500)
    ours, theirs = pair("AlbertModel", config)
    head_mask = np.ones(12, np.float32)
    head_mask[[1, 4]] = 0
    inputs, _ = make_inputs(config, "AlbertModel", padded=True)
    out_ours = ours(**inputs, head_mask=head_mask, output_attentions=True)
    with torch.no_grad():
        out_theirs = theirs(**torch_inputs(inputs), head_mask=torch.from_numpy(head_mask), output_attentions=True)
    assert_outputs_close(out_ours, out_theirs)


def test_inputs_embeds_and_position_ids_match_hf(config):
    ours, theirs = pair("AlbertModel", config)
    inputs, _ = make_inputs(config, "AlbertModel", padded=True)
    ids = inputs.pop("input_ids")
    embeds = ours.canonical_state()["albert.embeddings.word_embeddings.weight"][ids]
    positions = np.ascontiguousarray(np.broadcast_to(np.arange(SEQ)[::-1], (BATCH, SEQ)))
    out_ours = ours(inputs_embeds=embeds, position_ids=positions, **inputs)
    with torch.no_grad():
        out_theirs = theirs(
            inputs_embeds=torch.from_numpy(embeds), position_ids=torch.from_numpy(positions), **torch_inputs(inputs)
        )
    assert_outputs_close(out_ours, out_theirs)


def test_saved_folder_loads_in_hf(tmp_path):
    small = base_config(num_hidden_layers=2, vocab_size=300)
    ours, _ = pair("AlbertForMaskedLM", small)
    ours.save_pretrained(tmp_path / "saved")
    theirs = transformers.AlbertForMaskedLM.from_pretrained(tmp_path / "saved", attn_implementation="eager").eval()
    inputs, _ = make_inputs(small, "AlbertForMaskedLM", padded=True)
    with torch.no_grad():
        assert_outputs_close(ours(**inputs), theirs(**torch_inputs(inputs)))


@pytest.mark.parametrize("name", ["AlbertForMaskedLM", "AlbertForSequenceClassification", "AlbertModel"])
@pytest.mark.parametrize("safe_serialization", [True, False], ids=["safetensors", "bin"])
def test_hf_saved_folder_loads_here(tmp_path, name, safe_serialization):
    small = base_config(num_hidden_layers=2, vocab_size=300)
    torch.manual_seed(3)
    theirs = getattr(transformers, name)(transformers.AlbertConfig(**small.to_dict(), attn_implementation="eager")).eval()
    theirs.save_pretrained(tmp_path / "hf", safe_serialization=safe_serialization)
    ours = getattr(albert_flax, name).from_pretrained(tmp_path / "hf")
    inputs, _ = make_inputs(small, name, padded=True)
    with torch.no_grad():
        assert_outputs_close(ours(**inputs), theirs(**torch_inputs(inputs)))

