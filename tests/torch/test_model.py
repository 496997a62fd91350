"""albert_torch behaviour that needs no reference implementation: attention paths, padding,
sharing depth, head_mask, dropout, initialisation, tying, resizing, dtypes, checkpointing, meta build."""

import pytest
import torch

import albert_torch
from albert_core import AlbertConfig
from albert_core.schema import parameter_count, tensor_specs

ATOL = 1e-5
HEADS = list(albert_torch.MODEL_FOR_HEAD.values())


def small_config(**changes) -> AlbertConfig:
    base = dict(
        vocab_size=97, embedding_size=16, hidden_size=32, num_attention_heads=4, intermediate_size=37,
        num_hidden_layers=3, num_hidden_groups=2, inner_group_num=2, max_position_embeddings=40,
    )
    return AlbertConfig(**{**base, **changes})


def batch(config, seq=11, padded_from=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, config.vocab_size, (2, seq), generator=g)
    mask = torch.ones(2, seq, dtype=torch.long)
    mask[1, padded_from:] = 0
    ids[1, padded_from:] = config.pad_token_id
    return ids, mask


def model_inputs(cls, config, seed=0):
    ids, mask = batch(config, seed=seed)
    if cls is albert_torch.AlbertForMultipleChoice:
        ids, mask = torch.stack([ids, ids.flip(1)], 1), torch.stack([mask, mask], 1)
    return dict(input_ids=ids, attention_mask=mask)


def first_tensor(out):
    return out.to_tuple()[0]


@pytest.mark.parametrize("cls", HEADS, ids=lambda c: c.__name__)
def test_sdpa_and_eager_agree(cls):
    torch.manual_seed(0)
    model = cls(small_config(position_embedding_type="relative_key_query")).eval()
    inputs = model_inputs(cls, model.config)
    with torch.no_grad():
        sdpa = model(**inputs, output_hidden_states=True)
        model.set_attn_implementation("eager")
        eager = model(**inputs, output_hidden_states=True)
    for a, b in zip(sdpa.to_tuple(), eager.to_tuple()):
        a, b = (torch.stack(a), torch.stack(b)) if isinstance(a, tuple) else (a, b)
        assert (a - b).abs().max().item() <= ATOL


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_padding_does_not_change_unpadded_tokens(attn):
    torch.manual_seed(0)
    config = small_config()
    model = albert_torch.AlbertForTokenClassification(config, attn_implementation=attn).eval()
    ids, _ = batch(config, seq=7, padded_from=7)
    padded_ids = torch.cat([ids, torch.full((2, 5), 0)], dim=1)
    mask = torch.cat([torch.ones(2, 7, dtype=torch.long), torch.zeros(2, 5, dtype=torch.long)], dim=1)
    with torch.no_grad():
        short = model(input_ids=ids).logits
        long = model(input_ids=padded_ids, attention_mask=mask).logits
    assert (short - long[:, :7]).abs().max().item() <= ATOL


def test_depth_counts_and_attention_probabilities():
    config = small_config(num_hidden_layers=5, num_hidden_groups=2, inner_group_num=3)  # K > L/G
    model = albert_torch.AlbertModel(config).eval()  # sdpa default: attentions still real probabilities
    ids, mask = batch(config)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == 6 and len(out.attentions) == 15
    for probs in out.attentions:
        assert probs.shape == (2, 4, 11, 11)
        torch.testing.assert_close(probs.sum(-1), torch.ones(2, 4, 11))
        assert probs[1, :, :, 6:].abs().max().item() == 0.0  # padded keys get no attention
    assert torch.equal(out.hidden_states[-1], out.last_hidden_state)


def test_group_schedule_runs_group_int_l_times_g_over_l():
    config = small_config(num_hidden_layers=5, num_hidden_groups=2, inner_group_num=1)
    model = albert_torch.AlbertModel(config).eval()
    calls = []
    for g, group in enumerate(model.encoder.albert_layer_groups):
        group.register_forward_hook(lambda module, args, out, g=g: calls.append(g))
    ids, _ = batch(config)
    with torch.no_grad():
        model(input_ids=ids)
    assert calls == [config.group_of_layer(step) for step in range(5)] == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_head_mask_row_l_masks_step_l(attn):
    """With one shared layer, masking heads at step l only must equal running the steps by hand
    with that mask at step l; a [heads] mask applies at every step."""
    config = small_config(num_hidden_layers=3, num_hidden_groups=1, inner_group_num=2)
    model = albert_torch.AlbertModel(config, attn_implementation=attn).eval()
    ids, mask = batch(config)
    head_mask = torch.ones(3, 4)
    head_mask[1, 2] = 0.0
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, head_mask=head_mask, output_hidden_states=True)
        plain = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        # Step 0 is unmasked; step 1 differs.
        torch.testing.assert_close(out.hidden_states[1], plain.hidden_states[1])
        assert (out.hidden_states[2] - plain.hidden_states[2]).abs().max().item() > 1e-3
        # By hand: step 1 with the row, through both inner layers.
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        group = model.encoder.albert_layer_groups[0]
        by_hand, _ = group(out.hidden_states[1], bias, head_mask[1])
        torch.testing.assert_close(by_hand, out.hidden_states[2])
        same_everywhere = model(input_ids=ids, attention_mask=mask, head_mask=head_mask[1])
        rows = model(input_ids=ids, attention_mask=mask, head_mask=head_mask[1].expand(3, 4))
    torch.testing.assert_close(same_everywhere.last_hidden_state, rows.last_hidden_state)


def test_dropout_only_in_train_mode():
    config = small_config(hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.3)
    model = albert_torch.AlbertForSequenceClassification(config)
    ids, mask = batch(config)
    model.eval()
    with torch.no_grad():
        a, b = model(input_ids=ids, attention_mask=mask).logits, model(input_ids=ids, attention_mask=mask).logits
    assert torch.equal(a, b)
    model.train()
    torch.manual_seed(1)
    c = model(input_ids=ids, attention_mask=mask).logits
    assert (a - c).abs().max().item() > 1e-4


def test_initialisation_as_hf():
    torch.manual_seed(0)
    config = small_config(vocab_size=2000, hidden_size=64, intermediate_size=256)
    model = albert_torch.AlbertForMaskedLM(config)
    named = dict(model.named_parameters())
    words = named["albert.embeddings.word_embeddings.weight"]
    assert words[config.pad_token_id].abs().max().item() == 0.0
    assert abs(words[1:].std().item() - config.initializer_range) < 1e-3
    assert abs(named["albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"].std().item() - 0.02) < 1e-3
    assert torch.equal(named["albert.embeddings.LayerNorm.weight"], torch.ones(16))
    assert torch.equal(named["albert.encoder.albert_layer_groups.1.albert_layers.1.ffn.bias"], torch.zeros(256))
    assert torch.equal(named["predictions.bias"], torch.zeros(2000))


def test_parameter_count_matches_schema():
    for cls in HEADS:
        config = small_config(num_labels=2)
        assert cls(config).num_parameters() == parameter_count(config, cls.head), cls.__name__


def test_mlm_decoder_is_tied_and_untied_on_request():
    tied = albert_torch.AlbertForPreTraining(small_config())
    assert tied.predictions.decoder.weight is tied.albert.embeddings.word_embeddings.weight
    assert tied.predictions.decoder.bias is tied.predictions.bias
    untied = albert_torch.AlbertForMaskedLM(small_config(tie_word_embeddings=False))
    assert untied.predictions.decoder.weight is not untied.albert.embeddings.word_embeddings.weight
    assert "predictions.decoder.weight" in untied.canonical_state()


def test_pad_row_gets_no_gradient():
    # Untied, so the decoder's output-side gradient does not land on the embedding rows.
    config = small_config(tie_word_embeddings=False)
    model = albert_torch.AlbertForMaskedLM(config)
    ids, mask = batch(config)  # row 1 holds pad tokens
    model(input_ids=ids, attention_mask=mask, labels=ids).loss.backward()
    grad = model.get_input_embeddings().weight.grad
    assert grad[config.pad_token_id].abs().max().item() == 0.0
    assert grad[ids[0, 0]].abs().max().item() > 0


def test_resize_token_embeddings_keeps_rows_and_ties():
    torch.manual_seed(0)
    config = small_config()
    model = albert_torch.AlbertForMaskedLM(config).eval()
    ids, mask = batch(config)
    with torch.no_grad():
        before = model(input_ids=ids, attention_mask=mask).logits
    old_rows = model.get_input_embeddings().weight.detach().clone()
    model.resize_token_embeddings(120)
    assert model.config.vocab_size == 120
    assert torch.equal(model.get_input_embeddings().weight[:97], old_rows)
    assert model.predictions.decoder.weight is model.get_input_embeddings().weight
    assert model.predictions.decoder.bias is model.predictions.bias and model.predictions.bias.shape == (120,)
    with torch.no_grad():
        after = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(after[..., :97], before)
    model.resize_token_embeddings(50)
    assert model.get_input_embeddings().weight.shape == (50, 16)
    with pytest.raises(ValueError, match="pad_token_id"):
        albert_torch.AlbertModel(small_config(pad_token_id=10)).resize_token_embeddings(5)


@pytest.mark.parametrize("cls", [albert_torch.AlbertForPreTraining, albert_torch.AlbertForMultipleChoice], ids=lambda c: c.__name__)
def test_gradient_checkpointing_gives_the_same_gradients(cls):
    torch.manual_seed(0)
    config = small_config(classifier_dropout_prob=0.0)
    model = cls(config).train()  # every dropout is 0: both runs are deterministic
    inputs = model_inputs(cls, config)
    labels = {"labels": torch.tensor([1, 0])}
    if cls is albert_torch.AlbertForPreTraining:
        labels = {"labels": inputs["input_ids"], "sentence_order_label": torch.tensor([1, 0])}
    model(**inputs, **labels).loss.backward()
    plain = {k: p.grad.clone() for k, p in model.named_parameters()}
    model.zero_grad()
    model.gradient_checkpointing_enable()
    assert model.is_gradient_checkpointing
    model(**inputs, **labels).loss.backward()
    for k, p in model.named_parameters():
        torch.testing.assert_close(p.grad, plain[k], msg=k)


def test_canonical_state_round_trip_into_meta_model():
    torch.manual_seed(0)
    config = small_config()
    model = albert_torch.AlbertForPreTraining(config).eval()
    state = model.canonical_state()
    assert list(state) == [s.name for s in tensor_specs(config, "pretraining")]
    with torch.device("meta"):
        empty = albert_torch.AlbertForPreTraining(config)
    assert empty.device.type == "meta"
    tied_dropped = {k: v for k, v in state.items() if k != "predictions.decoder.weight"}
    empty.load_canonical_state(tied_dropped)
    assert empty.predictions.decoder.weight is empty.albert.embeddings.word_embeddings.weight
    inputs = model_inputs(albert_torch.AlbertForPreTraining, config)
    with torch.no_grad():
        torch.testing.assert_close(empty.eval()(**inputs).prediction_logits, model(**inputs).prediction_logits)


def test_load_reports_every_missing_and_misshapen_tensor_by_name():
    config = small_config()
    model = albert_torch.AlbertForSequenceClassification(config)
    state = model.canonical_state()
    del state["classifier.bias"]
    state["albert.pooler.weight"] = state["albert.pooler.weight"][:3]
    with pytest.raises(ValueError, match=r"albert\.pooler\.weight has shape \[3, 32\], expected \[32, 32\]; missing classifier\.bias"):
        model.load_canonical_state(state)


@pytest.mark.parametrize("dtype, atol", [(torch.bfloat16, 0.015), (torch.float16, 0.0025)])
def test_half_precision_load_is_close_to_fp32(dtype, atol):
    """bf16 keeps 8 mantissa bits, fp16 11: measured max |Δ| on these logits (|logit| < 0.5) is
    0.0030 (bf16) and 0.00049 (fp16); the bounds are 5× that."""
    torch.manual_seed(0)
    config = small_config()
    model = albert_torch.AlbertForMaskedLM(config).eval()
    ids, mask = batch(config)
    half = albert_torch.AlbertForMaskedLM(config)
    half.load_canonical_state(model.canonical_state(), dtype=str(dtype).removeprefix("torch."))
    assert half.dtype == dtype
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask).logits
        got = half.eval()(input_ids=ids, attention_mask=mask).logits
    assert got.dtype == dtype
    assert (got.float() - ref).abs().max().item() <= atol
    # numpy has no bfloat16: the canonical state widens it to float32 losslessly.
    assert half.canonical_state()["predictions.bias"].dtype.name == ("float32" if dtype == torch.bfloat16 else "float16")


@pytest.mark.parametrize("cls", HEADS, ids=lambda c: c.__name__)
def test_return_dict_false_gives_hf_tuple_order(cls):
    torch.manual_seed(0)
    model = cls(small_config()).eval()
    inputs = model_inputs(cls, model.config)
    with torch.no_grad():
        named = model(**inputs, output_hidden_states=True)
        plain = model(**inputs, output_hidden_states=True, return_dict=False)
    assert isinstance(plain, tuple) and len(plain) == len(named.to_tuple())
    first_field = {"AlbertModel": "last_hidden_state", "AlbertForPreTraining": "prediction_logits", "AlbertForQuestionAnswering": "start_logits"}
    assert torch.equal(plain[0], getattr(named, first_field.get(cls.__name__, "logits")))
    assert torch.equal(named[0], plain[0]) and named["hidden_states"] is named.hidden_states


def test_bf16_autocast_is_close_to_fp32():
    """CPU autocast runs the matmuls in bf16 with fp32 weights; measured max |Δ| on these logits
    (|logit| < 0.5) is ≈ 3e-3, the bound is 5× that."""
    torch.manual_seed(0)
    config = small_config()
    model = albert_torch.AlbertForMaskedLM(config).eval()
    ids, mask = batch(config)
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask).logits
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = model(input_ids=ids, attention_mask=mask).logits
    assert got.dtype == torch.bfloat16
    assert (got.float() - ref).abs().max().item() <= 0.015
