"""`albert bench`'s framework-free rows on tiny inputs: tokenizer throughput (ours, and HF's where
transformers is installed) and checkpoint load / convert against a plain read of the same file;
and benchmarks/bench_checkpoint_load.py, now a wrapper of the same code, still printing its table.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from albert_core.bench.checkpoint_bench import build_checkpoint
from albert_core.bench.runner import run_child
from albert_core.bench.tokenizer_bench import SPIECE_MODEL, available_texts
from albert_core.bench.tools import ToolSpec, run_tool
from albert_core.tokenizer import AlbertTokenizer

ROOT = Path(__file__).resolve().parents[2]
TINY = {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64, "num_hidden_layers": 1, "vocab_size": 500,
        "embedding_size": 16}


def test_tokenizer_row_times_every_tokenizer_on_the_same_texts():
    result = run_tool(ToolSpec("tokenizer", repeats=2, texts=40))
    texts, source = available_texts(40)
    assert result.error is None and result.info["texts"] == len(texts) == 40 and result.info["source"] == source
    assert result.info["tokens"] == sum(len(ids) for ids in AlbertTokenizer(SPIECE_MODEL)(texts)["input_ids"])
    names = [c.name for c in result.candidates]
    assert names[:2] == ["albert AlbertTokenizer", "albert AlbertTokenizer (offsets)"]
    if importlib.util.find_spec("transformers"):
        assert names[2:] == ["HF AlbertTokenizer (slow)", "HF AlbertTokenizerFast", "HF AlbertTokenizerFast (offsets)"]
        assert result.notes == ""
    else:
        assert len(names) == 2 and "transformers not installed" in result.notes
    assert all(len(c.times_s) == 2 and min(c.times_s) > 0 for c in result.candidates)


def test_checkpoint_row_through_a_child_compares_loads_and_converts_with_a_plain_read(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    result = run_child(ToolSpec("checkpoint", repeats=1, model=str(config)), timeout=120)
    assert result.error is None, result.error
    names = [c.name for c in result.candidates]
    targets = ["safetensors"] + [t for t, m in (("hf-flax", "msgpack"), ("hf-tf", "h5py")) if importlib.util.find_spec(m)]
    assert names == ["plain file read", "safetensors.numpy.load_file", "albert load_checkpoint",
                     "albert read_safetensors (lazy, untouched)"] + [f"albert convert --to {t}" for t in targets]
    assert all(len(c.times_s) == 1 and len(c.peaks_mib) == 1 for c in result.candidates)
    build_checkpoint(tmp_path / "same", str(config))  # the same seed and shape: the size the row read
    assert result.info["file_mib"] == (tmp_path / "same" / "model.safetensors").stat().st_size / 2**20


def test_bench_checkpoint_load_script_keeps_its_table(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    build_checkpoint(tmp_path / "ckpt", str(config))
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/bench_checkpoint_load.py"), "--folder", str(tmp_path / "ckpt"), "--repeats", "1",
         "--json", str(tmp_path / "out.json")],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1] == "| candidate | median s | × load_file | peak RSS MiB | × | peak over pre-load RSS MiB | × |"
    assert [line.split(" | ")[0] for line in lines[3:]] == [
        "| safetensors.numpy.load_file", "| albert load_checkpoint", "| albert read_safetensors (lazy, untouched)"
    ]
    saved = json.loads((tmp_path / "out.json").read_text())
    assert [r["candidate"] for r in saved["rows"]] == ["safetensors.numpy.load_file", "albert load_checkpoint",
                                                      "albert read_safetensors (lazy, untouched)"]
