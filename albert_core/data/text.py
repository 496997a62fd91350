"""Raw text for pretraining: documents read line by line, paragraphs cut into sentences.

File format (the pydocs corpus's, google-research's): UTF-8 text, one paragraph (or sentence)
per line, a blank line between documents. The end of a file also ends a document.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import DataError


def iter_documents(files: Iterable[str | os.PathLike]) -> Iterator[list[str]]:
    """Yield each document of `files` (in order) as its list of non-empty lines.

    Files are read one line at a time, so a file larger than memory streams; only the current
    document is held. A file that is not UTF-8 raises DataError naming the file and line.
    """
    for path in files:
        document: list[str] = []
        with open(path, "rb") as handle:  # bytes, decoded per line: an error names its exact line
            for line_number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8-sig" if line_number == 1 else "utf-8").strip()
                except UnicodeDecodeError as exc:
                    raise DataError(f"not UTF-8 text ({exc.reason})", path, line_number) from None
                if line:
                    document.append(line)
                elif document:
                    yield document
                    document = []
        if document:
            yield document


def check_files(files) -> list[Path]:
    """The list of text files, each existing (FileNotFoundError naming the missing one)."""
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    paths = [Path(f) for f in files]
    if not paths:
        raise DataError("no input files given")
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"pretraining text file not found: {path}")
    return paths


# Words after which a "." does not end a sentence (compared lower-cased, without the final ".").
ABBREVIATIONS = frozenset(
    "e.g i.e etc cf vs viz al approx incl resp mr mrs ms dr prof sr jr st no nos fig figs eq ch sec vol pp".split()
)
# A run of sentence-final marks, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?]+[\"'\u2019\u201d)\]]*\s+")
_LAST_WORD = re.compile(r"(\S+)$")


def split_sentences(text: str) -> list[str]:
    """Cut a paragraph into sentences with a deliberately simple rule.

    A sentence ends at ".", "!" or "?" (a run of them, then any closing quotes or brackets)
    followed by whitespace, unless
    - the next character is a lower-case letter ("e.g. this", "the 2. edition of");
    - the mark is a single "." after a known abbreviation (ABBREVIATIONS: e.g., i.e., etc., Mr.,
      Dr., vs., ...) or after a single letter (an initial: "J. Smith");
    A "." with no whitespace after it (3.11, os.path, e.g.) never ends a sentence.
    Returns the stripped sentences, none empty; a text with no boundary is one sentence.
    """
    sentences = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        after = match.end()
        if after < len(text) and text[after].islower():
            continue
        marks = match.group(0).rstrip()
        if marks.rstrip("\"'\u2019\u201d)]") == ".":
            word = _LAST_WORD.search(text, start, match.start())
            if word is not None:
                last = word.group(1).lstrip("\"'(\u2018\u201c[").lower()
                if last in ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                    continue
        sentence = text[start : match.start() + len(marks)].strip()
        if sentence:
            sentences.append(sentence)
        start = after
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences
