"""Fuzzing the tokenizer's whole call surface: any text (surrogates and control characters
included), single or paired or batched, with any padding / truncation / max_length / tensor
options. Each call returns a consistent encoding or raises TokenizerError; nothing else.
Example counts: tests/robustness/fuzzing.py (60 in the normal run, 10,000 under `tox -e fuzz`).
"""

from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from albert_core.errors import TokenizerError
from tests.robustness.fuzzing import FUZZ, report

TEXT = (
    st.text(max_size=60)  # every code point, lone surrogates included
    | st.text(alphabet=st.sampled_from(list("ab1,2 \t\n\r\x00[MASK]<pad>[SEP]éﬁⅫ😀\u0301\ufe0f你\u200b")), max_size=40)
    | st.sampled_from(["", " ", "\t\n", "\u3000", "[MASK]", "``hi''"])
)
INPUTS = TEXT | st.lists(TEXT, max_size=3) | st.lists(st.tuples(TEXT, TEXT), max_size=3) | st.none() | st.integers() | st.binary(max_size=4)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "padding": st.sampled_from([True, False, "longest", "max_length", "do_not_pad", "bogus"]),
        "truncation": st.sampled_from([True, False, None, "longest_first", "only_first", "only_second", "bogus"]),
        "max_length": st.none() | st.integers(-2, 12) | st.just(2.5),
        "pad_to_multiple_of": st.none() | st.integers(-1, 5),
        "add_special_tokens": st.booleans(),
        "return_offsets_mapping": st.booleans(),
        "return_special_tokens_mask": st.booleans(),
        "return_tensors": st.sampled_from([None, "np", "xx"]),
    },
)


def test_tokenizer_call_surface(tokenizer):
    outcomes = Counter()

    @FUZZ
    @given(INPUTS, st.none() | TEXT | st.lists(TEXT, max_size=3), OPTIONS)
    def run(text, pair, options):
        try:
            encoding = tokenizer(text, pair, **options)
        except TokenizerError as exc:
            assert str(exc)
            outcomes["TokenizerError"] += 1
            return
        single = isinstance(text, str)
        tensors = options.get("return_tensors") == "np"

        def rows(key):  # [batch][position] lists, whatever the call's form
            value = encoding[key]
            if tensors:
                return [list(row) for row in np.asarray(value)]
            return [list(value)] if single else [list(row) for row in value]

        ids, masks = rows("input_ids"), rows("attention_mask")
        offsets = rows("offset_mapping") if options.get("return_offsets_mapping") and not tensors else None
        max_length = options.get("max_length")
        truncating = options.get("truncation") not in (None, False, "do_not_truncate")
        for k, row in enumerate(ids):
            assert all(0 <= i < tokenizer.vocab_size for i in row)
            assert len(masks[k]) == len(row)
            assert offsets is None or len(offsets[k]) == len(row)
            if isinstance(max_length, int) and truncating:
                assert sum(masks[k]) <= max_length
        outcomes["encoded"] += 1

    run()
    report("tokenizer call", outcomes)
