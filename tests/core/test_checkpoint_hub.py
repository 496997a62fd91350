"""Hub ids resolve through huggingface_hub's standard cache, offline.

The test builds a cache folder in the layout huggingface_hub (and so transformers) leaves behind:
models--{org}--{name}/blobs/<sha256>, snapshots/<commit>/<file> -> ../../blobs/<sha256>,
refs/main = <commit>. A separate process with HF_HUB_CACHE pointing there and HF_HUB_OFFLINE=1
then loads by hub id, as a user with a warm cache and no network would.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from albert_core.checkpoint import load_checkpoint, save_checkpoint

from .checkpoint_helpers import HF_TINY, state_digest

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def add_to_cache(cache: Path, repo_id: str, files: dict[str, Path]) -> None:
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, source in files.items():
        data = source.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / name).symlink_to(os.path.relpath(blob, snapshot))


def load_offline(cache: Path, hub_id: str) -> dict:
    """Run load_checkpoint(hub_id) in a fresh process with the cache and offline mode set."""
    code = f"""
import json
from albert_core.checkpoint import load_checkpoint
from tests.core.checkpoint_helpers import state_digest
try:
    config, state = load_checkpoint({hub_id!r})
    print(json.dumps({{"names": sorted(state), "vocab": config.vocab_size, "source": state.source,
                      "digest": state_digest(state)}}))
except Exception as exc:
    print(json.dumps({{"error": type(exc).__name__ + ": " + str(exc)}}))
"""
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "HF_HOME": str(cache.parent / "hf_home")}
    root = str(Path(__file__).resolve().parents[2])  # so the child imports tests.core.checkpoint_helpers
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_hub_id_loads_offline_from_the_standard_cache(tmp_path):
    folder = HF_TINY / "tiny" / "masked_lm"
    cache = tmp_path / "hub"
    add_to_cache(cache, "albert/albert-tiny", {"config.json": folder / "config.json", "model.safetensors": folder / "model.safetensors"})
    _, want = load_checkpoint(folder)
    got = load_offline(cache, "albert/albert-tiny")
    assert "error" not in got, got["error"]
    assert got["names"] == sorted(want) and got["vocab"] == 128
    assert got["digest"] == state_digest(want)  # the same bits
    assert f"snapshots/{COMMIT}/model.safetensors" in got["source"]


def test_hub_cache_with_only_the_flax_file_and_a_sharded_repo(tmp_path):
    folder = HF_TINY / "tiny-g2k2" / "pretraining"
    cache = tmp_path / "hub"
    add_to_cache(cache, "someone/albert-flax", {"config.json": folder / "config.json", "flax_model.msgpack": folder / "flax_model.msgpack"})
    config, state = load_checkpoint(folder)
    save_checkpoint(tmp_path / "sharded", config, state, max_shard_size=50_000)
    shards = {p.name: p for p in (tmp_path / "sharded").iterdir()}
    add_to_cache(cache, "someone/albert-sharded", shards)
    for hub_id in ("someone/albert-flax", "someone/albert-sharded"):
        got = load_offline(cache, hub_id)
        assert "error" not in got, got["error"]
        assert got["names"] == sorted(state) and got["digest"] == state_digest(state)


def test_a_repo_absent_from_the_cache_fails_clearly_offline(tmp_path):
    got = load_offline(tmp_path / "empty-cache", "albert/not-downloaded")
    assert got["error"].startswith("FileNotFoundError")
    assert "'albert/not-downloaded'" in got["error"] and "config.json" in got["error"]
