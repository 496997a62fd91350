"""albert_core.chunking: when the XLA backends run the feed-forward block over chunks of tokens."""

import pytest

from albert_core.chunking import CPU_FFN_CHUNK_TOKENS, ffn_chunk_size


def test_a_loop_only_when_a_chunk_holds_fewer_tokens_than_the_batch():
    assert ffn_chunk_size(CPU_FFN_CHUNK_TOKENS, 4096) == CPU_FFN_CHUNK_TOKENS
    assert ffn_chunk_size(CPU_FFN_CHUNK_TOKENS, CPU_FFN_CHUNK_TOKENS) == 0  # one chunk would be all tokens: no loop
    assert ffn_chunk_size(5, 21) == 5
    assert ffn_chunk_size(0, 21) == 0
    assert ffn_chunk_size(21, 21) == 0


def test_a_negative_chunk_is_refused_with_its_value():
    with pytest.raises(ValueError, match="ffn_chunk_tokens must be >= 0.*-3"):
        ffn_chunk_size(-3, 21)
