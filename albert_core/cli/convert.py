"""`albert convert SRC DST [--to FORMAT] [--dtype DTYPE]`: move weights between checkpoint formats.

    albert convert model.ckpt-125000 out/ --to safetensors           # google-research TF1 in
    albert convert hf_folder/ out_tf/ --to hf-tf                      # a folder HF's TF classes load
    albert convert big/ out/ --to safetensors --max-shard-size 2GB     # sharded as HF shards

SRC is anything albert_core reads (HF safetensors / pytorch_model.bin / tf_model.h5 /
flax_model.msgpack, sharded or not, TF1 google-research checkpoints, keras-hub presets, hub ids).
DST is a folder: config.json plus the weights in the target format only, so the next reader
cannot pick another file. The weights are checked against the config's schema before anything
is written (wrong shapes, missing tensors: all named), the folder is built beside DST and swapped
in whole, and before the swap it is read back and compared tensor by tensor (bytes, dtype, shape)
with what was meant to be written. A failure at any point leaves no DST behind (and an existing
DST, with --overwrite, as it was); the source is only read.

Memory: the source is memory-mapped where its format allows (safetensors, flax_model.msgpack, TF1
checkpoints; kernels stay transposed views, hashed in row blocks); the written state is
summarised by a digest per tensor and released before the read-back, so the peak is about one
copy of the checkpoint (docs/bench_convert.md).
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import mmap
import re
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from ..atomic import atomic_folder
from ..checkpoint import infer_head, load_checkpoint, match_state
from ..checkpoint.blocks import c_order_blocks
from ..checkpoint.state import POOLER_PREFIX
from ..config import CONFIG_NAME, AlbertConfig
from ..errors import AlbertError, CheckpointError, MissingDependencyError
from ..schema import ARCHITECTURES, Head
from .source import FORMAT_NAMES, Source, resolve_source


class ConvertError(AlbertError, ValueError):
    """A conversion that cannot be done as asked (destination exists, inside the source, ...)."""


# --to name -> (the file written, the package its writer needs beyond numpy).
TARGETS = {
    "safetensors": ("model.safetensors", None),
    "hf-torch": ("pytorch_model.bin", "torch"),
    "hf-tf": ("tf_model.h5", "h5py"),
    "hf-flax": ("flax_model.msgpack", "msgpack"),
}
DTYPES = ("float32", "float16", "bfloat16")
# Tokenizer files a model folder carries; copied along so the converted folder stays usable.
TOKENIZER_FILES = ("spiece.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
PROGRESS_MIN_BYTES = 64 << 20  # smaller checkpoints convert in about a second: no bar


@dataclass
class TensorDigest:
    dtype: str
    shape: tuple[int, ...]
    digest: str


@dataclass
class ConvertReport:
    source: Source
    destination: Path
    target: str
    head: Head
    tensors: int = 0
    nbytes: int = 0
    dtypes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # keys of the source holding no weights
    dropped: list[str] = field(default_factory=list)  # tensors of the source the head has no place for
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"read    {self.source.path} ({self.source.format_name})"
            + (f"; also present, not read: {', '.join(self.source.others)}" if self.source.others else ""),
            f"wrote   {self.destination} ({self.target}: {', '.join(self.files)}), {ARCHITECTURES[self.head]}, "
            f"{self.tensors} tensors, {_size(self.nbytes)}, {'/'.join(self.dtypes)}",
        ]
        if self.dropped:
            lines.append(f"dropped {', '.join(self.dropped)} ({ARCHITECTURES[self.head]} has no place for them)")
        if self.skipped:
            kinds = sorted(set(self.skipped.values()))
            shown = "; ".join(kinds[:3]) + ("; ..." if len(kinds) > 3 else "")
            lines.append(f"skipped {len(self.skipped)} key(s) of the source holding no weights: {shown}")
        lines.append(f"checked {self.destination} reads back to the same {self.tensors} tensors, bit for bit")
        return "\n".join(lines)


def _size(nbytes: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if nbytes < 1000 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    raise AssertionError


def parse_size(text: str) -> int:
    """"500MB", "2GB", "1.5GiB" or a number of bytes -> bytes."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([kKmMgG]?)(i?)[bB]?\s*", text)
    if not match:
        raise ConvertError(f"cannot read the size {text!r}; write e.g. 500MB, 2GB or a number of bytes")
    number, prefix, binary = float(match.group(1)), match.group(2).upper(), match.group(3)
    power = {"": 0, "K": 1, "M": 2, "G": 3}[prefix]
    return int(number * (1024 if binary else 1000) ** power)


def digest(array: np.ndarray) -> TensorDigest:
    """What the read-back compares: dtype, shape, and a hash of the bytes (C order, little-endian)."""
    array = np.asarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    hasher = hashlib.blake2b(digest_size=16)
    for block in c_order_blocks(array):  # a transposed view (Flax, TF1 kernels) hashed without a copy
        hasher.update(block)
    return TensorDigest(array.dtype.name, tuple(array.shape), hasher.hexdigest())


class _WriteProgress:
    """A byte progress bar for the writers (which write whole files): a thread watches the files
    growing in the temp folder. Silent for small checkpoints, with --quiet, and off a terminal."""

    def __init__(self, folder: Path, total: int, enabled: bool):
        self.folder, self.total = folder, total
        self.enabled = enabled and total >= PROGRESS_MIN_BYTES
        self._stop = threading.Event()

    def _written(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    def _watch(self, bar) -> None:
        while not self._stop.wait(0.25):
            try:
                bar.n = min(self._written(), self.total)
            except OSError:  # a temp file renamed under us
                continue
            bar.refresh()

    def __enter__(self):
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, unit="B", unit_scale=True, desc="write", file=sys.stderr)
            self._thread = threading.Thread(target=self._watch, args=(self._bar,), daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._stop.set()
            self._thread.join()
            self._bar.n = self.total if exc[0] is None else self._bar.n
            self._bar.close()
        return False


def _check_destination(source: Source, dst: Path, overwrite: bool) -> None:
    if dst.exists() and not dst.is_dir():
        raise ConvertError(f"destination {dst} exists and is a file; DST is a folder")
    if dst.exists() and not overwrite:
        raise ConvertError(f"destination {dst} exists; pass --overwrite to replace it")
    if source.format is not None:
        src = Path(source.path).resolve()
        if dst.resolve() == src or dst.resolve() in src.parents:
            raise ConvertError(f"destination {dst} holds the source {source.path}; convert into another folder")


def _require(module: str, needed_for: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(module, needed_for)


def _source_bytes(source: Source) -> int:
    """The size of the files a source is read from (0 for a hub id, not downloaded yet)."""
    if source.format is None:
        return 0
    path = Path(source.path)
    files = [path] if path.is_file() else list(path.iterdir()) if path.is_dir() else list(path.parent.glob(f"{path.name}.*"))
    return sum(f.stat().st_size for f in files if f.is_file())


def _load(source: Source, config: AlbertConfig | None, head: Head | None, progress: bool):
    """(config, head, canonical state checked against the schema, skipped keys, dropped tensors)."""
    if progress and _source_bytes(source) >= PROGRESS_MIN_BYTES:
        print(f"reading {source.path} ...", file=sys.stderr)
    config, state = load_checkpoint(source.path, config=config)
    explicit = head is not None
    head = head if explicit else infer_head(state, config)
    match = match_state(state, config, head, seed=0)
    if match.initialised:
        raise CheckpointError(
            f"{source.path} lacks {', '.join(match.initialised)}, which {ARCHITECTURES[head]} needs; convert "
            "writes what the checkpoint holds and invents nothing (pass --head to convert another head's part)"
        )
    # A pooler the head has no place for (a keras-hub masked LM keeps its backbone's) is dropped and
    # reported; another head's tensors mean the user must say which head the folder is for.
    foreign = [name for name in match.dropped if not name.startswith(POOLER_PREFIX)]
    if foreign and not explicit:
        raise CheckpointError(
            f"{source.path} holds tensors {ARCHITECTURES[head]} does not use ({', '.join(foreign)}); "
            "pass --head to say which head to keep"
        )
    return config, head, match.state, dict(state.skipped), match.dropped


def _release_pages(array: np.ndarray) -> None:
    """Drop a memory-mapped array's pages from this process's resident set (they stay in the page
    cache and fault back in if read again). Arrays that are not views of an mmap are left alone."""
    base = array
    while isinstance(base, (np.ndarray, memoryview)):  # view -> array -> memoryview -> mmap
        base = base.base if isinstance(base, np.ndarray) else base.obj
    if not isinstance(base, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED") or array.nbytes == 0:
        return
    start = array.__array_interface__["data"][0] - np.frombuffer(base, np.uint8).__array_interface__["data"][0]
    first = start - start % mmap.PAGESIZE
    base.madvise(mmap.MADV_DONTNEED, first, start + array.nbytes - first)


def _cast(state: Mapping[str, np.ndarray], dtype: str | None) -> dict[str, np.ndarray]:
    """The state in `dtype`, cast tensor by tensor; each memory-mapped source tensor's pages are
    given back once it is cast, so the peak is the source plus one tensor, not source + cast copy."""
    if dtype is None:
        return dict(state)
    if dtype == "bfloat16":
        import ml_dtypes

        target = np.dtype(ml_dtypes.bfloat16)
    else:
        target = np.dtype(dtype)
    out = {}
    for name, array in state.items():
        array = np.asarray(array)
        out[name] = array.astype(target, copy=False)
        if out[name] is not array:
            _release_pages(array)
    return out


def _write(folder: Path, config: AlbertConfig, head: Head, state: Mapping[str, np.ndarray], target: str, max_shard_size: int | None) -> None:
    config.save_pretrained(folder)
    file_name = TARGETS[target][0]
    if target == "safetensors":
        from ..checkpoint.safetensors_io import write_safetensors, write_sharded_safetensors

        total = sum(np.asarray(a).nbytes for a in state.values())
        if max_shard_size is not None and total > max_shard_size:
            write_sharded_safetensors(folder, state, max_shard_size, {"format": "pt"})
        else:
            write_safetensors(folder / file_name, state, {"format": "pt"})
    elif target == "hf-torch":
        from ..checkpoint.torch_bin import write_torch_bin

        write_torch_bin(folder / file_name, state)
    elif target == "hf-tf":
        from ..checkpoint.hf_tf_h5 import write_hf_tf_h5

        write_hf_tf_h5(folder / file_name, state, config, head)
    elif target == "hf-flax":
        from ..checkpoint.hf_flax_msgpack import write_hf_flax_msgpack

        write_hf_flax_msgpack(folder / file_name, state, config, head)


def _convert_into(tmp: Path, source: Source, args, report: ConvertReport) -> dict[str, TensorDigest]:
    """Read, check, cast and write into `tmp`; return the digests of what was written. Every array
    lives in this function only, so the source's memory is released when it returns."""
    config = _config_argument(args.config)
    head = Head(args.head) if args.head else None
    config, head, state, skipped, report.dropped = _load(source, config, head, not args.quiet)
    state = _cast(state, args.dtype)
    if args.dtype is not None:
        extra = {**config.extra, "dtype": args.dtype}
        if "torch_dtype" in extra:
            extra["torch_dtype"] = args.dtype
        config = config.replace(extra=extra)
    config = config.replace(architectures=[ARCHITECTURES[head]])
    report.head, report.skipped = head, skipped
    report.tensors = len(state)
    report.nbytes = sum(a.nbytes for a in state.values())
    report.dtypes = sorted({a.dtype.name for a in state.values()})
    max_shard = parse_size(args.max_shard_size) if args.max_shard_size else None
    with _WriteProgress(tmp, report.nbytes, enabled=not args.quiet):
        _write(tmp, config, head, state, args.to, max_shard)
    return {name: digest(array) for name, array in _progress(state.items(), "hash", report, args)}


def _progress(items, desc: str, report: ConvertReport, args):
    if args.quiet or report.nbytes < PROGRESS_MIN_BYTES:
        return items
    from tqdm import tqdm

    return tqdm(list(items), desc=desc, unit="tensor", file=sys.stderr)


def _read_back(tmp: Path, want: dict[str, TensorDigest], report: ConvertReport, args) -> None:
    """DST must read back to exactly the tensors written: same names, dtypes, shapes and bytes."""
    _, state = load_checkpoint(tmp)
    problems = [f"{name} is missing" for name in want if name not in state]
    problems += [f"{name} was not written" for name in state if name not in want]
    for name, array in _progress(state.items(), "check", report, args):
        if name in want:
            got = digest(array)
            if got != want[name]:
                problems.append(f"{name}: wrote {want[name].dtype} {list(want[name].shape)}, read back {got.dtype} {list(got.shape)}"
                                + (" with other values" if (got.dtype, got.shape) == (want[name].dtype, want[name].shape) else ""))
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise CheckpointError(f"the converted checkpoint does not read back as written ({len(problems)} problem(s)): {shown}")


def _config_argument(path: str | None) -> AlbertConfig | None:
    if path is None:
        return None
    if Path(path).name == "albert_config.json":  # google-research's file: its "gelu" is HF's "gelu_new"
        from ..checkpoint.tf1 import config_from_google_json

        return config_from_google_json(path)
    return AlbertConfig.from_pretrained(path)


def _carry_tokenizer(source: Source, folder: Path) -> None:
    if source.format is None:
        return
    where = Path(source.path)
    where = where if where.is_dir() else where.parent
    for name in TOKENIZER_FILES:
        if (where / name).is_file():
            shutil.copy2(where / name, folder / name)


def convert(args) -> ConvertReport:
    dst = Path(args.dst)
    # Everything that can be checked without reading the weights is checked first.
    file_name, package = TARGETS[args.to]
    if package:
        _require(package, f"writing {args.to} ({file_name})")
    if args.dtype == "bfloat16":
        _require("ml_dtypes", "--dtype bfloat16 (numpy's bfloat16)")
        if args.to == "hf-tf":  # h5py stores ml_dtypes' bfloat16 as opaque 2-byte records
            raise ConvertError("HF's tf_model.h5 cannot hold bfloat16 (HDF5 has no such type); use --dtype float16, or another --to")
    if args.max_shard_size and args.to != "safetensors":
        raise ConvertError(f"--max-shard-size applies to --to safetensors, not {args.to}")
    source = resolve_source(args.src, args.source_format)
    _check_destination(source, dst, args.overwrite)
    report = ConvertReport(source, dst, args.to, Head.BASE)
    with atomic_folder(dst, keep_existing=False) as tmp:
        digests = _convert_into(tmp, source, args, report)
        gc.collect()  # the source's arrays (and their memory maps) go before the read-back maps DST
        _read_back(tmp, digests, report, args)
        _carry_tokenizer(source, tmp)
        report.files = sorted(p.name for p in tmp.iterdir() if p.name != CONFIG_NAME)
    return report


def run(args) -> int:
    report = convert(args)
    print(report.summary())
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a checkpoint between formats (safetensors, HF PyTorch/TF/Flax; TF1 and keras-hub in)",
        description="Convert SRC (a checkpoint file, folder, TF1 prefix or hub id) into the folder DST, "
        "holding config.json and the weights in one format. DST is written atomically and read back "
        "before it appears.",
    )
    parser.add_argument("src", help="checkpoint to read: a file, a folder, a TF1 prefix (model.ckpt-N) or a hub id")
    parser.add_argument("dst", help="folder to write (must not exist, unless --overwrite)")
    parser.add_argument("--to", choices=list(TARGETS), default="safetensors", help="format to write (default: safetensors)")
    parser.add_argument("--from", dest="source_format", choices=list(FORMAT_NAMES), help="which checkpoint of a folder to read")
    parser.add_argument("--dtype", choices=DTYPES, help="cast every tensor to this dtype (default: keep)")
    parser.add_argument("--config", help="config.json (or google-research albert_config.json) to use instead of the one beside SRC")
    parser.add_argument("--head", choices=[h.value for h in Head], help="the head to keep (default: the one the weights hold)")
    parser.add_argument("--max-shard-size", help="shard the safetensors output, e.g. 2GB (as HF's save_pretrained)")
    parser.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)
