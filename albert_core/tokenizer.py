"""AlbertTokenizer: HF's AlbertTokenizer behaviour on the `sentencepiece` library, with offsets.

Text goes through the same steps as Hugging Face's (slow) AlbertTokenizer, so ids are identical
on the same spiece.model:

1. split on the special tokens ([CLS] [SEP] <pad> <unk> [MASK]); [MASK] eats the spaces on its
   left (HF's AddedToken(lstrip=True)); other text is lower-cased character by character;
2. per chunk: strip and collapse whitespace (remove_space), ``→" and ''→", NFKD and drop
   combining marks (keep_accents=False), lower-case (do_lower_case);
3. sentencepiece (its own nmt_nfkc normalisation inside), batch-encoded in C++ threads;
4. a piece ending in "<digit>," is re-split so the comma stands alone (HF's rule).

Offsets (return_offsets_mapping) use the convention of HF's fast tokenizer: a piece's "▁" is the
whitespace before the word (the last one of a run), special tokens map to (0, 0). They come from
tokenizer_offsets: most chunks of a batch in numpy, from the piece lengths of one threaded
sentencepiece call; the rest from an exact per-character alignment (the same answers).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_file, atomic_write_text
from .errors import TokenizerError, require
from .tokenizer_offsets import SPIECE_UNDERLINE, aligned_preprocess, one_char_alignment, piece_spans, pieces_with_sources

VOCAB_FILE = "spiece.model"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
VERY_LARGE_INTEGER = int(1e30)  # HF's "no limit" model_max_length

_TRUNCATION = ("longest_first", "only_first", "only_second", "do_not_truncate")
_PADDING = ("longest", "max_length", "do_not_pad")


# ----------------------------------------------------------------------------------------------
# Text preparation (step 2)
# ----------------------------------------------------------------------------------------------
def lower_each_char(text: str) -> str:
    """HF lower-cases non-special text one character at a time (no final-sigma context)."""
    return text.lower() if text.isascii() else "".join(ch.lower() for ch in text)


def preprocess_text(text: str, do_lower_case: bool, remove_space: bool, keep_accents: bool) -> str:
    """HF AlbertTokenizer.preprocess_text, verbatim in behaviour."""
    out = " ".join(text.strip().split()) if remove_space else text
    out = out.replace("``", '"').replace("''", '"')
    if not keep_accents and not out.isascii():  # NFKD leaves ASCII as it is, with no marks to drop
        out = unicodedata.normalize("NFKD", out)
        out = "".join(ch for ch in out if not unicodedata.combining(ch))
    if do_lower_case:
        out = out.lower()
    return out


# ----------------------------------------------------------------------------------------------
# BatchEncoding
# ----------------------------------------------------------------------------------------------
class BatchEncoding(dict):
    """A dict of model inputs (input_ids, attention_mask, ...), also readable as attributes."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def convert_to_tensors(self, tensor_type: str | None, prepend_batch_axis: bool = False) -> "BatchEncoding":
        if tensor_type is None:
            return self
        for key, value in list(self.items()):
            rows = [value] if prepend_batch_axis else value
            if len({len(r) for r in rows if isinstance(r, list)}) > 1:
                raise TokenizerError(
                    f"cannot make a tensor of '{key}': sequences have different lengths; "
                    "pass padding=True (or padding='max_length') with return_tensors"
                )
            self[key] = _to_framework(np.asarray(rows, dtype=np.int64), tensor_type)
        return self


def _to_framework(array: np.ndarray, tensor_type: str):
    if tensor_type == "np":
        return array
    if tensor_type == "pt":
        return require("torch", "return_tensors='pt'", extra="torch").from_numpy(array)
    if tensor_type == "tf":
        return require("tensorflow", "return_tensors='tf'", extra="tf").constant(array)
    if tensor_type == "jax":
        return require("jax.numpy", "return_tensors='jax'", extra="flax", package="jax").asarray(array)
    raise TokenizerError(f"unknown return_tensors {tensor_type!r}; use 'np', 'pt', 'tf' or 'jax'")


# ----------------------------------------------------------------------------------------------
# The tokenizer
# ----------------------------------------------------------------------------------------------
class AlbertTokenizer:
    """SentencePiece ALBERT tokenizer with HF AlbertTokenizer's behaviour and API."""

    vocab_files_names = {"vocab_file": VOCAB_FILE}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike,
        do_lower_case: bool = True,
        remove_space: bool = True,
        keep_accents: bool = False,
        bos_token: str = "[CLS]",
        eos_token: str = "[SEP]",
        unk_token: str = "<unk>",
        sep_token: str = "[SEP]",
        pad_token: str = "<pad>",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        model_max_length: int | None = None,
        padding_side: str = "right",
        truncation_side: str = "right",
        clean_up_tokenization_spaces: bool = False,
        num_threads: int = -1,
    ):
        spm = require("sentencepiece", "AlbertTokenizer")
        self.vocab_file = str(vocab_file)
        path = Path(vocab_file)
        if not path.is_file():
            raise FileNotFoundError(f"SentencePiece model not found: {path}")
        self.sp_model = spm.SentencePieceProcessor()
        try:
            self.sp_model.LoadFromSerializedProto(path.read_bytes())
        except Exception as exc:  # sentencepiece raises RuntimeError/OSError with C++ text
            raise TokenizerError(f"{path} is not a valid SentencePiece model ({exc})") from exc
        if self.sp_model.get_piece_size() == 0:
            raise TokenizerError(f"{path} is a SentencePiece model with no pieces")
        self.do_lower_case = bool(do_lower_case)
        self.remove_space = bool(remove_space)
        self.keep_accents = bool(keep_accents)
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        if padding_side not in ("right", "left") or truncation_side not in ("right", "left"):
            raise TokenizerError("padding_side and truncation_side must be 'right' or 'left'")
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.clean_up_tokenization_spaces = bool(clean_up_tokenization_spaces)
        self.num_threads = int(num_threads)
        self.bos_token, self.eos_token, self.unk_token = bos_token, eos_token, unk_token
        self.sep_token, self.pad_token, self.cls_token, self.mask_token = sep_token, pad_token, cls_token, mask_token
        self._special_ids: dict[str, int] = {}
        for name in ("unk_token", "pad_token", "cls_token", "sep_token", "mask_token", "bos_token", "eos_token"):
            token = getattr(self, name)
            token_id = self.sp_model.piece_to_id(token)
            if token_id == self.sp_model.unk_id() and token != unk_token:
                raise TokenizerError(f"{name} {token!r} is not a piece of {path}")
            self._special_ids[token] = token_id
        self._special_pattern = re.compile(
            "(" + "|".join(re.escape(t) for t in sorted(self._special_ids, key=len, reverse=True)) + ")"
        )
        # Chars whose preparation is known to give one char or not (_maps_each_char_to_one's cache).
        self._one_char: set[str] = set()
        self._not_one_char: set[str] = set()
        # Ids whose piece ends in "<digit>,": HF re-splits them so the comma stands alone.
        self._digit_comma_ids = frozenset(
            i for i in range(self.vocab_size) if self._needs_digit_comma_split(self.sp_model.id_to_piece(i))
        )

    # ----- construction / saving ---------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs) -> "AlbertTokenizer":
        """From a folder (spiece.model [+ tokenizer_config.json]), a spiece.model file, or a hub id."""
        from .hub import hub_file_exists, resolve_file

        path = Path(name_or_path)
        if path.is_file():
            return cls(path, **kwargs)
        vocab = resolve_file(name_or_path, VOCAB_FILE)
        settings: dict[str, Any] = {}
        if path.is_dir() and (path / TOKENIZER_CONFIG_FILE).exists() or (
            not path.is_dir() and hub_file_exists(str(name_or_path), TOKENIZER_CONFIG_FILE)
        ):
            config_path = resolve_file(name_or_path, TOKENIZER_CONFIG_FILE)
            try:
                settings = json.loads(Path(config_path).read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise TokenizerError(f"malformed JSON in {config_path}: {exc}") from exc
            if not isinstance(settings, dict):
                raise TokenizerError(f"{config_path} must hold a JSON object")
        known = {
            "do_lower_case", "remove_space", "keep_accents", "bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token", "model_max_length", "padding_side", "truncation_side",
            "clean_up_tokenization_spaces",
        }
        chosen = {}
        for key, value in settings.items():
            if key in known:
                if isinstance(value, dict) and "content" in value:  # a serialized AddedToken
                    value = value["content"]
                chosen[key] = value
        if chosen.get("model_max_length") is not None and chosen["model_max_length"] >= VERY_LARGE_INTEGER:
            chosen["model_max_length"] = None
        return cls(vocab, **{**chosen, **kwargs})

    def _settings(self) -> dict[str, Any]:
        settings = {
            "tokenizer_class": "AlbertTokenizer",
            "do_lower_case": self.do_lower_case,
            "remove_space": self.remove_space,
            "keep_accents": self.keep_accents,
            **self.special_tokens_map,
            "padding_side": self.padding_side,
            "truncation_side": self.truncation_side,
            "clean_up_tokenization_spaces": self.clean_up_tokenization_spaces,
        }
        if self.model_max_length < VERY_LARGE_INTEGER:
            settings["model_max_length"] = self.model_max_length
        return settings

    def save_vocabulary(self, save_directory: str | os.PathLike, filename_prefix: str | None = None) -> tuple[str]:
        """Copy spiece.model into save_directory (atomically); returns its path, as HF does."""
        directory = Path(save_directory)
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(f"save_vocabulary needs a folder, {directory} is a file")
        target = directory / ((filename_prefix + "-" if filename_prefix else "") + VOCAB_FILE)
        if Path(self.vocab_file).resolve() != target.resolve():
            with atomic_file(target, "wb") as handle, open(self.vocab_file, "rb") as src:
                shutil.copyfileobj(src, handle)
        return (str(target),)

    def save_pretrained(self, save_directory: str | os.PathLike) -> tuple[str, ...]:
        """Write spiece.model, tokenizer_config.json and special_tokens_map.json (each atomically)."""
        directory = Path(save_directory)
        (vocab,) = self.save_vocabulary(directory)
        config_path = directory / TOKENIZER_CONFIG_FILE
        atomic_write_text(config_path, json.dumps(self._settings(), indent=2, ensure_ascii=False) + "\n")
        map_path = directory / SPECIAL_TOKENS_MAP_FILE
        atomic_write_text(map_path, json.dumps(self.special_tokens_map, indent=2, ensure_ascii=False) + "\n")
        return (str(config_path), str(map_path), vocab)

    # ----- vocabulary --------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.sp_model.get_piece_size()

    def __len__(self) -> int:
        return self.vocab_size

    def get_vocab(self) -> dict[str, int]:
        return {self.sp_model.id_to_piece(i): i for i in range(self.vocab_size)}

    @property
    def special_tokens_map(self) -> dict[str, str]:
        names = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
        return {name: getattr(self, name) for name in names}

    @property
    def all_special_tokens(self) -> list[str]:
        seen: list[str] = []
        for token in self.special_tokens_map.values():
            if token not in seen:
                seen.append(token)
        return seen

    @property
    def all_special_ids(self) -> list[int]:
        return [self._special_ids[t] for t in self.all_special_tokens]

    def __getattr__(self, name: str):
        # pad_token_id, cls_token_id, ... as HF exposes them.
        if name.endswith("_token_id") and not name.startswith("_"):
            token = self.__dict__.get(name[: -len("_id")])
            if token is not None:
                return self._special_ids[token]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        if isinstance(tokens, str):
            return self._special_ids.get(tokens, self.sp_model.piece_to_id(tokens))
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def _check_ids(self, ids: Sequence[int]) -> list[int]:
        out = []
        for i in ids:
            if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
                raise TokenizerError(f"token ids must be integers, got {i!r}")
            if not 0 <= int(i) < self.vocab_size:
                raise TokenizerError(f"token id {int(i)} is out of the vocabulary range [0, {self.vocab_size})")
            out.append(int(i))
        return out

    def convert_ids_to_tokens(self, ids: int | Sequence[int], skip_special_tokens: bool = False) -> str | list[str]:
        if isinstance(ids, (int, np.integer)) and not isinstance(ids, (bool, np.bool_)):
            return self.sp_model.id_to_piece(self._check_ids([ids])[0])
        special = set(self.all_special_ids) if skip_special_tokens else set()
        return [self.sp_model.id_to_piece(i) for i in self._check_ids(_flat_ids(ids)) if i not in special]

    # ----- tokenising --------------------------------------------------------------------------
    @staticmethod
    def _needs_digit_comma_split(piece: str) -> bool:
        return len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit()

    def _split_special(self, text: str) -> list[tuple[str, int, bool]]:
        """(chunk, start offset, is_special) pieces of text; [MASK] eats whitespace on its left."""
        parts: list[tuple[str, int, bool]] = []
        pos = 0
        for match in self._special_pattern.finditer(text):
            if match.start() > pos:
                parts.append((text[pos : match.start()], pos, False))
            parts.append((match.group(0), match.start(), True))
            pos = match.end()
        if pos < len(text):
            parts.append((text[pos:], pos, False))
        for i, (chunk, start, special) in enumerate(parts):
            if special and chunk == self.mask_token and i > 0 and not parts[i - 1][2]:
                left, left_start, _ = parts[i - 1]
                stripped = left.rstrip()
                parts[i - 1] = (stripped, left_start, False)
        return [p for p in parts if p[0]]

    def _prepare(self, chunk: str) -> str:
        lowered = lower_each_char(chunk) if self.do_lower_case else chunk
        return preprocess_text(lowered, self.do_lower_case, self.remove_space, self.keep_accents)

    def _fix_digit_comma(self, pieces: list[str]) -> list[str]:
        out: list[str] = []
        for piece in pieces:
            if self._needs_digit_comma_split(piece):
                sub = self.sp_model.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
                if piece[0] != SPIECE_UNDERLINE and sub and sub[0][0] == SPIECE_UNDERLINE:
                    if len(sub[0]) == 1:
                        sub = sub[1:]
                    else:
                        sub[0] = sub[0][1:]
                out.extend(sub)
                out.append(piece[-1])
            else:
                out.append(piece)
        return out

    def _encode_texts(self, texts: list[str]) -> list[list[int]]:
        """Ids (no special tokens added) of many texts: one threaded sentencepiece call."""
        split = [self._split_special(t) for t in texts]
        plain = [self._prepare(chunk) for parts in split for chunk, _, special in parts if not special]
        encoded = iter(self.sp_model.encode(plain, out_type=int, num_threads=self.num_threads) if plain else [])
        unk = self.sp_model.unk_id()
        results = []
        for parts in split:
            ids: list[int] = []
            for chunk, _, special in parts:
                if special:
                    ids.append(self._special_ids[chunk])
                    continue
                chunk_ids = next(encoded)
                if unk in chunk_ids or not self._digit_comma_ids.isdisjoint(chunk_ids):
                    # Rare path: work on the piece strings, exactly as HF does.
                    pieces = self._fix_digit_comma(self.sp_model.encode(self._prepare(chunk), out_type=str))
                    chunk_ids = [self.sp_model.piece_to_id(p) for p in pieces]
                ids.extend(chunk_ids)
            results.append(ids)
        return results

    def _encode_with_offsets(self, texts: list[str], fast: bool = True) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """Ids and (begin, end) offsets (no special tokens added) of many texts.

        Most chunks go through the vectorised path (_one_char_chunk_offsets); the others, and any
        whose pieces do not spell its prepared text, through _append_chunk_exact. fast=False sends
        every chunk there: the reference the tests hold the fast path to.
        """
        split = [self._split_special(t) for t in texts]
        fast_chunks = self._one_char_chunk_offsets(split) if fast and self.remove_space else {}
        results = []
        for text_index, (text, parts) in enumerate(zip(texts, split)):
            ids: list[int] = []
            offsets: list[tuple[int, int]] = []
            for part_index, (chunk, start, special) in enumerate(parts):
                if special:
                    ids.append(self._special_ids[chunk])
                    begin = start
                    if chunk == self.mask_token:  # it ate the whitespace on its left
                        while begin > 0 and text[begin - 1].isspace():
                            begin -= 1
                    offsets.append((begin, start + len(chunk)))
                    continue
                done = fast_chunks.get((text_index, part_index))
                if done is None:
                    self._append_chunk_exact(chunk, start, ids, offsets)
                    continue
                chunk_ids, spans, pieces = done
                if pieces is None and (not offsets or (spans[0][0] >= offsets[-1][0] and spans[0][1] >= offsets[-1][1])):
                    ids.extend(chunk_ids)  # a chunk's own spans already run in order
                    offsets.extend(spans)
                else:
                    pieces = pieces or [self._piece_tables[0][i] for i in chunk_ids]
                    self._append_pieces(ids, offsets, zip(chunk_ids, pieces, spans))
            results.append((ids, offsets))
        return results

    def _append_chunk_exact(self, chunk: str, start: int, ids: list[int], offsets: list[tuple[int, int]]) -> None:
        """Append the ids and offsets of one chunk from its per-character alignment (any text)."""
        prepared, src, dummy = aligned_preprocess(chunk, self.do_lower_case, self.remove_space, self.keep_accents)
        if not prepared:
            return
        found = pieces_with_sources(self.sp_model, prepared, src, dummy, strip_marks=not self.keep_accents)
        self._append_pieces(ids, offsets, ((i, piece, (lo + start, hi + start)) for i, piece, (lo, hi) in found))

    def _append_pieces(self, ids: list[int], offsets: list[tuple[int, int]], pieces) -> None:
        """Append (id, piece, span) triples: each span kept in order with the one before (a stripped
        mark can feed a piece of its own), a "<digit>," piece split so the comma stands alone."""
        for piece_id, piece, span in pieces:
            if offsets:
                span = (max(span[0], offsets[-1][0]), max(span[1], offsets[-1][1]))
            if self._needs_digit_comma_split(piece):
                for sub_piece, sub_span in self._split_digit_comma_with_spans(piece, span):
                    ids.append(self.sp_model.piece_to_id(sub_piece))
                    offsets.append(sub_span)
            else:
                ids.append(piece_id)
                offsets.append(span)

    @functools.cached_property
    def _piece_tables(self) -> tuple[list[str], np.ndarray]:
        """Every id's piece and its length in chars (built on first use of the offsets path)."""
        pieces = [self.sp_model.id_to_piece(i) for i in range(self.vocab_size)]
        return pieces, np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))

    def _maps_each_char_to_one(self, chunk: str) -> bool:
        """Whether preparing chunk (beyond collapsing whitespace) turns each char into one char that
        is neither whitespace nor a nonspacing mark, wherever it stands; decided per distinct char."""
        chars = set(chunk)
        for ch in chars - self._one_char - self._not_one_char:
            out = ch.lower() if self.do_lower_case else ch
            if not self.keep_accents:
                out = "".join(p for p in unicodedata.normalize("NFKD", out) if not unicodedata.combining(p))
            context_free = "\u03a3" not in out  # capital sigma lower-cases by context (final sigma)
            out = out.lower() if self.do_lower_case else out
            if ch.isspace() or (context_free and len(out) == 1 and not out.isspace() and unicodedata.category(out) != "Mn"):
                self._one_char.add(ch)
            else:
                self._not_one_char.add(ch)
        return chars.isdisjoint(self._not_one_char)

    def _one_char_chunk_offsets(self, split: list[list[tuple[str, int, bool]]]) -> dict:
        """{(text index, part index): (ids, spans, pieces)} for the chunks of a batch whose
        preparation maps chars one to one (ASCII without `` or '' pairs, and most other text).

        One threaded sentencepiece call encodes them all; a chunk is kept when its pieces spell
        "▁" + its prepared text with "▁" for " " (sentencepiece's normaliser changed nothing), so
        its spans follow from piece lengths (tokenizer_offsets.piece_spans). pieces is None unless
        the chunk needs the per-piece step: its piece strings where it has a "<digit>," piece to
        split (the vocabulary's) or an unknown piece (sentencepiece's surface text).
        """
        keys, chunks, prepared, starts = [], [], [], []
        for text_index, parts in enumerate(split):
            for part_index, (chunk, start, special) in enumerate(parts):
                if special or "``" in chunk or "''" in chunk:
                    continue
                words = " ".join(chunk.split())
                if not words:
                    continue
                if chunk.isascii():
                    text = words.lower() if self.do_lower_case else words
                elif self._maps_each_char_to_one(chunk):
                    text = self._prepare(chunk)
                else:
                    continue
                keys.append((text_index, part_index))
                chunks.append(chunk)
                prepared.append(text)
                starts.append(start)
        if not keys:
            return {}
        encoded = self.sp_model.encode(prepared, out_type=int, num_threads=self.num_threads)
        vocab, vocab_lengths = self._piece_tables
        unk = self.sp_model.unk_id()
        kept, surfaces = [], {}
        for k, (chunk_ids, text) in enumerate(zip(encoded, prepared)):
            if unk in chunk_ids:  # an unknown piece's text is its surface, not "<unk>"
                pieces = surfaces[k] = self.sp_model.encode(text, out_type=str)
            else:
                pieces = map(vocab.__getitem__, chunk_ids)
            if "".join(pieces) == SPIECE_UNDERLINE + text.replace(" ", SPIECE_UNDERLINE):
                kept.append(k)
            else:
                surfaces.pop(k, None)
        if not kept:
            return {}
        counts = np.fromiter((len(encoded[k]) for k in kept), dtype=np.int64, count=len(kept))
        flat = np.fromiter(itertools.chain.from_iterable(encoded[k] for k in kept), dtype=np.int64, count=int(counts.sum()))
        lengths = vocab_lengths[flat]
        if surfaces:
            position = dict(zip(kept, (np.cumsum(counts) - counts).tolist()))
            for k, pieces in surfaces.items():
                lengths[position[k] : position[k] + len(pieces)] = [len(p) for p in pieces]
        src, dummy, begins = one_char_alignment([chunks[k] for k in kept])
        prepared_sizes = np.fromiter((len(prepared[k]) for k in kept), dtype=np.int64, count=len(kept))
        shift = np.fromiter((starts[k] for k in kept), dtype=np.int64, count=len(kept)) - begins
        lo, hi = piece_spans(lengths, counts, prepared_sizes, src, dummy, shift)
        spans = list(zip(lo.tolist(), hi.tolist()))
        out, position = {}, 0
        for k, n in zip(kept, counts.tolist()):
            chunk_ids = encoded[k]
            pieces = surfaces.get(k)
            if pieces is None and not self._digit_comma_ids.isdisjoint(chunk_ids):
                pieces = [vocab[i] for i in chunk_ids]
            out[keys[k]] = (chunk_ids, spans[position : position + n], pieces)
            position += n
        return out

    def _split_digit_comma_with_spans(self, piece: str, span: tuple[int, int]):
        sub = self._fix_digit_comma([piece])
        comma = (max(span[0], span[1] - 1), span[1])
        body = (span[0], comma[0])
        out = [(p, body) for p in sub[:-1]]
        out.append((sub[-1], comma))
        return out

    def tokenize(self, text: str) -> list[str]:
        """The pieces of text (no special tokens added), as HF's tokenize."""
        _check_text(text)
        return [self.sp_model.id_to_piece(i) for i in self._encode_texts([text])[0]]

    def encode(self, text: str, text_pair: str | None = None, add_special_tokens: bool = True, **kwargs) -> list[int]:
        return self(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)["input_ids"]

    # ----- special tokens ----------------------------------------------------------------------
    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        if token_ids_1 is None:
            return cls + list(token_ids_0) + sep
        return cls + list(token_ids_0) + sep + list(token_ids_1) + sep

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            if token_ids_1 is not None:
                raise TokenizerError("with already_has_special_tokens=True pass one list of ids (no pair)")
            special = set(self.all_special_ids)
            return [1 if i in special else 0 for i in token_ids_0]
        if token_ids_1 is None:
            return [1] + [0] * len(token_ids_0) + [1]
        return [1] + [0] * len(token_ids_0) + [1] + [0] * len(token_ids_1) + [1]

    def create_token_type_ids_from_sequences(self, token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
        first = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is None:
            return first
        return first + [1] * (len(token_ids_1) + 1)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 3 if pair else 2

    # ----- __call__ ----------------------------------------------------------------------------
    def __call__(
        self,
        text: str | Sequence[str] | Sequence[tuple[str, str]],
        text_pair: str | Sequence[str] | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
    ) -> BatchEncoding:
        batched, firsts, seconds = _normalise_inputs(text, text_pair)
        padding_strategy, truncation_strategy, max_length = self._strategies(padding, truncation, max_length)
        if pad_to_multiple_of is not None and (not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1):
            raise TokenizerError(f"pad_to_multiple_of must be a positive int, got {pad_to_multiple_of!r}")

        if return_offsets_mapping:
            encoded = self._encode_with_offsets(firsts + (seconds or []))
            encoded_first = encoded[: len(firsts)]
            encoded_second = encoded[len(firsts) :] if seconds is not None else None
        else:
            all_ids = self._encode_texts(firsts + (seconds or []))
            encoded_first = [(ids, None) for ids in all_ids[: len(firsts)]]
            encoded_second = [(ids, None) for ids in all_ids[len(firsts) :]] if seconds is not None else None

        rows = []
        for i, (ids, offs) in enumerate(encoded_first):
            pair_ids, pair_offs = encoded_second[i] if encoded_second is not None else (None, None)
            rows.append(
                self._assemble(ids, offs, pair_ids, pair_offs, add_special_tokens, truncation_strategy, max_length, i if batched else None)
            )

        if padding_strategy == "longest":
            target = max(len(r["input_ids"]) for r in rows)
        elif padding_strategy == "max_length":
            target = max_length
        else:
            target = None
        if target is not None and pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        want_types = True if return_token_type_ids is None else return_token_type_ids
        want_mask = True if return_attention_mask is None else return_attention_mask
        for row in rows:
            row["attention_mask"] = [1] * len(row["input_ids"])
            if target is not None and len(row["input_ids"]) < target:
                self._pad(row, target - len(row["input_ids"]))
            if return_length:
                row["length"] = sum(row["attention_mask"])
            if not want_types:
                row.pop("token_type_ids")
            if not want_mask:
                row.pop("attention_mask")
            if not return_special_tokens_mask:
                row.pop("special_tokens_mask")
            if not return_offsets_mapping:
                row.pop("offset_mapping")

        keys = list(rows[0].keys())
        if batched:
            out = BatchEncoding({k: [r[k] for r in rows] for k in keys})
        else:
            out = BatchEncoding(rows[0])
        return out.convert_to_tensors(return_tensors, prepend_batch_axis=not batched)

    def _strategies(self, padding, truncation, max_length):
        if padding is True:
            padding = "longest"
        elif padding is False or padding is None:
            padding = "do_not_pad"
        if padding not in _PADDING:
            raise TokenizerError(f"unknown padding {padding!r}; use True/'longest', 'max_length' or False")
        if truncation is None:
            truncation = "longest_first" if max_length is not None else "do_not_truncate"
        elif truncation is True:
            truncation = "longest_first"
        elif truncation is False:
            truncation = "do_not_truncate"
        if truncation not in _TRUNCATION:
            raise TokenizerError(f"unknown truncation {truncation!r}; use one of {', '.join(_TRUNCATION)}")
        if max_length is None and (padding == "max_length" or truncation != "do_not_truncate"):
            max_length = self.model_max_length
            if max_length >= VERY_LARGE_INTEGER:
                if padding == "max_length":
                    raise TokenizerError("padding='max_length' needs max_length (this tokenizer has no model_max_length)")
                truncation = "do_not_truncate"
        if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 0):
            raise TokenizerError(f"max_length must be a non-negative int, got {max_length!r}")
        return padding, truncation, max_length

    def _assemble(self, ids, offs, pair_ids, pair_offs, add_special_tokens, truncation, max_length, batch_index):
        where = "" if batch_index is None else f" (batch item {batch_index})"
        pair = pair_ids is not None
        n_special = self.num_special_tokens_to_add(pair) if add_special_tokens else 0
        total = len(ids) + (len(pair_ids) if pair else 0) + n_special
        if truncation != "do_not_truncate" and max_length is not None and total > max_length:
            if max_length < n_special:
                raise TokenizerError(
                    f"max_length={max_length} is smaller than the {n_special} special tokens a "
                    f"{'pair' if pair else 'sequence'} needs{where}"
                )
            remove = total - max_length
            ids, offs, pair_ids, pair_offs = self._truncate(ids, offs, pair_ids, pair_offs, remove, truncation, max_length, where)
        if add_special_tokens:
            input_ids = self.build_inputs_with_special_tokens(ids, pair_ids)
            types = self.create_token_type_ids_from_sequences(ids, pair_ids)
            special = self.get_special_tokens_mask(ids, pair_ids)
            offsets = None
            if offs is not None:
                offsets = [(0, 0)] + list(offs) + [(0, 0)] + ((list(pair_offs) + [(0, 0)]) if pair else [])
        else:
            input_ids = list(ids) + (list(pair_ids) if pair else [])
            types = [0] * len(ids) + ([1] * len(pair_ids) if pair else [])
            special = [0] * len(input_ids)
            offsets = None if offs is None else list(offs) + (list(pair_offs) if pair else [])
        return {
            "input_ids": input_ids,
            "token_type_ids": types,
            "special_tokens_mask": special,
            "offset_mapping": offsets,
        }

    def _truncate(self, ids, offs, pair_ids, pair_offs, remove, strategy, max_length, where):
        def cut(seq, n):
            if seq is None or n <= 0:
                return seq
            return seq[:-n] if self.truncation_side == "right" else seq[n:]

        if strategy == "only_first" or (strategy == "longest_first" and pair_ids is None):
            if len(ids) <= remove:
                raise TokenizerError(
                    f"cannot truncate to max_length={max_length}: {remove} tokens must go but the first "
                    f"sequence has only {len(ids)}{where}; use a larger max_length or another truncation strategy"
                )
            return cut(ids, remove), cut(offs, remove), pair_ids, pair_offs
        if strategy == "only_second":
            if pair_ids is None or len(pair_ids) <= remove:
                have = 0 if pair_ids is None else len(pair_ids)
                raise TokenizerError(
                    f"cannot truncate to max_length={max_length}: {remove} tokens must go but the second "
                    f"sequence has only {have}{where}; use a larger max_length or another truncation strategy"
                )
            return ids, offs, cut(pair_ids, remove), cut(pair_offs, remove)
        # longest_first on a pair: HF's arithmetic (remove the difference from the longer, then split).
        first_remove = min(abs(len(pair_ids) - len(ids)), remove)
        second_remove = remove - first_remove
        if len(ids) > len(pair_ids):
            from_ids = first_remove + second_remove // 2
            from_pair = second_remove - second_remove // 2
        else:
            from_ids = second_remove // 2
            from_pair = first_remove + second_remove - second_remove // 2
        if from_ids > len(ids) or from_pair > len(pair_ids):
            raise TokenizerError(f"the pair cannot fit in max_length={max_length}{where}")
        return cut(ids, from_ids), cut(offs, from_ids), cut(pair_ids, from_pair), cut(pair_offs, from_pair)

    def _pad(self, row: dict, n: int) -> None:
        fills = {
            "input_ids": self.pad_token_id,
            "token_type_ids": 0,
            "special_tokens_mask": 1,
            "attention_mask": 0,
            "offset_mapping": (0, 0),
        }
        for key, fill in fills.items():
            if row.get(key) is None:
                continue
            row[key] = row[key] + [fill] * n if self.padding_side == "right" else [fill] * n + row[key]

    # ----- decoding ----------------------------------------------------------------------------
    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """HF AlbertTokenizer.convert_tokens_to_string: sentencepiece decode around special tokens."""
        special = set(self.all_special_tokens)
        current: list[str] = []
        out = ""
        prev_is_special = False
        for token in tokens:
            if token in special:
                if not prev_is_special:
                    out += " "
                out += self.sp_model.decode(current) + token
                prev_is_special = True
                current = []
            else:
                current.append(token)
                prev_is_special = False
        out += self.sp_model.decode(current)
        return out.strip()

    def decode(
        self, token_ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None
    ) -> str:
        tokens = self.convert_ids_to_tokens(_flat_ids(token_ids), skip_special_tokens=skip_special_tokens)
        text = self.convert_tokens_to_string(tokens)
        clean = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        return _clean_up_tokenization(text) if clean else text

    def batch_decode(self, sequences, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None) -> list[str]:
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces) for s in _to_list(sequences)]


# HF's fast class name: the same tokenizer (offsets included), for code written against it.
AlbertTokenizerFast = AlbertTokenizer


def _clean_up_tokenization(text: str) -> str:
    for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                          (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(before, after)
    return text


def _to_list(x) -> list:
    if hasattr(x, "tolist"):
        return x.tolist()
    if hasattr(x, "numpy"):
        return x.numpy().tolist()
    return list(x)


def _flat_ids(ids) -> list:
    ids = _to_list(ids) if not isinstance(ids, list) else ids
    if ids and isinstance(ids[0], list):
        if len(ids) != 1:
            raise TokenizerError("decode takes one sequence of ids; use batch_decode for several")
        ids = ids[0]
    return ids


def _check_text(text) -> None:
    if not isinstance(text, str):
        raise TokenizerError(f"text must be a str, got {type(text).__name__}")
    if not text.isascii():
        # A lone surrogate (bytes decoded with errors="surrogateescape") is no Unicode text;
        # sentencepiece would fail on it with a C++ cast error.
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise TokenizerError(
                f"text holds the lone surrogate {text[exc.start]!r} at index {exc.start}, which is not valid "
                "Unicode (decode bytes with errors='replace' instead of 'surrogateescape')"
            ) from None


def _normalise_inputs(text, text_pair):
    """(batched, first texts, second texts or None) from HF's accepted input forms."""
    if isinstance(text, str):
        _check_text(text)
        if text_pair is not None and not isinstance(text_pair, str):
            raise TokenizerError("text is a single string, so text_pair must be a single string too")
        if text_pair is not None:
            _check_text(text_pair)
        return False, [text], None if text_pair is None else [text_pair]
    if not isinstance(text, (list, tuple)):
        raise TokenizerError(f"text must be a str or a list of str (or of (str, str) pairs), got {type(text).__name__}")
    if not text:
        raise TokenizerError("empty batch: pass at least one text")
    if text_pair is None and all(isinstance(t, (list, tuple)) for t in text):
        if any(len(t) != 2 for t in text):
            raise TokenizerError("a batch of pairs must hold (text, text_pair) tuples of two strings")
        firsts, seconds = [t[0] for t in text], [t[1] for t in text]
    else:
        firsts, seconds = list(text), None if text_pair is None else list(text_pair)
        if seconds is not None and len(seconds) != len(firsts):
            raise TokenizerError(f"text has {len(firsts)} items but text_pair has {len(seconds)}")
    for t in firsts + (seconds or []):
        _check_text(t)
    return True, firsts, seconds
