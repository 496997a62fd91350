"""The task commands' own logic, with no framework: inputs (TEXT, flags, --input files), backend
choice and its errors, the --backend all agreement line and exit status, the table and --json.
Backends are replaced by scripted ones (fixed logits), so disagreement can be staged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from albert_core.cli import main, tasks
from albert_core.cli.runners import RUNNERS
from albert_core.pipeline import make_pipeline

from .pipeline_helpers import FILL_MASK_TEXT, Scripted, task_checkpoint

VOCAB = 8000


def rising(offset: int = 0):
    """MLM logits that rise with the token id (shifted by `offset`): top-k is known in advance."""
    row = np.roll(np.arange(VOCAB, dtype=np.float32) / 100, offset)
    return lambda b: {"logits": np.broadcast_to(row, (*b["input_ids"].shape, VOCAB)).copy()}


@pytest.fixture
def backends(monkeypatch):
    """Install scripted backends: {name: script}; --backend NAME and 'all' then run them."""
    scripts = {}

    def install(**named):
        scripts.update(named)
        monkeypatch.setattr(tasks, "installed_backends", lambda: list(scripts))
        monkeypatch.setattr(tasks, "backend_pipeline", lambda name, task, model, **kw: make_pipeline(task, model, None, Scripted(scripts[name]), **kw))

    return install


@pytest.fixture(scope="module")
def mlm(tmp_path_factory):
    return task_checkpoint(tmp_path_factory.mktemp("ckpt"), "fill-mask")


def test_all_backends_agree(backends, mlm, capsys):
    backends(torch=rising(), tf=rising(), flax=rising())
    assert main(["fill-mask", str(mlm), FILL_MASK_TEXT, "x [MASK]", "--backend", "all", "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "agreement: torch, tf, flax give the same top-3 tokens on 2/2 inputs; max |Δ score| 0.00e+00" in out
    assert out.splitlines()[1].split("|")[0].strip() == "torch"  # the columns side by side


def test_disagreement_exits_1_and_names_the_inputs(backends, mlm, capsys):
    backends(torch=rising(), tf=rising(1))  # tf's top token is another id
    assert main(["fill-mask", str(mlm), "a [MASK]", "b [MASK]", "--backend", "all", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["agreement"] == {"backends": ["torch", "tf"], "agree": False, "inputs": 2, "disagreeing_inputs": [0, 1],
                                     "max_abs_score_delta": 0.0}
    assert main(["fill-mask", str(mlm), "a [MASK]", "--backend", "all"]) == 1
    assert "DISAGREE: torch, tf do not give the same top-5 tokens on 1/1 inputs (input 1)" in capsys.readouterr().out


def test_score_differences_are_measured(backends, mlm, capsys):
    backends(torch=rising(), flax=lambda b: {"logits": rising()(b)["logits"] * np.float32(1.001)})
    assert main(["fill-mask", str(mlm), "a [MASK]", "--backend", "all", "--json", "--top-k", "2"]) == 0
    document = json.loads(capsys.readouterr().out)
    torch_scores = [c["score"] for c in document["results"]["torch"][0]]
    flax_scores = [c["score"] for c in document["results"]["flax"][0]]
    assert document["agreement"]["max_abs_score_delta"] == pytest.approx(max(abs(a - b) for a, b in zip(torch_scores, flax_scores)))
    assert document["agreement"]["max_abs_score_delta"] > 0


def test_one_installed_backend_with_all(backends, mlm, capsys):
    backends(torch=rising())
    assert main(["fill-mask", str(mlm), "a [MASK]", "--backend", "all"]) == 0
    assert "(only torch is installed: nothing to compare)" in capsys.readouterr().out


def test_default_backend_is_the_first_installed(backends, mlm, capsys):
    backends(tf=rising(), flax=rising(5))
    assert main(["fill-mask", str(mlm), "a [MASK]", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backends"] == ["tf"]


def test_a_missing_framework_names_the_pip_extra(monkeypatch, mlm, capsys):
    monkeypatch.setattr(RUNNERS["flax"], "requires", (("no_such_module_for_test", "jax"),))
    assert main(["fill-mask", str(mlm), "a [MASK]", "--backend", "flax"]) == 2
    assert "--backend flax (albert_flax (JAX / Flax)) needs the package 'jax', which is not installed (pip install 'albert[flax]')" in capsys.readouterr().err
    monkeypatch.setattr(tasks, "installed_backends", lambda: [])
    assert main(["fill-mask", str(mlm), "a [MASK]"]) == 2
    assert "pip install 'albert[torch]'" in capsys.readouterr().err


def test_input_files(backends, mlm, tmp_path, capsys):
    backends(torch=rising())
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('a [MASK]\n{"text": "b [MASK]"\n', encoding="utf-8")
    assert main(["fill-mask", str(mlm), "--input", str(bad_json)]) == 2
    assert f"{bad_json}:2: not valid JSON" in capsys.readouterr().err
    plain = tmp_path / "plain.txt"
    plain.write_text("What is this?\n", encoding="utf-8")
    assert main(["answer", str(mlm), "--input", str(plain)]) == 2
    assert f'{plain}:1: answer needs a JSON object per line ({{"question": ..., "context": ...}})' in capsys.readouterr().err
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n", encoding="utf-8")
    assert main(["fill-mask", str(mlm), "--input", str(blank)]) == 2
    assert "holds no inputs" in capsys.readouterr().err
    assert main(["fill-mask", str(mlm), "--input", str(tmp_path / "missing.txt")]) == 2
    assert "--input file not found" in capsys.readouterr().err
    assert main(["fill-mask", str(mlm), "a [MASK]", "--input", str(plain)]) == 2
    assert "not both" in capsys.readouterr().err


def test_missing_inputs_and_models(backends, mlm, tmp_path, capsys):
    backends(torch=rising())
    assert main(["fill-mask", str(mlm)]) == 2
    assert "no input: give TEXT, or --input FILE" in capsys.readouterr().err
    assert main(["answer", str(mlm), "--question", "Q?"]) == 2
    assert "answer needs both --question and --context" in capsys.readouterr().err
    assert main(["fill-mask", str(mlm), "no mask"]) == 2
    assert "no [MASK] token in 'no mask'" in capsys.readouterr().err
    assert main(["fill-mask", str(tmp_path / "nowhere"), "a [MASK]"]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert main(["classify", str(mlm), "text"]) == 2
    assert "holds an AlbertForMaskedLM checkpoint; text-classification needs AlbertForSequenceClassification" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fill-mask", str(mlm), "a [MASK]", "--backend", "mxnet"])
