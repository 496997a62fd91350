"""`albert convert` with the formats that need no framework (safetensors, HF TF h5, HF Flax msgpack,
keras-hub in): round trips bit for bit on every golden fixture, sharding, dtype casts, the
read-back check, and every kind of bad input with the file system left as it was.

The format that needs torch (pytorch_model.bin) and loading the converted folders in HF
transformers are tested in tests/cross/test_cli_convert_hf.py; TF1 checkpoints (read with numpy)
in tests/core/test_checkpoint_tf1_bundle.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from albert_core.checkpoint import load_checkpoint
from albert_core.cli import convert as convert_module
from albert_core.cli import main
from albert_core.errors import MissingDependencyError
from tests.core.checkpoint_helpers import CONFIG_NAMES, FIXTURES, HEADS, HF_TINY, assert_same_state


def albert(*argv: str) -> int:
    return main(["convert", *map(str, argv), "--quiet"])


def tree_digest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder`: equal digests, untouched folder."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_round_trip_through_hf_tf_and_flax_is_bit_identical(tmp_path, config_name, head):
    source = HF_TINY / config_name / head / "model.safetensors"
    before = tree_digest(source.parent)
    assert albert(source, tmp_path / "tf", "--to", "hf-tf") == 0
    assert albert(tmp_path / "tf", tmp_path / "flax", "--to", "hf-flax") == 0
    assert albert(tmp_path / "flax", tmp_path / "back", "--to", "safetensors") == 0
    assert sorted(p.name for p in (tmp_path / "tf").iterdir()) == ["config.json", "tf_model.h5"]
    assert sorted(p.name for p in (tmp_path / "flax").iterdir()) == ["config.json", "flax_model.msgpack"]
    _, want = load_checkpoint(source)
    _, got = load_checkpoint(tmp_path / "back")
    assert_same_state(got, want)  # names, dtypes, bits
    if head != "base":  # HF saves a bare AlbertModel without the `albert.` prefix; heads byte for byte
        assert (tmp_path / "back" / "model.safetensors").read_bytes() == source.read_bytes()
    assert tree_digest(source.parent) == before  # the source is only read
    config = json.loads((tmp_path / "back" / "config.json").read_text())
    assert config == json.loads((source.parent / "config.json").read_text())


def test_prints_what_it_read_wrote_and_checked(tmp_path, capsys):
    source = HF_TINY / "tiny" / "masked_lm"
    assert albert(source / "tf_model.h5", tmp_path / "out") == 0
    out = capsys.readouterr().out
    assert f"read    {source / 'tf_model.h5'} (hf-tf)" in out
    assert "(safetensors: model.safetensors), AlbertForMaskedLM, 28 tensors" in out
    assert "reads back to the same 28 tensors, bit for bit" in out


def test_several_hf_formats_of_one_model_read_in_hf_order_and_from_picks_one(tmp_path, capsys):
    folder = HF_TINY / "tiny" / "base"
    assert albert(folder, tmp_path / "a") == 0
    assert "also present, not read: pytorch_model.bin, tf_model.h5, flax_model.msgpack" in capsys.readouterr().out
    assert albert(folder, tmp_path / "b", "--from", "hf-flax") == 0
    assert f"read    {folder / 'flax_model.msgpack'} (hf-flax)" in capsys.readouterr().out
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_sharded_output_and_sharded_input(tmp_path):
    source = HF_TINY / "tiny-g2k2" / "pretraining"
    assert albert(source / "model.safetensors", tmp_path / "sharded", "--max-shard-size", "40kB") == 0
    files = sorted(p.name for p in (tmp_path / "sharded").iterdir())
    shards = [f for f in files if f.startswith("model-")]
    assert len(shards) >= 3 and "model.safetensors.index.json" in files
    assert all((tmp_path / "sharded" / f).stat().st_size <= 40_000 + 20_000 for f in shards)  # one tensor may exceed
    _, want = load_checkpoint(source / "model.safetensors")
    _, got = load_checkpoint(tmp_path / "sharded")
    assert_same_state(got, want)
    assert albert(tmp_path / "sharded", tmp_path / "single") == 0  # sharded in, one file out
    assert (tmp_path / "single" / "model.safetensors").read_bytes() == (source / "model.safetensors").read_bytes()


def test_dtype_float16_casts_every_tensor_and_says_so_in_the_config(tmp_path):
    source = HF_TINY / "tiny" / "question_answering"
    assert albert(source, tmp_path / "half", "--dtype", "float16", "--to", "hf-flax") == 0
    _, want = load_checkpoint(source / "model.safetensors")
    _, got = load_checkpoint(tmp_path / "half")
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name].dtype == np.float16
        np.testing.assert_array_equal(got[name], want[name].astype(np.float16), err_msg=name)
    assert json.loads((tmp_path / "half" / "config.json").read_text())["dtype"] == "float16"


def test_keras_hub_preset_in(tmp_path, capsys):
    preset = FIXTURES / "keras_hub" / "tiny-g2k2_masked_lm"
    assert albert(preset, tmp_path / "out") == 0
    # keras-hub's masked LM keeps its backbone's pooler; HF's AlbertForMaskedLM has none.
    assert "dropped albert.pooler.weight, albert.pooler.bias (AlbertForMaskedLM has no place for them)" in capsys.readouterr().out
    _, want = load_checkpoint(preset)
    _, got = load_checkpoint(tmp_path / "out")
    assert_same_state(got, {k: v for k, v in want.items() if not k.startswith("albert.pooler.")})
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["architectures"] == ["AlbertForMaskedLM"] and config["mlm_layer_norm_eps"] == 1e-5


def test_tokenizer_files_travel_with_the_weights(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(HF_TINY / "tiny" / "masked_lm", folder)
    shutil.copy(FIXTURES / "spiece" / "spiece.model", folder / "spiece.model")
    assert albert(folder, tmp_path / "out", "--to", "hf-tf") == 0
    assert (tmp_path / "out" / "spiece.model").read_bytes() == (folder / "spiece.model").read_bytes()


def test_progress_bars_for_large_checkpoints(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(convert_module, "PROGRESS_MIN_BYTES", 0)  # every checkpoint counts as large
    assert main(["convert", str(HF_TINY / "tiny" / "base"), str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "reading " in err and "write: 100%" in err and "hash: 100%" in err and "check: 100%" in err


# ----- bad input: a clear error naming what is wrong, and nothing written ---------------------


def assert_fails(capsys, argv, message: str, dst: Path | None = None) -> str:
    assert main(["convert", *map(str, argv), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    if dst is not None:
        assert not dst.exists()
        assert not [p for p in dst.parent.iterdir() if p.name.startswith(f".{dst.name}.")], "temp folder left behind"
    return err


def test_unknown_format_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(HF_TINY / "tiny" / "base"), str(tmp_path / "out"), "--to", "onnx"])
    assert exc.value.code == 2
    assert "invalid choice: 'onnx'" in capsys.readouterr().err


def test_unknown_source_file_format(tmp_path, capsys):
    weights = tmp_path / "weights.npz"
    weights.write_bytes(b"not a checkpoint")
    assert_fails(capsys, [weights, tmp_path / "out"], "cannot tell the checkpoint format of", tmp_path / "out")


def test_folder_with_two_candidate_checkpoints(tmp_path, capsys):
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(HF_TINY / "tiny" / "base" / "model.safetensors", folder / "model.safetensors")
    shutil.copy(HF_TINY / "tiny" / "base" / "config.json", folder / "config.json")
    shutil.copy(HF_TINY / "tiny" / "base" / "model.safetensors", folder / "finetuned.safetensors")
    err = assert_fails(capsys, [folder, tmp_path / "out"], "holds 2 candidate checkpoints", tmp_path / "out")
    assert "HF weights (model.safetensors)" in err and "the file finetuned.safetensors" in err
    assert "--from FORMAT" in err
    assert albert(folder / "finetuned.safetensors", tmp_path / "out") == 0  # naming the file settles it


def test_folder_with_two_tf1_checkpoints_and_no_checkpoint_file(tmp_path, capsys):
    folder = tmp_path / "src"
    folder.mkdir()
    for step in (1000, 2000):
        (folder / f"model.ckpt-{step}.index").write_bytes(b"")
    err = assert_fails(capsys, [folder, tmp_path / "out"], "holds 2 candidate checkpoints", tmp_path / "out")
    assert "a TF1 checkpoint (model.ckpt-1000)" in err and "a TF1 checkpoint (model.ckpt-2000)" in err


def test_from_format_absent_from_the_folder(tmp_path, capsys):
    assert_fails(capsys, [HF_TINY / "tiny" / "base", tmp_path / "out", "--from", "tf1"], "no tf1 checkpoint in folder", tmp_path / "out")


def test_config_that_disagrees_with_the_weights(tmp_path, capsys):
    config = json.loads((HF_TINY / "tiny" / "masked_lm" / "config.json").read_text())
    config["intermediate_size"] = 40
    (tmp_path / "config.json").write_text(json.dumps(config))
    err = assert_fails(
        capsys,
        [HF_TINY / "tiny" / "masked_lm", tmp_path / "out", "--config", tmp_path / "config.json"],
        "does not fit AlbertForMaskedLM with this config",
        tmp_path / "out",
    )
    assert "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight has shape [37, 32], the config says [40, 32]" in err


def test_head_the_weights_do_not_have(tmp_path, capsys):
    err = assert_fails(capsys, [HF_TINY / "tiny" / "base", tmp_path / "out", "--head", "question_answering"], "lacks qa_outputs.weight", tmp_path / "out")
    assert "invents nothing" in err


def test_weights_of_two_heads_need_head(tmp_path, capsys):
    _, state = load_checkpoint(HF_TINY / "tiny" / "pretraining")
    _, qa = load_checkpoint(HF_TINY / "tiny" / "question_answering")
    folder = tmp_path / "src"
    from albert_core.checkpoint import save_checkpoint
    from albert_core.config import AlbertConfig

    config = AlbertConfig.from_json_file(HF_TINY / "tiny" / "pretraining" / "config.json")
    save_checkpoint(folder, config, {**state, "qa_outputs.weight": qa["qa_outputs.weight"], "qa_outputs.bias": qa["qa_outputs.bias"]})
    assert_fails(capsys, [folder, tmp_path / "out"], "holds tensors AlbertForPreTraining does not use (qa_outputs.bias, qa_outputs.weight)", tmp_path / "out")
    assert albert(folder, tmp_path / "out", "--head", "pretraining") == 0


def test_existing_destination_needs_overwrite(tmp_path, capsys):
    dst = tmp_path / "out"
    dst.mkdir()
    (dst / "keep.txt").write_text("old")
    assert_fails(capsys, [HF_TINY / "tiny" / "base", dst], "destination", None)
    assert [p.name for p in dst.iterdir()] == ["keep.txt"]
    assert albert(HF_TINY / "tiny" / "base", dst, "--overwrite") == 0
    assert sorted(p.name for p in dst.iterdir()) == ["config.json", "model.safetensors"]  # replaced as a whole


def test_destination_that_holds_the_source_is_refused(tmp_path, capsys):
    folder = tmp_path / "model"
    shutil.copytree(HF_TINY / "tiny" / "base", folder)
    before = tree_digest(folder)
    assert_fails(capsys, [folder / "tf_model.h5", folder, "--overwrite"], "holds the source")
    assert_fails(capsys, [folder, folder, "--overwrite"], "holds the source")
    assert tree_digest(folder) == before


def test_missing_framework_for_the_target_format_is_named_before_reading(tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setattr(convert_module, "load_checkpoint", lambda *a, **k: pytest.fail("read before the check"))
    assert_fails(capsys, [HF_TINY / "tiny" / "base", tmp_path / "out", "--to", "hf-torch"], "writing hf-torch (pytorch_model.bin) needs the package 'torch'", tmp_path / "out")


def test_missing_framework_for_the_source_format(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    source = HF_TINY / "tiny" / "base" / "pytorch_model.bin"
    assert_fails(capsys, [source, tmp_path / "out"], "needs the package 'torch'", tmp_path / "out")


def test_failed_write_leaves_no_partial_output_and_keeps_the_old_destination(tmp_path, monkeypatch, capsys):
    dst = tmp_path / "out"
    assert albert(HF_TINY / "tiny" / "base", dst) == 0
    before = tree_digest(dst)

    def broken(folder, *args):
        (folder / "tf_model.h5").write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(convert_module, "_write", broken)
    with pytest.raises(OSError, match="disk full"):
        main(["convert", str(HF_TINY / "tiny" / "masked_lm"), str(dst), "--to", "hf-tf", "--overwrite", "--quiet"])
    assert tree_digest(dst) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_read_back_mismatch_fails_and_writes_nothing(tmp_path, monkeypatch, capsys):
    real = convert_module.load_checkpoint
    calls = []

    def corrupting(path, config=None):
        config, state = real(path, config=config)
        calls.append(path)
        if len(calls) == 2:  # the read-back: flip one value
            name = "albert.pooler.bias"
            state[name] = state[name].copy()
            state[name][0] += 1.0
        return config, state

    monkeypatch.setattr(convert_module, "load_checkpoint", corrupting)
    err = assert_fails(capsys, [HF_TINY / "tiny" / "base", tmp_path / "out"], "does not read back as written", tmp_path / "out")
    assert "albert.pooler.bias: wrote float32 [32], read back float32 [32] with other values" in err
