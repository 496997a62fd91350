"""`albert bench`'s plan: the seed's grid for every backend and variant, the filters, `--quick`,
training-only variants, GPU defaults, the --model check, the interleaved order and GPU detection.

The installed backends and transformers are passed explicitly, so the counts do not depend on
what this environment has.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

import pytest

from albert_core.bench import plan as plan_module
from albert_core.bench.plan import INFERENCE_SHAPES, TRAINING_SHAPES, build_plan, detect_device
from albert_core.bench.spec import VARIANTS
from albert_core.errors import ConfigError

ALL = ("torch", "tf", "flax")


def full(**kwargs):
    return build_plan(installed=kwargs.pop("installed", ALL), hf=kwargs.pop("hf", True), **kwargs)


def test_full_plan_is_the_seed_grid_for_every_variant_and_precision():
    plan = full()
    by_suite = Counter(r.suite for r in plan.rows)
    # inference: variants minus the training-only ones; torch 3 + HF 3, tf 2 + HF 3, flax 1 + HF 1,
    # in fp32 and bf16; plus torch's sdpa+onednn in fp32 alone
    assert by_suite["inference"] == ((6 + 5 + 2) * 2 + 1) * len(INFERENCE_SHAPES) == 243
    # training: every variant; torch 4 + 3, tf 2 + 3, flax 2 + 1
    assert by_suite["training"] == (7 + 5 + 3) * 2 * len(TRAINING_SHAPES) == 180
    assert {(r.batch, r.seq) for r in plan.rows if r.suite == "training"} == {(b, s) for b in (2, 4, 8) for s in (256, 512)}
    assert {(r.batch, r.seq) for r in plan.rows if r.suite == "inference"} == {(b, s) for b in (4, 8, 16) for s in (128, 256, 512)}
    assert {r.precision for r in plan.rows} == {"fp32", "bf16"}
    assert {(r.warmup, r.iters, r.device) for r in plan.rows} == {(5, 10, "cpu")}
    assert [t.tool for t in plan.tools] == ["tokenizer", "checkpoint"]
    assert plan.tools[0].texts == 4000 and plan.tools[1].model == "albert-base-v2"
    assert plan.skipped == []
    assert len(set(plan.rows)) == len(plan.rows)


def test_training_only_variants_are_planned_for_training_alone():
    plan = full()
    for variant in ("sdpa+checkpointing", "jit+remat"):
        suites = {r.suite for r in plan.rows if r.variant == variant}
        assert suites == {"training"}, variant
    assert {r.variant for r in plan.rows if r.suite == "inference" and r.backend == "torch" and r.impl == "albert"} == {
        "sdpa", "eager", "sdpa+compile", "sdpa+onednn"
    }
    assert {(r.suite, r.precision) for r in plan.rows if r.variant == "sdpa+onednn"} == {("inference", "fp32")}


def test_gpu_plan_adds_fp16_and_the_seed_iterations():
    plan = full(device="gpu", suites=["inference"], backends=["torch"], impls=["albert"], variants=["sdpa"])
    assert {r.precision for r in plan.rows} == {"fp32", "bf16", "fp16"}
    assert {(r.warmup, r.iters, r.device) for r in plan.rows} == {(10, 100, "gpu")}
    assert len(plan.rows) == 3 * len(INFERENCE_SHAPES)


def test_quick_plan_is_each_default_path_at_one_small_shape_and_the_tokenizer():
    plan = full(quick=True)
    assert [(r.backend, r.impl, r.variant) for r in plan.rows] == [
        ("torch", "albert", "sdpa"), ("torch", "hf", "sdpa"), ("tf", "albert", "xla"), ("tf", "hf", "eager"),
        ("flax", "albert", "jit"), ("flax", "hf", "jit"),
    ]
    assert {(r.suite, r.precision, r.batch, r.seq, r.warmup, r.iters) for r in plan.rows} == {("inference", "fp32", 2, 128, 2, 3)}
    assert [(t.tool, t.texts, t.repeats) for t in plan.tools] == [("tokenizer", 300, 3)]
    assert all(VARIANTS[(r.backend, r.impl)][0] == r.variant for r in plan.rows)


def test_defaults_skip_what_is_not_installed_and_say_so():
    plan = full(installed=["torch"], hf=False)
    assert {(r.backend, r.impl) for r in plan.rows} == {("torch", "albert")}
    assert any("tf backend: not installed" in s and "albert[tf]" in s for s in plan.skipped)
    assert any("flax backend" in s for s in plan.skipped)
    assert any("transformers is not installed" in s for s in plan.skipped)


def test_a_backend_named_explicitly_is_planned_even_when_missing():
    """Its rows run and report what to install (tested in test_bench_runner)."""
    plan = full(installed=[], hf=False, backends=["flax"], impls=["albert", "hf"], suites=["training"])
    assert {(r.backend, r.impl) for r in plan.rows} == {("flax", "albert"), ("flax", "hf")}
    assert plan.skipped == []


def test_filters_narrow_the_plan():
    plan = full(backends=["tf"], impls=["hf"], suites=["inference"], precisions=["bf16"], variants=["xla", "eager"])
    assert {(r.backend, r.impl, r.variant, r.precision, r.suite) for r in plan.rows} == {
        ("tf", "hf", "xla", "bf16", "inference"), ("tf", "hf", "eager", "bf16", "inference")
    }
    assert len(plan.rows) == 2 * len(INFERENCE_SHAPES)
    assert plan.tools == []
    tools_only = full(suites=["checkpoint"], model="albert-large-v2")
    assert tools_only.rows == [] and [(t.tool, t.model, t.repeats) for t in tools_only.tools] == [("checkpoint", "albert-large-v2", 3)]


def test_batches_and_seqs_replace_the_grid_in_both_suites():
    plan = full(backends=["torch"], impls=["albert"], variants=["sdpa"], precisions=["fp32"], batches=[1, 3], seqs=[16],
                warmup=0, iters=2)
    assert sorted((r.suite, r.batch, r.seq) for r in plan.rows) == [
        ("inference", 1, 16), ("inference", 3, 16), ("training", 1, 16), ("training", 3, 16)
    ]
    assert {(r.warmup, r.iters) for r in plan.rows} == {(0, 2)}
    only_seqs = full(backends=["torch"], impls=["albert"], variants=["sdpa"], precisions=["fp32"], suites=["training"], seqs=[64])
    assert sorted((r.batch, r.seq) for r in only_seqs.rows) == [(2, 64), (4, 64), (8, 64)]


@pytest.mark.parametrize(
    "kwargs, flag",
    [
        ({"backends": ["pytorch"]}, "--backends"),
        ({"impls": ["onnx"]}, "--impls"),
        ({"suites": ["inferense"]}, "--suites"),
        ({"precisions": ["int8"]}, "--precisions"),
        ({"variants": ["fast"]}, "--variants"),
        ({"batches": [0]}, "--batches"),
        ({"iters": 0}, "--iters"),
        ({"device": "tpu"}, "--device"),
        ({"model": "no-such-model"}, "--model"),
        ({"backends": ["flax"], "variants": ["sdpa"], "suites": ["inference"]}, "no row"),
    ],
)
def test_bad_filters_are_refused_naming_the_flag(kwargs, flag):
    with pytest.raises(ConfigError, match=flag):
        full(**kwargs)


def test_model_accepts_a_config_file_as_an_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "tiny.json").write_text(json.dumps({"hidden_size": 64, "num_attention_heads": 4}))
    monkeypatch.chdir(tmp_path)
    plan = full(model="tiny.json", backends=["torch"], impls=["albert"], variants=["sdpa"], precisions=["fp32"], suites=["inference", "checkpoint"])
    assert {r.model for r in plan.rows} == {str(tmp_path / "tiny.json")}
    assert plan.tools[0].model == str(tmp_path / "tiny.json")
    assert full(model="albert/albert-base-v2", suites=["checkpoint"]).tools[0].model == "albert-base-v2"


def test_rows_that_are_compared_run_side_by_side():
    """Interleaved order: all implementations of one (suite, precision, shape) are consecutive."""
    rows = full().rows
    keys = [(r.suite, r.precision, r.batch, r.seq) for r in rows]
    runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(runs) == len(set(keys))
    first = rows[: 13]  # the first inference shape: every implementation once
    assert len({(r.backend, r.impl, r.variant) for r in first}) == 13
    assert first[0].is_default and first[0].backend == "torch"


def test_no_device_node_means_cpu_without_importing_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(plan_module, "DEVICE_NODES", tmp_path)
    monkeypatch.setattr(plan_module.shutil, "which", lambda name: None)
    assert detect_device() == "cpu"


def test_a_framework_that_sees_a_gpu_makes_the_device_gpu(tmp_path, monkeypatch):
    """The probe runs in a child process: here a stand-in `torch` whose cuda is available."""
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "nvidia0").touch()
    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("class cuda:\n    @staticmethod\n    def is_available():\n        return True\n")
    monkeypatch.setattr(plan_module, "DEVICE_NODES", tmp_path / "dev")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "site"), *sys.path]))
    assert detect_device() == "gpu"
    (fake / "__init__.py").write_text("class cuda:\n    @staticmethod\n    def is_available():\n        return False\n")
    monkeypatch.setattr(plan_module, "_GPU_PROBES", {"torch": plan_module._GPU_PROBES["torch"]})
    assert detect_device() == "cpu"
