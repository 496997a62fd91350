"""Bad input gives a ValueError with the numbers, before any kernel runs (no IndexError, no device assert)."""

import pytest
import torch

import albert_torch
from albert_core import AlbertConfig


@pytest.fixture(scope="module")
def config():
    return AlbertConfig(
        vocab_size=50, embedding_size=8, hidden_size=16, num_attention_heads=2, intermediate_size=20,
        num_hidden_layers=2, max_position_embeddings=12, num_labels=3,
    )


def ids(*shape, high=50):
    return torch.randint(1, high, shape)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_ids=torch.tensor([[1, 2, 50]])), r"input_ids contain 50, outside the vocabulary \[0, 50\)"),
        (dict(input_ids=torch.tensor([[1, -1, 3]])), r"input_ids contain -1"),
        (dict(input_ids=ids(2, 13)), r"sequence length 13 exceeds max_position_embeddings \(12\)"),
        (dict(input_ids=ids(2, 5), attention_mask=torch.ones(2, 4)), r"attention_mask has shape \[2, 4\] but the input has shape \[2, 5\]"),
        (dict(input_ids=ids(2, 5), token_type_ids=torch.zeros(3, 5, dtype=torch.long)), r"token_type_ids has shape \[3, 5\]"),
        (dict(input_ids=ids(2, 5), token_type_ids=torch.full((2, 5), 2)), r"token_type_ids must lie in \[0, 2\), got \[2, 2\]"),
        (dict(input_ids=ids(2, 5), position_ids=torch.full((2, 5), 12)), r"position_ids must lie in \[0, 12\)"),
        (dict(input_ids=ids(5)), r"input_ids must have shape \[batch, seq\], got \[5\]"),
        (dict(input_ids=ids(2, 5), inputs_embeds=torch.zeros(2, 5, 8)), r"exactly one of input_ids and inputs_embeds"),
        (dict(inputs_embeds=torch.zeros(2, 5, 7)), r"embedding_size=8"),
        (dict(input_ids=ids(2, 5), head_mask=torch.ones(3)), r"head_mask must have shape \[2\] or \[num_hidden_layers=2, 2\]"),
        (dict(input_ids=torch.zeros(2, 0, dtype=torch.long)), r"empty input"),
    ],
)
def test_bad_encoder_inputs(config, kwargs, message):
    model = albert_torch.AlbertModel(config).eval()
    with pytest.raises(ValueError, match=message):
        model(**kwargs)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (albert_torch.AlbertForMaskedLM, dict(labels=torch.full((2, 5), 50)), r"labels for masked_lm must lie in \[0, 50\), got \[50, 50\]"),
        (albert_torch.AlbertForMaskedLM, dict(labels=torch.zeros(2, 4, dtype=torch.long)), r"labels for masked_lm must have shape \[2, 5\], got \[2, 4\]"),
        (albert_torch.AlbertForPreTraining, dict(sentence_order_label=torch.tensor([0, 2])), r"sentence_order must lie in \[0, 2\)"),
        (albert_torch.AlbertForSequenceClassification, dict(labels=torch.tensor([0, 3])), r"must lie in \[0, 3\), got \[0, 3\]"),
        (albert_torch.AlbertForSequenceClassification, dict(labels=torch.tensor([0, 1, 2])), r"must have shape \[2\], got \[3\]"),
        (albert_torch.AlbertForTokenClassification, dict(labels=torch.full((2, 5), 3)), r"token_classification must lie in \[0, 3\)"),
        (albert_torch.AlbertForQuestionAnswering, dict(start_positions=torch.tensor([1, 2, 3]), end_positions=torch.tensor([1, 2])), r"start_positions must have shape \[2\]"),
        (albert_torch.AlbertForQuestionAnswering, dict(start_positions=torch.tensor([1, 2])), r"both start_positions and end_positions"),
    ],
)
def test_bad_labels(config, cls, kwargs, message):
    config = config.replace(num_labels=2) if cls is albert_torch.AlbertForQuestionAnswering else config
    model = cls(config).eval()
    with pytest.raises(ValueError, match=message):
        model(input_ids=ids(2, 5), **kwargs)


def test_multiple_choice_checks(config):
    model = albert_torch.AlbertForMultipleChoice(config).eval()
    with pytest.raises(ValueError, match=r"input_ids must have shape \[batch, choices, seq\], got \[2, 5\]"):
        model(input_ids=ids(2, 5))
    with pytest.raises(ValueError, match=r"labels for multiple_choice must lie in \[0, 4\), got \[0, 4\]"):
        model(input_ids=ids(2, 4, 5), labels=torch.tensor([0, 4]))


def test_question_answering_needs_two_labels(config):
    with pytest.raises(ValueError, match="num_labels = 2"):
        albert_torch.AlbertForQuestionAnswering(config)


def test_unknown_attention_implementation(config):
    with pytest.raises(ValueError, match="attn_implementation must be one of"):
        albert_torch.AlbertModel(config, attn_implementation="flash")


def test_out_of_range_span_positions_are_ignored_as_hf(config):
    """A start/end outside the window is clamped to seq and ignored: the loss of the other row only."""
    torch.manual_seed(0)
    model = albert_torch.AlbertForQuestionAnswering(config.replace(num_labels=2)).eval()
    x = ids(2, 5)
    both = model(input_ids=x, start_positions=torch.tensor([1, 99]), end_positions=torch.tensor([2, 99])).loss
    first = model(input_ids=x[:1], start_positions=torch.tensor([1]), end_positions=torch.tensor([2])).loss
    torch.testing.assert_close(both, first)
