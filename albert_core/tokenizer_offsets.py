"""Where each token came from: character offsets into the original text (return_offsets_mapping).

The tokenizer prepares text (whitespace collapsing, quote folding, NFKD without marks, lower-casing)
before sentencepiece, whose own normaliser (nmt_nfkc) may change it again; an offset has to undo both.
Two ways, the same answers:

- aligned_preprocess + pieces_with_sources: exact for any text, one chunk at a time. They keep, for
  every prepared char, the index of its source char (per-char Python), and ask sentencepiece where
  each normalised char came from.
- one_char_alignment + piece_spans: the common case, many chunks at once in numpy. When preparing
  a chunk only collapses whitespace and turns every other char into one char (ASCII text with no
  `` or '' pair, and most other text: the caller checks each distinct char), and the pieces spell
  "▁" + the prepared text with "▁" for " " (sentencepiece changed nothing; the caller checks that
  too), a piece's span follows from the piece lengths and the whitespace runs alone.

The convention is HF's fast tokenizer's: a piece's "▁" is the whitespace before the word (the last
char of a run), the dummy prefix "▁" stands for the stripped leading whitespace, else the first char.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

SPIECE_UNDERLINE = "▁"


# ----------------------------------------------------------------------------------------------
# The exact path: one chunk at a time
# ----------------------------------------------------------------------------------------------
_WORD = re.compile(r"\S+")


def _collapsed_run_source(text: str, run_end: int) -> int:
    """The char a collapsed whitespace run ending at run_end is aligned with (HF fast's choice):
    its last char, except that a closing "\\r\\n" counts as one char, the "\\r"."""
    last = run_end - 1
    if text[last] == "\n" and last > 0 and text[last - 1] == "\r":
        return last - 1
    return last


def aligned_preprocess(text: str, do_lower_case: bool, remove_space: bool, keep_accents: bool):
    """preprocess_text(lower_each_char(text)) and, for each output char, the index of its source char.

    Every output char comes from exactly one char of `text`: an expansion (NFKD "ﬁ" -> "fi")
    repeats the source; a char that replaces several (a collapsed whitespace run, the quote that
    replaces ``) is aligned with the last of them, as HF's fast tokenizer aligns it.
    Also returns the source of sentencepiece's dummy prefix "▁": the stripped leading whitespace,
    else the first char HF fast keeps.
    """
    if remove_space and text.isascii() and "``" not in text and "''" not in text:
        return _aligned_preprocess_ascii(text, do_lower_case)
    chars = list(text)
    src = list(range(len(text)))
    if do_lower_case:
        new_chars, new_src = [], []
        for ch, i in zip(chars, src):
            low = ch.lower()
            new_chars.extend(low)
            new_src.extend([i] * len(low))
        chars, src = new_chars, new_src
    leading_space = None  # source of the leading whitespace that remove_space strips
    if remove_space:
        new_chars, new_src = [], []
        pending = None  # source of the current whitespace run
        prev_char = ""
        for ch, i in zip(chars, src):
            if ch.isspace():
                if not (ch == "\n" and pending is not None and prev_char == "\r"):
                    pending = i
                prev_char = ch
                continue
            prev_char = ch
            if pending is not None:
                if new_chars:
                    new_chars.append(" ")
                    new_src.append(pending)
                else:
                    leading_space = pending
                pending = None
            new_chars.append(ch)
            new_src.append(i)
        chars, src = new_chars, new_src
    for pattern in ("``", "''"):
        new_chars, new_src, k = [], [], 0
        while k < len(chars):
            if k + 1 < len(chars) and chars[k] + chars[k + 1] == pattern:
                new_chars.append('"')
                new_src.append(src[k + 1])
                k += 2
            else:
                new_chars.append(chars[k])
                new_src.append(src[k])
                k += 1
        chars, src = new_chars, new_src
    if not keep_accents:
        new_chars, new_src = [], []
        for ch, i in zip(chars, src):
            for part in unicodedata.normalize("NFKD", ch):
                if not unicodedata.combining(part):
                    new_chars.append(part)
                    new_src.append(i)
        chars, src = new_chars, new_src
    if do_lower_case:
        # Whole-string lower() (final sigma depends on context) with per-char lengths, which do not.
        whole = "".join(chars).lower()
        new_chars, new_src, pos = [], [], 0
        for ch, i in zip(chars, src):
            n = len(ch.lower())
            new_chars.extend(whole[pos : pos + n])
            new_src.extend([i] * n)
            pos += n
        chars, src = new_chars, new_src
    # A dropped mark can leave spaces side by side; sentencepiece collapses them, and HF fast aligns
    # the survivor with the last of the run, so every space of a run takes the last one's source.
    for k in range(len(chars) - 2, -1, -1):
        if chars[k] == " " and chars[k + 1] == " ":
            src[k] = src[k + 1]
    # Without leading whitespace the dummy "▁" aligns with the first char HF fast keeps (it strips
    # nonspacing marks such as U+FE0F when keep_accents=False).
    visible = [i for ch, i in zip(chars, src) if keep_accents or unicodedata.category(ch) != "Mn"]
    dummy = leading_space if leading_space is not None else (visible or src or [0])[0]
    if chars and chars[0].isspace():  # a mark dropped after collapsing left a space in front
        dummy = src[0]
    return "".join(chars), src, dummy


def _aligned_preprocess_ascii(text: str, do_lower_case: bool):
    """The common case (ASCII, no quote pairs): only whitespace collapsing moves chars."""
    words = list(_WORD.finditer(text))
    if not words:
        return "", [], 0
    src: list[int] = []
    previous_end = None
    for match in words:
        start, end = match.span()
        if previous_end is not None:
            src.append(_collapsed_run_source(text, start))
        src.extend(range(start, end))
        previous_end = end
    first = words[0].start()
    dummy = _collapsed_run_source(text, first) if first > 0 else first
    out = " ".join(m.group(0) for m in words)
    return (out.lower() if do_lower_case else out), src, dummy


def pieces_with_sources(sp, text: str, src: list[int], dummy: int, strip_marks: bool):
    """(id, piece, (begin, end) in the original text) for each piece sentencepiece cuts `text` into.

    `text` is the prepared chunk and src[k] the original index of its char k. sentencepiece's
    normaliser (nmt_nfkc) may expand one char into several ("Ⅻ" -> "xii") or fuse several;
    `normalize(with_offsets=True)` says where each normalised char came from, and the pieces tile
    the normalised text, so every piece spans exactly its source chars (an expanded char in every
    piece it feeds, a fused one at its first char: HF fast's alignment). The dummy-prefix "▁"
    stands for `dummy`. With strip_marks, nonspacing marks (which HF fast strips) span nothing.
    """
    try:  # sentencepiece >= 0.2.2: ids and pieces in one call
        encoded = sp.encode(text, return_type="offset_mapping")
        ids, pieces = encoded["ids"], encoded["pieces"]
    except (TypeError, ValueError):
        ids, pieces = sp.encode(text, out_type=int), sp.encode(text, out_type=str)
    try:
        normalized, starts = sp.normalize(text, with_offsets=True)
    except TypeError:  # sentencepiece < 0.2.1 has no normalize offsets
        normalized, starts = None, None
    if normalized is None or sum(len(p) for p in pieces) != len(normalized):
        return _pieces_with_sources_from_spans(sp, text, src, dummy, ids, pieces)
    n = len(normalized)
    if n == 0:
        return []
    source = np.minimum(np.asarray(starts[:n], dtype=np.int64), max(len(text) - 1, 0))
    original = np.asarray(src, dtype=np.int64)[source] if src else np.zeros(n, dtype=np.int64)
    valid = np.asarray(starts[:n]) < len(text)
    if normalized[0] == SPIECE_UNDERLINE:
        valid[0] = False  # the dummy prefix (or the leading space it replaces): stands for `dummy`
    if strip_marks and not text.isascii():
        is_mark = np.array([unicodedata.category(text[k]) == "Mn" for k in source]) & valid
    else:
        is_mark = np.zeros(n, dtype=bool)
    bounds = np.cumsum([0] + [len(p) for p in pieces[:-1]])
    big = np.iinfo(np.int64).max

    def reduce(mask):
        lo = np.minimum.reduceat(np.where(mask, original, big), bounds)
        hi = np.maximum.reduceat(np.where(mask, original + 1, -1), bounds)
        return lo, hi

    lo, hi = reduce(valid & ~is_mark)
    lo_all, hi_all = reduce(valid)
    out = []
    for k, (piece_id, piece) in enumerate(zip(ids, pieces)):
        a, b = (int(lo[k]), int(hi[k])) if hi[k] >= 0 else (int(lo_all[k]), int(hi_all[k]))
        if b < 0:
            a, b = dummy, dummy + 1
        if k == 0 and piece.startswith(SPIECE_UNDERLINE):
            a, b = min(a, dummy), max(b, dummy + 1)
        out.append((piece_id, piece, (a, b)))
    return out


def _pieces_with_sources_from_spans(sp, text, src, dummy, ids, pieces):
    """Older sentencepiece: its byte spans per piece, mapped to chars, then to the original text."""
    result = sp.encode(text, out_type="immutable_proto")
    byte_to_char = np.repeat(np.arange(len(text) + 1), [len(ch.encode()) for ch in text] + [1])
    out = []
    for k, (piece_id, piece, p) in enumerate(zip(ids, pieces, result.pieces)):
        chars = range(int(byte_to_char[p.begin]), int(byte_to_char[p.end]))
        a, b = (min(src[c] for c in chars), max(src[c] for c in chars) + 1) if len(chars) else (dummy, dummy + 1)
        if k == 0 and piece.startswith(SPIECE_UNDERLINE):
            a, b = min(a, dummy), max(b, dummy + 1)
        out.append((piece_id, piece, (a, b)))
    return out


# ----------------------------------------------------------------------------------------------
# The vectorised path: many chunks at once
# ----------------------------------------------------------------------------------------------
# Which code points str.isspace() (and so str.split(), which preprocessing collapses with) calls
# whitespace; the last is U+3000, and the entry after it stands for every code point above.
_LAST_SPACE = 0x3000
_SPACE = np.array([chr(code).isspace() for code in range(_LAST_SPACE + 1)] + [False])


def one_char_alignment(chunks: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """aligned_preprocess's sources for many chunks at once, without per-char Python.

    Each chunk holds a non-whitespace char, and preparing it only collapses whitespace
    (" ".join(chunk.split())) and turns each other char into one char. The chunks are laid end to
    end, and so are their prepared forms. Returns (src, dummy, begins): src[k] is the position,
    among the joined chunks, of the source of char k of the joined prepared forms; dummy[i] that of
    chunk i's dummy prefix; begins[i] where chunk i starts. A kept char is its own source; the space
    that replaces a whitespace run between words comes from the run's last char (of a closing
    "\\r\\n", the "\\r"), and so does the dummy prefix of a chunk that starts with whitespace.
    """
    codes = np.frombuffer("".join(chunks).encode("utf-32-le"), dtype=np.uint32)
    sizes = np.fromiter(map(len, chunks), dtype=np.int64, count=len(chunks))
    begins = np.cumsum(sizes) - sizes
    space = _SPACE[np.minimum(codes, _LAST_SPACE + 1)]
    first = np.zeros(len(codes), dtype=bool)
    first[begins] = True
    last = np.zeros(len(codes), dtype=bool)
    last[begins + sizes - 1] = True
    # A whitespace run never crosses into the next chunk.
    space_before = np.concatenate(([False], space[:-1])) & ~first
    space_after = np.concatenate((space[1:], [False])) & ~last
    run_start = np.flatnonzero(space & ~space_before)
    run_end = np.flatnonzero(space & ~space_after)
    crlf = (codes[run_end] == ord("\n")) & (run_end > run_start) & (codes[run_end - 1] == ord("\r"))
    run_source = run_end - crlf
    keep = ~space
    between_words = ~first[run_start] & ~last[run_end]
    keep[run_source[between_words]] = True
    src = np.flatnonzero(keep)
    dummy = begins.copy()
    leading = first[run_start]
    dummy[np.searchsorted(begins, run_start[leading])] = run_source[leading]
    return src, dummy, begins


def piece_spans(
    lengths: np.ndarray, counts: np.ndarray, prepared_sizes: np.ndarray, src: np.ndarray, dummy: np.ndarray, shift: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(begins, ends) of every piece of many chunks that sentencepiece normalised to "▁" + the
    prepared text with "▁" for " " (the caller checked that the pieces spell exactly that).

    lengths: each piece's length in chars, chunk after chunk; counts: pieces per chunk (each >= 1);
    prepared_sizes: chars per prepared chunk; src, dummy: from one_char_alignment; shift: per
    chunk, what turns a position among the joined chunks into one in the chunk's own text.
    A piece's normalised chars [a, b) are prepared chars [max(a - 1, 0), b - 1) (normalised char 0
    is the dummy prefix), and sources only grow, so it spans from the source of its first char to
    the source of its last plus one. A piece that is only the dummy prefix spans the dummy's char,
    and each chunk's first piece takes the dummy's char in: pieces_with_sources' rules.
    """
    first = np.cumsum(counts) - counts
    ends = np.cumsum(lengths)
    end = ends - np.repeat((ends - lengths)[first], counts) - 1  # exclusive, in the prepared chunk
    begin = np.maximum(end - lengths, 0)
    offset = np.repeat(np.cumsum(prepared_sizes) - prepared_sizes, counts)
    top = len(src) - 1
    lo = src[np.minimum(begin + offset, top)]
    hi = src[np.clip(end - 1 + offset, 0, top)] + 1
    piece_dummy = np.repeat(dummy, counts)
    empty = end <= begin
    lo = np.where(empty, piece_dummy, lo)
    hi = np.where(empty, piece_dummy + 1, hi)
    lo[first] = np.minimum(lo[first], dummy)
    hi[first] = np.maximum(hi[first], dummy + 1)
    piece_shift = np.repeat(shift, counts)
    return lo + piece_shift, hi + piece_shift
