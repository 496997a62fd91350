"""Build the small labelled fine-tuning sets in data/tasks/ from the Python 3.11 documentation.

    python scripts/make_task_data.py [--deb PATH] [--out data/tasks] [--any-version]

Every label is structure that the documentation's authors wrote in its reStructuredText sources
(Debian's `python3.11-doc`, the package the pydocs corpus comes from; PSF licence); nothing is
annotated by hand or by a model:

- classify: a prose paragraph -> the part of the docs it sits in (its top folder: library, c-api, ...);
- tag:      words inside inline code markup (``literal``, :func:`x`, :class:`x`, ...) -> B-CODE/I-CODE, others O;
- choice:   a paragraph -> which of 4 section titles of its document it sits under;
- qa:       "What does <name> do?" -> the first sentence of that name's entry (a `.. function::`-style
            directive or a glossary term), in a context of neighbouring entries; a third unanswerable.

The output is a pure function of the pinned .deb and SEED: the same package gives the same bytes.
data/tasks/README.md describes the construction, counts and baselines (its numbers come from `--stats`).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import random
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from albert_core.atomic import atomic_write_text  # noqa: E402
from albert_core.corpus import (  # noqa: E402
    _DIRECTIVE,
    _PROSE_DIRECTIVES,
    _TABLE,
    _UNDERLINE,
    HELDOUT_EVERY,
    PACKAGE,
    PINNED_VERSION,
    _is_prose,
    add_text_line,
    download_package,
    extract_documents,
    read_sources,
)

PINNED_SHA256 = "50eb63e7f636c4281e9ce1b8f10386f1def42159eddce34fc1f41c46261df71b"  # docs/corpus.md
DEFAULT_DEB = ROOT / "corpus_cache" / "pydocs" / f"{PACKAGE}_{PINNED_VERSION}_all.deb"
SEED = 9
# Dev documents: every DEV_EVERY-th document in the corpus's order. HELDOUT_EVERY is a multiple of
# it, so the corpus's held-out documents (never pretrained on) are all dev; they alone are too few
# (25 documents, no tutorial or faq page) for a dev set of a few hundred records per task.
DEV_EVERY = 5
assert HELDOUT_EVERY % DEV_EVERY == 0

# --- sizes (records per split); qa contexts are long, so qa gets fewer to keep data/tasks < 3 MB
CLASSIFY_LABELS = ("c-api", "howto", "library", "reference", "tutorial", "whatsnew")
CLASSIFY_PER_LABEL = {"train": 300, "dev": 60}
TAG_SIZE = {"train": 1500, "dev": 300}
CHOICE_SIZE = {"train": 1500, "dev": 300}
QA_SIZE = {"train": 1200, "dev": 300}
QA_UNANSWERABLE_EVERY = 3  # every 3rd qa record asks for an entry its context does not hold
QA_WINDOW = 4  # entries per qa context
# Per-document caps keep a few long documents (whatsnew/3.5, library/curses) from filling a split.
PER_DOC_CAP = {"train": 12, "dev": 40}
# Lengths in characters: an ALBERT SentencePiece piece covers 3 or more characters of this text
# (3.0 at the 1st percentile with the project's 8k pydocs model), so a paragraph of 330 characters
# with a section title fits max_seq_length 128, and a qa question + context of 780 fits 256.
MIN_WORDS, MAX_CHARS = 8, 330
MAX_QA_CHARS = 780

# --- inline markup ----------------------------------------------------------------------------
# Roles whose text is code: Python and C objects, literals, file and program names.
CODE_ROLES = {
    "class", "func", "meth", "mod", "exc", "attr", "const", "data", "obj", "keyword", "file", "option",
    "envvar", "source", "program", "opcode", "command", "samp", "pdbcmd", "token", "code", "makevar",
}  # plus every py:* and c:* role
# Roles whose text is prose (shown as is, or as Sphinx shows it: "PEP 8", "bpo-1234").
PROSE_ROLES = {"term", "dfn", "abbr", "ref", "doc", "title-reference", "sup", "sub", "emphasis", "strong",
               "guilabel", "menuselection", "pep", "rfc", "issue", "gh"}
ROLE_DISPLAY = {"pep": "PEP {}", "rfc": "RFC {}", "issue": "bpo-{}", "gh": "gh-{}"}
# Other roles (kbd, mailheader, mimetype, manpage, newsgroup) are neither clearly code nor prose,
# and a :ref:/:doc: without a title shows a heading the source does not hold: paragraphs with
# them are left out of every task rather than labelled by guess.

_INLINE = re.compile(
    r"(?P<literal>``(?P<lit>[^`]+?)``)"
    r"|(?P<role>:(?P<rname>[a-zA-Z][a-zA-Z:+-]*):`(?P<rbody>[^`]*)`)"
    r"|(?P<link>`(?P<ltext>[^`<]+?)\s*<[^`>]*>`__?)"
    r"|(?P<ref>`(?P<reftext>[^`]+)`_+)"
    r"|(?P<interp>`(?P<itext>[^`]+)`)"
    r"|(?P<strong>\*\*(?P<stext>[^*]+)\*\*)"
    r"|(?P<emph>\*(?P<etext>[^*\s][^*]*)\*)"
    r"|(?P<target>(?<!\w)(?P<ttext>[A-Za-z][\w-]*[A-Za-z0-9])_(?=\W|$))"  # a target reference: "prog_" shows "prog"
    r"|(?P<citation>(?P<ctext>\[[A-Za-z][\w.-]*\])_)"  # a citation: "[C99]_" shows "[C99]"
)
_EXPLICIT_TITLE = re.compile(r"^(.*?)\s*<([^<>]*)>$", re.S)


class Unrenderable(ValueError):
    """A paragraph whose shown text or code spans cannot be read off its source."""


def _role_piece(name: str, body: str) -> tuple[str, bool]:
    """(shown text, is code) of one role."""
    name = name.lower()  # docutils role names are case-insensitive (:PEP: is :pep:)
    titled = _EXPLICIT_TITLE.match(body)
    if titled:
        text = titled.group(1)
    elif name in ("ref", "doc"):
        raise Unrenderable(f":{name}: without a title")
    else:
        text = body.lstrip("~!")
    if name in ROLE_DISPLAY:
        text = ROLE_DISPLAY[name].format(text)
    if name == "abbr":
        text = text.split(" (")[0]
    if name == "samp":
        text = text.replace("{", "").replace("}", "")
    if name in CODE_ROLES or name.startswith(("py:", "c:")):
        return text, True
    if name in PROSE_ROLES:
        return text, False
    raise Unrenderable(f"role :{name}:")


def render(raw: str) -> tuple[str, list[int]]:
    """The text a reader sees for raw reST inline markup, and for each character the id of the
    code span it comes from (-1: not code). Whitespace is collapsed, as albert_core.corpus renders
    the pretraining text; a backslash escape shows the escaped character, except in a ``literal``,
    which shows its text as written."""
    chars: list[str] = []
    spans: list[int] = []

    def add(text: str, span: int, literal: bool = False) -> None:
        if not literal:
            if "`" in text or "]_" in text or re.search(r"\|\w[^|]*\|", text):
                raise Unrenderable("unbalanced markup, a substitution or a footnote")
            text = re.sub(r"\\(.?)", r"\1", text, flags=re.S)
        chars.extend(text)
        spans.extend([span] * len(text))

    position, code_spans = 0, 0
    for match in _INLINE.finditer(raw):
        add(raw[position : match.start()], -1)
        position = match.end()
        kind = match.lastgroup
        if kind == "literal":
            add(match.group("lit"), code_spans, literal=True)
            code_spans += 1
        elif kind == "role":
            text, is_code = _role_piece(match.group("rname"), match.group("rbody"))
            add(text, code_spans if is_code else -1)
            code_spans += is_code
        elif kind == "interp":  # the default role: no meaning the source states
            raise Unrenderable("interpreted text without a role")
        else:
            shown = {"link": "ltext", "ref": "reftext", "strong": "stext", "emph": "etext", "target": "ttext", "citation": "ctext"}
            add(match.group(shown[kind]), -1)
    add(raw[position:], -1)
    text, text_spans = [], []
    for ch, span in zip(chars, spans):
        if ch.isspace():
            if text and text[-1] != " ":
                text.append(" ")
                text_spans.append(-1)
        else:
            text.append(ch)
            text_spans.append(span)
    while text and text[-1] == " ":
        text.pop()
        text_spans.pop()
    return "".join(text), text_spans


def render_text(raw: str) -> str:
    return render(raw)[0]


# --- document structure -----------------------------------------------------------------------
# Directives that describe one named object: their first body paragraph is the object's entry.
ENTRY_DIRECTIVES = {
    "function", "method", "class", "exception", "decorator", "classmethod", "staticmethod", "data",
    "attribute", "coroutinefunction", "coroutinemethod", "decoratormethod", "c:function", "c:macro",
}
CALLABLE_KINDS = {"function", "method", "decorator", "classmethod", "staticmethod", "coroutinefunction",
                  "coroutinemethod", "decoratormethod", "c:function", "c:macro"}


@dataclass
class Entry:
    kind: str  # a directive name, or "term" for a glossary term
    signature: str  # shown text of the directive's argument (or the term)
    name: str
    description: str | None = None  # raw reST of the first body paragraph


@dataclass
class Paragraph:
    raw: str
    title: str | None  # shown text of the section title it sits under


@dataclass
class Document:
    path: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    @property
    def part(self) -> str:
        return self.path.split("/")[0] if "/" in self.path else "top"


def _entry_name(kind: str, signature: str) -> str | None:
    if kind == "term":
        return signature
    if kind.startswith("c:"):
        found = re.search(r"([A-Za-z_]\w*)\s*\(", signature) if kind == "c:function" else re.match(r"\s*([A-Za-z_]\w*)", signature)
    else:
        found = re.match(r"\s*(?:async\s+|await\s+)?([A-Za-z_][\w.]*)", signature)
    return found.group(1) if found else None


def parse_document(path: str, source: str) -> Document:
    """Titles, prose paragraphs (raw reST, with the title they sit under) and entries of a document.

    The walk reads lines as albert_core.corpus.rst_to_paragraphs does (titles, tables, comments,
    code blocks, non-prose directives; ordinary lines through the shared add_text_line) and keeps
    what that walk throws away: the raw markup, the title above each paragraph, the open
    directives (an entry's signature, with its continuation lines, and its first paragraph) and
    glossary terms. Field lists and directive options are skipped with their indented lines."""
    doc = Document(path)
    lines = [line.rstrip() for line in source.splitlines()]
    title: str | None = None
    open_directives: list[tuple[int, Entry | None, bool]] = []  # (indent, entry, is glossary)
    current: list[str] = []
    skip_indent: int | None = None  # inside a code block / non-prose directive: skip deeper lines
    header_indent: int | None = None  # directive options and signature continuations: until a blank line
    term_indent: int | None = None

    def flush():
        if current:
            raw = " ".join(current)
            entry = open_directives[-1][1] if open_directives else None
            if entry is not None and entry.description is None:  # the first paragraph of its body
                entry.description = raw
            doc.paragraphs.append(Paragraph(raw, title))
            current.clear()

    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if header_indent is not None:
            if line.strip() and indent > header_indent:
                entry = open_directives[-1][1] if open_directives else None
                if entry is not None and entry.kind != "term" and not line.lstrip().startswith(":") and entry.signature.endswith("\\"):
                    entry.signature = entry.signature[:-1].rstrip() + " " + line.strip()
                continue
            header_indent = None
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        if not line.strip():
            flush()
            continue
        while open_directives and indent <= open_directives[-1][0]:
            flush()
            if open_directives.pop()[2]:
                term_indent = None
        directive = _DIRECTIVE.match(line)
        if directive:
            flush()
            name = directive.group(1)
            if name in ENTRY_DIRECTIVES:
                signature = line[directive.end() :].strip()
                entry = Entry(name, signature, "")
                doc.entries.append(entry)
                open_directives.append((indent, entry, False))
                header_indent = indent
            elif name in _PROSE_DIRECTIVES:  # notes, version notes: their body is prose
                open_directives.append((indent, None, name == "glossary"))
                header_indent = indent if name == "glossary" else None
            else:
                skip_indent = indent
            continue
        if open_directives and open_directives[-1][2]:  # glossary body: terms, then indented definitions
            if term_indent is None:
                term_indent = indent
            if indent == term_indent:
                flush()
                if lines[i - 1].strip():  # a second term line names the same entry
                    open_directives.append((indent, doc.entries[-1], False))
                    continue
                entry = Entry("term", line.strip(), "")
                doc.entries.append(entry)
                open_directives.append((indent, entry, False))
                continue
        if line.lstrip().startswith(".. "):  # comments, targets, substitutions
            flush()
            skip_indent = indent
            continue
        if re.match(r"^\s*:[\w -]+:", line) and not re.match(r"^\s*:[a-zA-Z:+-]+:`", line):
            flush()  # a field list (":param x: ...") or a directive option
            skip_indent = indent
            continue
        if _UNDERLINE.match(line) or _TABLE.match(line):
            flush()
            current.clear()
            continue
        if i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1]) and len(lines[i + 1].strip()) >= len(line.strip()):
            flush()
            if indent == 0:
                try:
                    title = render_text(line.strip())
                except Unrenderable:
                    title = None
                if title:
                    doc.titles.append(title)
            continue
        skip_indent = add_text_line(line, indent, current, flush)
    flush()
    for entry in doc.entries:
        if entry.kind == "term":  # a glossary term is reST text; a signature is code, shown as written
            try:
                entry.signature = render_text(entry.signature)
            except Unrenderable:
                entry.signature = ""
        else:
            # "\*\*kw" (escaped for reST) shows "**kw"; "lineterm='\n'" shows as written
            entry.signature = re.sub(r"\\([*_`|])", r"\1", " ".join(entry.signature.split()))
        entry.name = _entry_name(entry.kind, entry.signature) or ""
    return doc


def prose(raw: str) -> tuple[str, list[int]] | None:
    """Shown text and code spans of a usable paragraph: renderable, prose, MIN_WORDS words to MAX_CHARS characters."""
    try:
        text, spans = render(raw)
    except Unrenderable:
        return None
    if not _is_prose(text) or len(text.split()) < MIN_WORDS or len(text) > MAX_CHARS:
        return None
    return text, spans


# --- the four tasks ---------------------------------------------------------------------------
def _capped_sample(candidates: list[tuple[str, dict]], size: int, per_doc: int | None, rng: random.Random) -> list[dict]:
    """Up to `size` records drawn at random, at most `per_doc` (None: any number) from one document."""
    order = list(range(len(candidates)))
    rng.shuffle(order)
    taken, per = [], collections.Counter()
    for index in order:
        doc, record = candidates[index]
        if per_doc is None or per[doc] < per_doc:
            per[doc] += 1
            taken.append(index)
        if len(taken) == size:
            break
    return [candidates[i][1] for i in sorted(taken)]


def _drop_repeated(candidates: list[tuple[str, dict]], key) -> list[tuple[str, dict]]:
    """Leave out records whose key text occurs in more than one place (boilerplate such as
    "This function always succeeds."), so no text sits in two splits or under two labels."""
    counts = collections.Counter(key(record) for _, record in candidates)
    return [(doc, record) for doc, record in candidates if counts[key(record)] == 1]


def make_classify(docs: list[Document], dev_docs: set[str], rng: random.Random) -> dict[str, list[dict]]:
    """Balanced: CLASSIFY_PER_LABEL paragraphs of each part."""
    everything = []
    for doc in docs:
        if doc.part in CLASSIFY_LABELS:
            for paragraph in doc.paragraphs:
                shown = prose(paragraph.raw)
                if shown:
                    everything.append((doc.path, {"text": shown[0], "label": doc.part}))
    candidates: dict[str, dict[str, list]] = {"train": collections.defaultdict(list), "dev": collections.defaultdict(list)}
    for path, record in _drop_repeated(everything, lambda r: r["text"]):
        candidates["dev" if path in dev_docs else "train"][record["label"]].append((path, record))
    out = {}
    for split in ("train", "dev"):
        records = []
        for label in CLASSIFY_LABELS:
            records += _capped_sample(candidates[split][label], CLASSIFY_PER_LABEL[split], None, rng)
        rng.shuffle(records)
        out[split] = records
    return out


def tag_record(text: str, spans: list[int]) -> dict:
    """Whitespace words of the shown text; a word is code when any of its characters comes from a
    code span: B-CODE when it starts that span's words, I-CODE when it continues the same span."""
    tokens, tags = [], []
    previous_span = -1
    for word in re.finditer(r"\S+", text):
        word_spans = [s for s in spans[word.start() : word.end()] if s >= 0]
        if not word_spans:
            tag = "O"
        else:
            continues = spans[word.start()] >= 0 and spans[word.start()] == previous_span
            tag = "I-CODE" if continues else "B-CODE"
        tokens.append(word.group())
        tags.append(tag)
        previous_span = spans[word.end() - 1]
    return {"tokens": tokens, "tags": tags}


def make_tag(docs: list[Document], dev_docs: set[str], rng: random.Random) -> dict[str, list[dict]]:
    candidates = []
    for doc in docs:
        for paragraph in doc.paragraphs:
            shown = prose(paragraph.raw)
            if shown:
                candidates.append((doc.path, tag_record(*shown)))
    candidates = _drop_repeated(candidates, lambda r: " ".join(r["tokens"]))
    return _split_and_sample(candidates, dev_docs, TAG_SIZE, rng)


def make_choice(docs: list[Document], dev_docs: set[str], rng: random.Random) -> dict[str, list[dict]]:
    candidates = []
    for doc in docs:
        titles = sorted(set(doc.titles))
        if len(titles) < 4:
            continue
        for paragraph in doc.paragraphs:
            shown = prose(paragraph.raw)
            if not shown or paragraph.title is None:
                continue
            others = rng.sample([t for t in titles if t != paragraph.title], 3)
            choices = others + [paragraph.title]
            rng.shuffle(choices)
            candidates.append((doc.path, {"question": shown[0], "choices": choices, "label": choices.index(paragraph.title)}))
    candidates = _drop_repeated(candidates, lambda r: r["question"])
    return _split_and_sample(candidates, dev_docs, CHOICE_SIZE, rng)


_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|Mr|Dr|No)|\.\.)\.$")


def first_sentence(text: str) -> str | None:
    """Up to the first full stop followed by a space or the end (sentences here often start with a
    lower-case parameter name; a dot inside a dotted name has no space after it)."""
    for stop in re.finditer(r"[.!?](?=\s|$)", text):
        candidate = text[: stop.end()]
        if not _ABBREVIATION.search(candidate):
            return candidate
    return None


def _question(entry: Entry) -> str:
    if entry.kind == "term":
        return f"What is meant by {entry.name}?"
    if entry.kind in CALLABLE_KINDS:
        return f"What does {entry.name} do?"
    return f"What is {entry.name}?"


def make_qa(docs: list[Document], dev_docs: set[str], rng: random.Random, train_all: bool = False) -> dict[str, list[dict]]:
    """SQuAD v2-style records: a window of QA_WINDOW consecutive entries of one document as the
    context ("signature\\ndescription" each, blank line between), the question naming one entry,
    the answer that entry's first sentence at its exact offset; every QA_UNANSWERABLE_EVERY-th
    question names an entry of the same document outside the window (no answer). train_all: train
    takes every candidate (no size or per-document cap); dev is the same either way, since the
    train draw shuffles all train candidates whatever its size."""
    candidates = []
    for doc in docs:
        usable = []
        for entry in doc.entries:
            shown = prose(entry.description) if entry.description else None
            if not shown or not entry.name or not entry.signature:
                continue
            answer = first_sentence(shown[0])
            if answer and len(answer.split()) >= 4:
                usable.append((entry, shown[0], answer))
        names = collections.Counter(entry.name for entry, _, _ in usable)
        usable = [item for item in usable if names[item[0].name] == 1]  # a name must point at one entry
        if len(usable) < 2 * QA_WINDOW:
            continue
        for index, (entry, _, answer) in enumerate(usable):
            unanswerable = rng.randrange(QA_UNANSWERABLE_EVERY) == 0
            if unanswerable:  # a window that does not hold the asked entry
                starts = [s for s in range(len(usable) - QA_WINDOW + 1) if not s <= index < s + QA_WINDOW]
            else:
                starts = [s for s in range(max(0, index - QA_WINDOW + 1), min(index, len(usable) - QA_WINDOW) + 1)]
            start = rng.choice(starts)
            window = usable[start : start + QA_WINDOW]
            parts, answer_start = [], -1
            offset = 0
            for other, description, _ in window:
                if other is entry:
                    answer_start = offset + len(other.signature) + 1
                part = f"{other.signature}\n{description}"
                parts.append(part)
                offset += len(part) + 2
            context = "\n\n".join(parts)
            question = _question(entry)
            if len(question) + len(context) > MAX_QA_CHARS:
                continue
            answers = {"text": [], "answer_start": []} if unanswerable else {"text": [answer], "answer_start": [answer_start]}
            record_id = hashlib.sha1(f"{doc.path}|{entry.name}|{start}".encode()).hexdigest()[:16]
            candidates.append((doc.path, {"id": record_id, "question": question, "context": context, "answers": answers}))
    candidates = _drop_repeated(candidates, lambda r: (r["question"], r["context"]))
    if train_all:
        return _split_and_sample(candidates, dev_docs, {**QA_SIZE, "train": len(candidates)}, rng, {**PER_DOC_CAP, "train": None})
    return _split_and_sample(candidates, dev_docs, QA_SIZE, rng)


def _split_and_sample(candidates, dev_docs: set[str], sizes: dict[str, int], rng: random.Random, caps=None) -> dict[str, list[dict]]:
    caps = PER_DOC_CAP if caps is None else caps
    out = {}
    for split in ("train", "dev"):
        chosen = [(doc, record) for doc, record in candidates if (doc in dev_docs) == (split == "dev")]
        out[split] = _capped_sample(chosen, sizes[split], caps[split], rng)
    return out


# --- package, output, statistics ----------------------------------------------------------------
def fetch_deb(deb: Path | None, any_version: bool) -> Path:
    if deb is None:
        deb = DEFAULT_DEB
        if not deb.exists():
            with tempfile.TemporaryDirectory() as tmp:
                fetched = download_package(Path(tmp))
                deb = DEFAULT_DEB.parent / fetched.name
                deb.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(fetched, deb)
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if digest != PINNED_SHA256:
        message = f"{deb} is not {PACKAGE} {PINNED_VERSION} (sha256 {digest}); the data would differ from the committed files"
        if not any_version:
            raise SystemExit(message + " (pass --any-version to build from it anyway)")
        print("warning:", message, file=sys.stderr)
    return deb


def build(deb: Path, qa_train_all: bool = False) -> dict[str, dict[str, list[dict]]]:
    docs = [parse_document(path, text) for path, text in read_sources(deb)]
    dev_docs = {path for i, (path, _) in enumerate(extract_documents(deb)) if i % DEV_EVERY == 0}
    return {
        "classify": make_classify(docs, dev_docs, random.Random(f"{SEED}:classify")),
        "tag": make_tag(docs, dev_docs, random.Random(f"{SEED}:tag")),
        "choice": make_choice(docs, dev_docs, random.Random(f"{SEED}:choice")),
        "qa": make_qa(docs, dev_docs, random.Random(f"{SEED}:qa"), train_all=qa_train_all),
    }


def write(data: dict[str, dict[str, list[dict]]], out: Path) -> None:
    for task, splits in data.items():
        for split, records in splits.items():
            text = "".join(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n" for record in records)
            atomic_write_text(out / task / f"{split}.jsonl", text)


def statistics(data: dict[str, dict[str, list[dict]]]) -> dict:
    """Counts, label distributions and the majority baselines on dev (for README.md)."""
    stats = {}
    for task, splits in data.items():
        entry = {split: len(records) for split, records in splits.items()}
        dev, train = splits["dev"], splits["train"]
        if task in ("classify", "choice"):
            for split, records in splits.items():
                entry[f"{split}_labels"] = dict(sorted(collections.Counter(r["label"] for r in records).items()))
            majority = collections.Counter(r["label"] for r in train).most_common(1)[0][0]
            entry["dev_majority_accuracy"] = sum(r["label"] == majority for r in dev) / len(dev)
        elif task == "tag":
            for split, records in splits.items():
                entry[f"{split}_tags"] = dict(sorted(collections.Counter(t for r in records for t in r["tags"]).items()))
                entry[f"{split}_max_words"] = max(len(r["tokens"]) for r in records)
            tags = [t for r in dev for t in r["tags"]]
            entry["dev_all_O_token_accuracy"] = tags.count("O") / len(tags)
            entry["dev_all_O_entity_f1"] = 0.0
        else:
            for split, records in splits.items():
                entry[f"{split}_unanswerable"] = sum(not r["answers"]["text"] for r in records)
                entry[f"{split}_max_context_words"] = max(len(r["context"].split()) for r in records)
            # "No answer" scores 1 (EM and F1) on an unanswerable question and 0 on the others.
            entry["dev_no_answer_em_f1"] = entry["dev_unanswerable"] / len(dev)
        stats[task] = entry
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deb", type=Path, help=f"the {PACKAGE} package (default: {DEFAULT_DEB.relative_to(ROOT)}, downloaded if missing)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "tasks")
    parser.add_argument("--any-version", action="store_true", help="build from a package other than the pinned one")
    parser.add_argument("--stats", action="store_true", help="print counts, label distributions and baselines")
    parser.add_argument("--qa-train-all", action="store_true",
                        help="qa train: every candidate record (2,923) instead of the committed 1,200, no per-document cap; "
                             "dev unchanged (an experiment, docs/training.md; write it to another --out)")
    args = parser.parse_args()
    data = build(fetch_deb(args.deb, args.any_version), qa_train_all=args.qa_train_all)
    write(data, args.out)
    if args.stats:
        print(json.dumps(statistics(data), indent=1))


if __name__ == "__main__":
    main()
