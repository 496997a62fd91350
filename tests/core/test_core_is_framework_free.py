"""albert_core imports no deep-learning framework, even where one is installed."""

import subprocess
import sys

FRAMEWORKS = ("torch", "tensorflow", "jax", "flax", "keras", "transformers")


def test_import_and_use_pull_no_framework():
    code = (
        "import sys, albert_core;"
        "from albert_core import AlbertConfig, AlbertTokenizer, tensor_specs;"
        "from albert_core.cli import build_parser;"
        "AlbertTokenizer.from_pretrained('tests/fixtures/spiece')('hello world', return_tensors='np');"
        "tensor_specs(AlbertConfig.from_pretrained('albert-base-v2'), 'pretraining');"
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_cli_info_runs(capsys):
    from albert_core.cli import main

    assert main(["info", "albert-base-v2"]) == 0
    text = capsys.readouterr().out
    assert "11,683,584" in text and "109,081,344" in text  # ALBERT-base vs BERT-base parameters
    assert main(["info", "albert-base-v2", "--json"]) == 0


def test_cli_reports_bad_config(tmp_path, capsys):
    from albert_core.cli import main

    (tmp_path / "config.json").write_text('{"hidden_size": 100, "num_attention_heads": 12}')
    assert main(["info", str(tmp_path)]) == 2
    assert "not a multiple of num_attention_heads" in capsys.readouterr().err
