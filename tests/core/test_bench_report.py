"""`albert bench`'s report on hand-made results: GFLOP/s, fraction of the floor, per-token latency,
the ratios against HF's and our backends' default paths, the tool tables, merging rounds, and the
JSON and CSV files read back to the same results.
"""

from __future__ import annotations

import json

import pytest

from albert_core.bench.report import compute_metrics, read_rows_csv, render_markdown, rows_csv, tools_csv, write_data
from albert_core.bench.results import BenchResults, merge_rows, merge_tools, read_json, write_json
from albert_core.bench.spec import RowResult, RowSpec
from albert_core.bench.tools import Candidate, ToolResult, ToolSpec

TINY = {"vocab_size": 1000, "embedding_size": 16, "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128,
        "num_hidden_layers": 3}


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return str(path)


def forward_flops(b: int, s: int) -> int:
    """AlbertModel's matrix-product FLOPs written out by hand for TINY: embedding projection,
    per layer Q/K/V/output (4 H×H), FFN in and out, scores and context, then the pooler."""
    h, e, i, layers, tokens = 64, 16, 128, 3, b * s
    per_layer = 2 * tokens * (4 * h * h + 2 * h * i) + 2 * (2 * b * s * s * h)
    return 2 * tokens * e * h + layers * per_layer + 2 * b * h * h


def row(model, backend="torch", impl="albert", variant=None, precision="fp32", times=(20.0,), suite="inference", batch=2, seq=8, **kw):
    from albert_core.bench.spec import VARIANTS

    variant = variant or VARIANTS[(backend, impl)][0]
    return RowResult(RowSpec(suite, backend, impl, variant, precision, batch, seq, model), times_ms=list(times), **kw)


def test_gflops_floor_fraction_and_per_token_latency(model):
    result = row(model, times=[10.0, 30.0, 20.0], floor_ms=15.0)
    (m,) = compute_metrics([result])
    assert result.median_ms == 20.0
    assert m.gflops == pytest.approx(forward_flops(2, 8) / 0.020 / 1e9)
    assert m.floor_fraction == pytest.approx(0.75)
    assert m.per_token_us == pytest.approx(20.0 * 1e3 / 16)
    assert m.vs_hf is None and m.vs_backends == {"torch": pytest.approx(1.0)}


def test_training_flops_are_forward_and_backward_of_encoder_and_mlm_head(model):
    (m,) = compute_metrics([row(model, suite="training", batch=1, seq=4, times=[1.0])])
    h, e, i, v, layers, t = 64, 16, 128, 1000, 3, 4
    encoder = 2 * t * e * h + layers * (2 * t * (4 * h * h + 2 * h * i) + 2 * (2 * t * t * h))
    head = 2 * t * h * e + 2 * t * e * v
    forward = encoder + head
    # backward: two products per forward product, minus the embedding projection's input gradient
    assert m.gflops == pytest.approx((3 * forward - 2 * t * e * h) / 1e-3 / 1e9)


def test_ratios_against_hf_default_and_each_backends_default(model):
    rows = [
        row(model, times=[20.0]),  # albert_torch sdpa (default)
        row(model, variant="eager", times=[25.0]),
        row(model, impl="hf", times=[30.0]),  # HF torch sdpa: HF's default path
        row(model, impl="hf", variant="eager", times=[24.0]),
        row(model, backend="tf", times=[40.0]),  # albert_tf xla (default)
        row(model, backend="tf", impl="hf", times=[80.0]),  # HF tf eager (default)
        row(model, precision="bf16", times=[5.0]),  # another precision: compared only with bf16 rows
        row(model, backend="flax", error="bf16 unsupported"),  # a failed row is nobody's reference
    ]
    m = {(r.spec.backend, r.spec.impl, r.spec.variant, r.spec.precision): x for r, x in zip(rows, compute_metrics(rows))}
    ours = m[("torch", "albert", "sdpa", "fp32")]
    assert ours.vs_hf == pytest.approx(1.5)
    assert ours.vs_backends == {"torch": pytest.approx(1.0), "tf": pytest.approx(2.0)}  # flax never ran: no column
    assert m[("torch", "albert", "eager", "fp32")].vs_hf == pytest.approx(30 / 25)
    assert m[("torch", "albert", "eager", "fp32")].vs_backends["torch"] == pytest.approx(20 / 25)
    assert m[("torch", "hf", "eager", "fp32")].vs_hf == pytest.approx(30 / 24)
    assert m[("tf", "albert", "xla", "fp32")].vs_hf == pytest.approx(2.0)  # HF *TF*'s default, not HF torch's
    assert m[("tf", "albert", "xla", "fp32")].vs_backends["torch"] == pytest.approx(0.5)
    bf16 = m[("torch", "albert", "sdpa", "bf16")]
    assert bf16.vs_hf is None and bf16.vs_backends["torch"] == pytest.approx(1.0) and bf16.vs_backends["tf"] is None
    failed = m[("flax", "albert", "jit", "fp32")]
    assert failed.gflops is None and failed.vs_backends == {}


def environment():
    return {"date": "2026-11-25 10:00 UTC", "date_end": "2026-11-25 10:05 UTC", "cpu": "Test CPU", "cores": 2, "machine": "x86_64",
            "system": "Linux", "python": "3.11.7", "device": "cpu", "gpus": [], "rounds": 2, "load_start": [1.0, 1.0, 1.0],
            "load_end": [2.0, 1.5, 1.0], "skipped": ["tf backend: not installed (pip install 'albert[tf]')"]}


def tool_results():
    tokenizer = ToolResult(
        ToolSpec("tokenizer", repeats=2, texts=100),
        candidates=[Candidate("albert AlbertTokenizer", [0.1, 0.3, 0.2]), Candidate("HF AlbertTokenizerFast", [0.4, 0.4])],
        info={"texts": 100, "tokens": 5000, "source": "tests/fixtures/heldout_sentences.txt"},
        versions={"transformers": "4.57.6"},
    )
    checkpoint = ToolResult(
        ToolSpec("checkpoint", repeats=1, model="albert-base-v2"),
        candidates=[Candidate("plain file read", [0.01], [40.0]), Candidate("albert load_checkpoint", [0.03], [44.0])],
        info={"file_mib": 45.0},
    )
    return [tokenizer, checkpoint]


def test_markdown_tables_carry_every_number(model):
    rows = [
        row(model, times=[20.0], floor_ms=15.0, peak_mib=12.0, compile_s=1.25, versions={"torch": "2.13.0"}),
        row(model, impl="hf", times=[30.0]),
        row(model, suite="training", times=[100.0], peak_mib=50.0),
        row(model, backend="tf", error="albert_tf xla fp32 needs the package 'tensorflow'\nmore detail"),
    ]
    text = render_markdown(BenchResults(rows, tool_results(), environment(), complete=True))
    assert "Test CPU (2 cores, x86_64)" in text and "load average [1.0, 1.0, 1.0] at start, [2.0, 1.5, 1.0] at end" in text
    assert "torch 2.13.0" in text and "transformers 4.57.6" in text and "Not planned: tf backend" in text
    ours = next(line for line in text.splitlines() if line.startswith("| albert_torch sdpa fp32 (default) | 2 | 8 | 20.0 |"))
    cells = [c.strip() for c in ours.strip("|").split("|")]
    gflops = forward_flops(2, 8) / 0.02 / 1e9
    # implementation, batch, seq, median, µs/token, GFLOP/s, of floor, peak, compile, vs HF, vs albert_torch, max err
    assert cells == ["albert_torch sdpa fp32 (default)", "2", "8", "20.0", "1250.00", f"{gflops:.1f}", "75%", "12", "1.2", "1.50x", "1.00x", ""]
    assert "## Training" in text and "| albert_torch sdpa fp32 (default) | 2 | 8 | 100.0 |" in text
    assert "- albert_tf xla fp32, inference 2x8: albert_tf xla fp32 needs the package 'tensorflow'" in text
    assert "more detail" not in text
    assert "| albert AlbertTokenizer | 0.2000 | 500 | 25,000 | 2.00x |" in text
    assert "| HF AlbertTokenizerFast | 0.4000 | 250 | 12,500 | 1.00x |" in text
    assert "| albert load_checkpoint | 0.0300 | 3.00x | 1,500 | 44 |" in text
    assert "did not finish" not in text
    assert "did not finish" in render_markdown(BenchResults(rows, [], environment(), complete=False))


def test_merging_rounds(model):
    a = row(model, times=[1.0, 2.0], floor_ms=1.0, peak_mib=10.0, baseline_mib=100.0, compile_s=3.0, notes="n")
    b = row(model, times=[3.0], floor_ms=3.0, peak_mib=30.0, baseline_mib=110.0, compile_s=1.0, notes="n")
    failed = row(model, times=[], error="timed out after 5 s\n--- end of its stderr ---")
    merged = merge_rows([a, failed, b])
    assert merged.times_ms == [1.0, 2.0, 3.0] and merged.median_ms == 2.0
    assert (merged.floor_ms, merged.peak_mib, merged.baseline_mib, merged.compile_s) == (2.0, 30.0, 105.0, 2.0)
    assert merged.error is None and merged.notes == "n; round 2 failed: timed out after 5 s"
    assert merge_rows([failed, failed]).error == failed.error
    other = row(model, times=[], error="killed")
    assert merge_rows([failed, other]).error.splitlines()[0] == "round 1: timed out after 5 s"
    tokenizer = tool_results()[0]
    again = merge_tools([tokenizer, ToolResult(tokenizer.spec, error="crashed"), tokenizer])
    assert again.candidate("HF AlbertTokenizerFast").times_s == [0.4, 0.4, 0.4, 0.4]
    assert again.notes == "round 2 failed: crashed"


def test_json_and_csv_read_back_to_the_same_results(model, tmp_path):
    rows = [
        row(model, times=[10.123456789, 11.0], floor_ms=9.5, peak_mib=3.25, baseline_mib=99.0, max_abs_error=1.5e-3, compile_s=None,
            versions={"torch": "2.13.0", "transformers": "4.57.6"}, notes='a note, with "quotes"\nand a newline'),
        row(model, backend="flax", times=[], error="no module, really"),
    ]
    results = BenchResults(rows, tool_results(), environment(), complete=True)
    write_json(results, tmp_path / "results.json")
    assert read_json(tmp_path / "results.json") == results
    assert read_rows_csv(rows_csv(compute_metrics(rows))) == rows
    write_data(results, tmp_path / "out")
    assert read_json(tmp_path / "out" / "results.json") == results
    assert read_rows_csv((tmp_path / "out" / "results.csv").read_text()) == rows
    header, first = (tmp_path / "out" / "results.csv").read_text().splitlines()[:2]
    assert header.startswith("label,suite,backend,impl,variant,precision,batch,seq,model,warmup,iters,device,median_ms,min_ms,per_token_us,gflops")
    assert first.startswith("albert_torch sdpa fp32,inference,torch,albert,sdpa,fp32,2,8,")
    tools = tools_csv(results.tools).splitlines()
    assert tools[0] == "tool,candidate,median_s,median_peak_mib,times_s,info,error"
    assert tools[1].startswith("tokenizer,albert AlbertTokenizer,0.2,,0.1 0.3 0.2,")


def test_a_results_file_of_something_else_is_refused(tmp_path):
    (tmp_path / "results.json").write_text('{"rows": [{"spec": {"suite": "nap"}}]}')
    with pytest.raises(ValueError, match="not an albert bench results.json"):
        read_json(tmp_path / "results.json")


def test_a_row_whose_config_is_gone_keeps_every_metric_but_gflops(tmp_path):
    (m,) = compute_metrics([row(str(tmp_path / "deleted.json"), times=[20.0], floor_ms=10.0)])
    assert m.gflops is None and m.floor_fraction == pytest.approx(0.5) and m.per_token_us == pytest.approx(1250.0)
