"""Property tests: any unicode text encodes, offsets stay inside it and in order, decode settles."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Text drawn from every unicode category (surrogates excluded: a Python str holding one cannot be
# UTF-8 encoded, and the tokenizer rejects it with TokenizerError, tested separately).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | st.text(
    alphabet=st.sampled_from(list("ab1,2 \t\n[MASK]<unk>éﬁⅫ😀\u0301\ufe0f你")), max_size=60
)


# derandomize: CI replays the same examples every run; random exploration is the fuzz env's job.
@settings(max_examples=1000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_encode_offsets_and_decode(tokenizer, text):
    enc = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    assert ids == tokenizer(text)["input_ids"]  # the offsets path gives the same ids
    assert len(offsets) == len(ids)
    assert all(0 <= i < tokenizer.vocab_size for i in ids)
    previous = (0, 0)
    for (start, end), special in zip(offsets, enc["special_tokens_mask"]):
        if special:
            assert (start, end) == (0, 0)
            continue
        assert 0 <= start <= end <= len(text)
        assert start >= previous[0] and end >= previous[1], (offsets, text)
        previous = (start, end)
    once = tokenizer.decode(ids, skip_special_tokens=True)
    twice = tokenizer.decode(tokenizer(once)["input_ids"], skip_special_tokens=True)
    assert tokenizer.decode(tokenizer(twice)["input_ids"], skip_special_tokens=True) == twice
    assert twice == tokenizer.decode(tokenizer(once)["input_ids"], skip_special_tokens=True)
