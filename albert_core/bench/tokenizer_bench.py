"""Batch tokenization throughput: ours vs HF's AlbertTokenizer (slow) and AlbertTokenizerFast.

Every tokenizer loads the same spiece.model and encodes the same texts as one padded batch call,
in one process; the runs are interleaved (A B C D, A B C D, ...) after one warm-up call each, so
drift of the machine hits all alike. HF is optional: without transformers only our rows exist.
Used by `albert bench` (the "tokenizer" tool row) and benchmarks/bench_tokenizer.py.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

from .tools import Candidate, ToolResult, ToolSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
SPIECE_MODEL = REPO_ROOT / "tests/fixtures/spiece/spiece.model"
PYDOCS = REPO_ROOT / "corpus_cache/pydocs"
HELDOUT_SENTENCES = REPO_ROOT / "tests/fixtures/heldout_sentences.txt"


def _lines(path: Path, n: int) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:n]


def pydocs_texts(n: int) -> list[str]:
    """The first `n` paragraphs of the pydocs corpus, building the corpus on first use."""
    if not (PYDOCS / "train.txt").exists():
        from ..corpus import build_corpus

        build_corpus(PYDOCS)
    return _lines(PYDOCS / "train.txt", n)


def available_texts(n: int) -> tuple[list[str], str]:
    """(up to `n` texts, where they came from): pydocs paragraphs if the corpus is built, else the
    committed held-out sentences (no build: `albert bench` must not fetch a corpus mid-run)."""
    for path in (PYDOCS / "train.txt", HELDOUT_SENTENCES):
        if path.exists():
            return _lines(path, n), str(path.relative_to(REPO_ROOT))
    raise FileNotFoundError(
        f"no texts to tokenize: neither {PYDOCS / 'train.txt'} nor {HELDOUT_SENTENCES} exists "
        "(the tokenizer row needs a source checkout of the project)"
    )


def tokenizer_candidates(texts: list[str], model: Path = SPIECE_MODEL) -> tuple[dict[str, Callable[[], object]], dict[str, str]]:
    """{name: one batch call} for ours (with and without offsets) and, when transformers is
    installed, HF's slow and fast tokenizers; plus the versions of what was used."""
    from ..tokenizer import AlbertTokenizer

    ours = AlbertTokenizer(model)
    candidates: dict[str, Callable[[], object]] = {
        "albert AlbertTokenizer": lambda: ours(texts, padding=True),
        "albert AlbertTokenizer (offsets)": lambda: ours(texts, padding=True, return_offsets_mapping=True),
    }
    versions = {"python": platform.python_version()}
    try:
        import sentencepiece
        import tokenizers
        import transformers
    except ImportError:
        return candidates, versions
    slow = transformers.AlbertTokenizer(str(model))
    fast = transformers.AlbertTokenizerFast(vocab_file=str(model))
    candidates["HF AlbertTokenizer (slow)"] = lambda: slow(texts, padding=True)
    candidates["HF AlbertTokenizerFast"] = lambda: fast(texts, padding=True)
    candidates["HF AlbertTokenizerFast (offsets)"] = lambda: fast(texts, padding=True, return_offsets_mapping=True)
    versions.update(transformers=transformers.__version__, tokenizers=tokenizers.__version__, sentencepiece=sentencepiece.__version__)
    return candidates, versions


def count_tokens(texts: list[str], model: Path = SPIECE_MODEL) -> int:
    """Tokens our tokenizer gives the texts without padding: the throughput's numerator."""
    from ..tokenizer import AlbertTokenizer

    return sum(len(ids) for ids in AlbertTokenizer(model)(texts)["input_ids"])


def interleaved_times(candidates: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each candidate: one warm-up call each, then `repeats` interleaved rounds."""
    for fn in candidates.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def summary_rows(times: dict[str, list[float]], n_texts: int, n_tokens: int) -> list[dict]:
    """One row per tokenizer: median seconds per batch call, texts/s, tokens/s."""
    rows = []
    for name, ts in times.items():
        median = statistics.median(ts)
        rows.append({"tokenizer": name, "median_s": median, "texts_per_s": n_texts / median, "tokens_per_s": n_tokens / median})
    return rows


def run_tokenizer_tool(spec: ToolSpec) -> ToolResult:
    os.environ.setdefault("USE_TF", "0")  # transformers would otherwise import TF and JAX
    os.environ.setdefault("USE_FLAX", "0")
    try:
        texts, source = available_texts(spec.texts)
    except FileNotFoundError as exc:
        return ToolResult(spec, error=str(exc))
    candidates, versions = tokenizer_candidates(texts)
    times = interleaved_times(candidates, spec.repeats)
    notes = "" if "HF AlbertTokenizerFast" in candidates else "transformers not installed: HF tokenizers not measured"
    return ToolResult(
        spec,
        candidates=[Candidate(name, ts) for name, ts in times.items()],
        info={"texts": len(texts), "tokens": count_tokens(texts), "source": source, "spiece_model": str(SPIECE_MODEL.relative_to(REPO_ROOT))},
        versions=versions,
        notes=notes,
    )
