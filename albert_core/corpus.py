"""The project's offline English corpus: the Python 3.11 documentation ("pydocs").

Source: Debian's `python3.11-doc` package (the reStructuredText sources of docs.python.org,
shipped under `/usr/share/doc/python3.11/html/_sources/`), licence: PSF License Agreement
(docs/corpus.md). It is fetched with `apt-get download` from Debian's package registry, so it
needs no hub, and turned into plain prose: one document per source file, one paragraph per line,
documents separated by a blank line (the layout BERT/ALBERT pretraining scripts read).

Markup is reduced to its words (roles, literals, links), code blocks, directives' option lines,
tables and section underlines are dropped, since the model should learn English, not reST.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "python3.11-doc"
# The version the shipped artefacts were built from; a newer Debian revision of the same docs is
# accepted (its text barely changes) and the script reports the difference.
PINNED_VERSION = "3.11.2-6+deb12u8"
SOURCES_PREFIX = "./usr/share/doc/python3.11/html/_sources/"
# Every 20th document (sorted by path) is held out for evaluation, never trained on.
HELDOUT_EVERY = 20

_ROLE = re.compile(r":[a-zA-Z:+-]+:`(?:[^`<]*<)?~?!?([^`>]*)>?`")
_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]*>`__?")
_REF_ONLY = re.compile(r"`([^`]+)`_+")
_LITERAL = re.compile(r"``([^`]+)``")
_INTERPRETED = re.compile(r"`([^`]+)`")
_EMPHASIS = re.compile(r"\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_<>])\1{2,}\s*$")
_TABLE = re.compile(r"^\s*[+|]|^\s*=+(\s+=+)+\s*$")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+([\w:-]+)::")
# Directives whose body is prose worth keeping (notes, warnings, function descriptions).
_PROSE_DIRECTIVES = {
    "note", "warning", "versionadded", "versionchanged", "deprecated", "seealso", "tip", "important",
    "function", "method", "class", "attribute", "data", "exception", "decorator", "module", "describe",
    "classmethod", "staticmethod", "decoratormethod", "opcode", "envvar", "option", "cmdoption",
    "impl-detail", "admonition", "caution", "attention", "hint", "topic", "sidebar", "glossary",
}


def _inline(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _ROLE.sub(r"\1", text)
    text = _LITERAL.sub(r"\1", text)
    text = _REF_ONLY.sub(r"\1", text)
    text = _INTERPRETED.sub(r"\1", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = text.replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def _is_prose(paragraph: str) -> bool:
    letters = sum(ch.isalpha() for ch in paragraph)
    return len(paragraph) >= 20 and letters >= 0.6 * len(paragraph) and " " in paragraph


def rst_to_paragraphs(source: str) -> list[str]:
    """Plain-prose paragraphs of one reST document."""
    paragraphs: list[str] = []
    current: list[str] = []
    skip_indent: int | None = None  # inside a code block / non-prose directive: skip deeper lines

    def flush():
        if current:
            text = _inline(" ".join(current))
            if _is_prose(text):
                paragraphs.append(text)
            current.clear()

    lines = source.splitlines()
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        if not line.strip():
            flush()
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            flush()
            if directive.group(1) not in _PROSE_DIRECTIVES:
                skip_indent = indent
            continue
        if line.lstrip().startswith(".. "):  # comments, targets, substitutions
            flush()
            skip_indent = indent
            continue
        if line.lstrip().startswith(":") and re.match(r"^\s*:[\w -]+:", line) and not _ROLE.match(line.lstrip()):
            continue  # a field list / directive option line
        if _UNDERLINE.match(line) or _TABLE.match(line):
            flush()
            current.clear()
            continue
        if i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1].rstrip()) and len(lines[i + 1].strip()) >= len(line.strip()):
            flush()  # a section title: not a sentence
            continue
        skip_indent = add_text_line(line, indent, current, flush)
    flush()
    return paragraphs


def add_text_line(line: str, indent: int, current: list[str], flush) -> int | None:
    """Read an ordinary line of text into the paragraph being gathered (`current`; `flush` ends
    it). Returns the indent deeper than which the lines that follow are code to skip (a doctest,
    or the block a trailing "::" opens), else None. Shared by every walk over the reST sources."""
    if line.lstrip().startswith(">>>"):
        flush()
        return indent - 1
    ends_with_code_marker = line.endswith("::")
    if ends_with_code_marker:
        line = line[:-1] if not line.endswith(" ::") else line[:-3]
    stripped = line.strip()
    if re.match(r"^([-*+]|\d+\.|#\.)\s", stripped):  # a list item starts a new paragraph
        flush()
        stripped = re.sub(r"^([-*+]|\d+\.|#\.)\s+", "", stripped)
    current.append(stripped)
    if ends_with_code_marker:
        flush()
        return indent
    return None


def extract_documents(deb_path: Path) -> list[tuple[str, list[str]]]:
    """(source path, paragraphs) for every .rst.txt in the package, sorted by path."""
    docs = []
    for name, text in read_sources(deb_path):
        paragraphs = rst_to_paragraphs(text)
        if paragraphs:
            docs.append((name, paragraphs))
    return docs


def read_sources(deb_path: Path) -> list[tuple[str, str]]:
    """(source path, reST text) for every .rst.txt in the package, sorted by path."""
    with open(deb_path, "rb") as handle:
        data = handle.read()
    if not data.startswith(b"!<arch>\n"):
        raise ValueError(f"{deb_path} is not a Debian package (ar archive)")
    offset, members = 8, {}
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)
    payload_name = next(n for n in members if n.startswith("data.tar"))
    payload = members[payload_name]
    if payload_name.endswith(".xz"):
        import lzma

        payload = lzma.decompress(payload)
    elif payload_name.endswith(".zst"):
        raise ValueError("zstd-compressed .deb payloads are not supported; use dpkg-deb -x")
    sources = []
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:*") as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.isfile() and member.name.startswith(SOURCES_PREFIX) and member.name.endswith(".rst.txt"):
                text = tar.extractfile(member).read().decode("utf-8")
                sources.append((member.name[len(SOURCES_PREFIX) :], text))
    return sources


def download_package(dest: Path) -> Path:
    """`apt-get download` the docs package into dest (pinned version first, then the current one)."""
    dest.mkdir(parents=True, exist_ok=True)
    if shutil.which("apt-get") is None:
        raise RuntimeError("apt-get is needed to fetch the corpus (Debian's python3.11-doc package)")
    for spec in (f"{PACKAGE}={PINNED_VERSION}", PACKAGE):
        result = subprocess.run(["apt-get", "download", spec], cwd=dest, capture_output=True, text=True)
        if result.returncode == 0:
            break
        if "Unable to locate" in result.stderr or "not found" in result.stderr:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
            result = subprocess.run(["apt-get", "download", spec], cwd=dest, capture_output=True, text=True)
            if result.returncode == 0:
                break
    else:
        raise RuntimeError(f"apt-get download {PACKAGE} failed: {result.stderr.strip()}")
    return sorted(dest.glob(f"{PACKAGE}_*.deb"))[-1]


def build_corpus(out_dir: str | os.PathLike, deb_path: str | os.PathLike | None = None) -> dict:
    """Write out_dir/train.txt and out_dir/heldout.txt; return a summary (sizes, sha256 of the .deb)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if deb_path is None:
        with tempfile.TemporaryDirectory() as tmp:
            fetched = download_package(Path(tmp))
            deb_path = out_dir / fetched.name
            shutil.copy(fetched, deb_path)
    deb_path = Path(deb_path)
    docs = extract_documents(deb_path)
    summary = {"package": deb_path.name, "sha256": hashlib.sha256(deb_path.read_bytes()).hexdigest(), "documents": len(docs)}
    from .atomic import atomic_write_text

    for split, keep in (("train", lambda i: i % HELDOUT_EVERY != 0), ("heldout", lambda i: i % HELDOUT_EVERY == 0)):
        chosen = [paragraphs for i, (_, paragraphs) in enumerate(docs) if keep(i)]
        text = "\n\n".join("\n".join(paragraphs) for paragraphs in chosen) + "\n"
        atomic_write_text(out_dir / f"{split}.txt", text)
        summary[split] = {"documents": len(chosen), "bytes": len(text.encode()), "words": len(text.split())}
    return summary
