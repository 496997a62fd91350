"""albert_core.bench.rows: what every backend's bench row shares (config, seeded weights and inputs,
the order of the calls and the memory window), and shapes.distinct_products for the floors."""

from types import SimpleNamespace

import numpy as np
import pytest

from albert_core import AlbertConfig
from albert_core.bench import rows, timing
from albert_core.bench.shapes import Gemm, distinct_products
from albert_core.bench.spec import RowSpec
from albert_core.schema import Head, tensor_specs

TINY = dict(vocab_size=100, embedding_size=8, hidden_size=16, num_attention_heads=2, intermediate_size=32, num_hidden_layers=1)


def test_config_from_preset_config_json_or_folder(tmp_path):
    assert rows.load_config("albert-base-v2").hidden_size == 768
    assert rows.load_config("albert/albert-large-v2").hidden_size == 1024
    path = AlbertConfig(**TINY).save_pretrained(tmp_path)
    assert rows.load_config(str(path)).hidden_size == 16
    assert rows.load_config(str(tmp_path)).hidden_size == 16


@pytest.mark.parametrize("name", ["no/such/config.json", "albert-huge-v9", "./albert-base-v2"])
def test_a_model_that_is_neither_preset_nor_file_names_itself(name):
    # Never the hub: "./albert-base-v2" is a (missing) path, not the preset.
    with pytest.raises(rows.RowError, match=f"RowSpec.model '{name}' is neither a preset"):
        rows.load_config(name)


def test_a_folder_without_config_json_says_so(tmp_path):
    with pytest.raises(rows.RowError, match="no config.json in folder"):
        rows.load_config(str(tmp_path))


def test_random_state_is_seeded_complete_and_hf_initialised():
    config = AlbertConfig(**TINY)
    state = rows.random_state(config, Head.MASKED_LM)
    assert set(state) == {s.name for s in tensor_specs(config, Head.MASKED_LM) if s.tied_to is None}
    again = rows.random_state(config, Head.MASKED_LM)
    assert all(np.array_equal(state[name], again[name]) for name in state)
    words = state["albert.embeddings.word_embeddings.weight"]
    assert words.shape == (100, 8) and words.dtype == np.float32
    assert (words[config.pad_token_id] == 0).all() and 0.01 < words[1:].std() < 0.03  # N(0, 0.02), padding row zero
    other = rows.random_state(config, Head.MASKED_LM, seed=1)
    assert not np.array_equal(words, other["albert.embeddings.word_embeddings.weight"])
    # The base head's state is the masked-LM one's encoder, drawn from the same stream.
    base = rows.random_state(config, Head.BASE)
    assert np.array_equal(base["albert.embeddings.word_embeddings.weight"], words)


def test_training_inputs_label_15_percent_of_every_row_with_its_ids():
    config = AlbertConfig(**TINY)
    inputs = rows.row_inputs(config, "training", 3, 40)
    ids, labels = inputs["input_ids"], inputs["labels"]
    assert ids.dtype == np.int32 and ids.min() >= rows.FIRST_ID and ids.max() < 100 and (inputs["attention_mask"] == 1).all()
    labelled = labels != -100
    assert (labelled.sum(axis=1) == 6).all()  # round(0.15 × 40)
    assert (labels[labelled] == ids[labelled]).all()
    assert (rows.row_inputs(config, "training", 1, 2)["labels"] != -100).sum() == 1  # at least one label
    inference = rows.row_inputs(config, "inference", 3, 40)
    assert "labels" not in inference and np.array_equal(inference["input_ids"], ids)  # the same ids in both suites
    np.testing.assert_array_equal(rows.row_inputs(config, "training", 3, 40)["labels"], labels)  # seeded


def test_a_vocabulary_of_special_tokens_only_says_so():
    with pytest.raises(rows.RowError, match="vocab_size 5 leaves no ids above the special tokens"):
        rows.row_inputs(AlbertConfig(**{**TINY, "vocab_size": 5}), "inference", 1, 4)


class FakeClock:
    """perf_counter for rows and timing: a call advances it by the time the test gives it."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


class FakeWindow:
    peak_name, level_name = "the fake peak", "the fake level"

    def __init__(self, events):
        self.events = events

    def start(self):
        self.events.append("start")
        return 100.0

    def peak(self):
        self.events.append("peak")
        return 130.0


def spec(**changes) -> RowSpec:
    fields = dict(suite="training", backend="flax", impl="albert", variant="jit", precision="fp32", batch=1, seq=4, warmup=2, iters=3)
    return RowSpec(**{**fields, **changes})


@pytest.mark.parametrize("compiles", [True, False])
def test_measure_runs_the_first_call_before_the_window(monkeypatch, compiles):
    clock, events = FakeClock(), []
    monkeypatch.setattr(rows, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    monkeypatch.setattr(timing, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    monkeypatch.setattr(rows, "release_free_heap", lambda: events.append("trim") or True)

    def first_call():
        events.append("first")
        clock.now += 5.0  # compiling

    def call():
        events.append("call")
        clock.now += 0.010

    measured = rows.measure(call, spec(), compiles=compiles, window=FakeWindow(events), first_call=first_call)
    assert events == ["first", "trim", "start"] + ["call"] * 5 + ["peak"]  # 2 warm-up + 3 timed inside the window
    assert measured.times_ms == pytest.approx([10.0] * 3)
    assert measured.first_s == pytest.approx(5.0)
    assert measured.compile_s == (pytest.approx(4.99) if compiles else None)
    assert (measured.baseline_mib, measured.peak_mib) == (100.0, 30.0)
    assert measured.note.startswith("memory: the fake peak over warm-up + timed calls minus the fake level after the untimed first call")
    assert "malloc_trim" in measured.note


def test_measure_defaults_to_the_call_itself_and_the_rss_window():
    calls = []
    measured = rows.measure(lambda: calls.append(np.ones(1000)), spec(warmup=0, iters=2), compiles=False)
    assert len(calls) == 3  # the first call, then 0 warm-up + 2 timed
    assert len(measured.times_ms) == 2 and measured.baseline_mib > 10 and measured.peak_mib >= 0
    assert measured.note.startswith("memory: peak RSS")


def test_floor_shapes_are_timed_once_and_weighed_by_their_count():
    gemms = [Gemm("a", 8, 4, 3), Gemm("b", 8, 4, 3, count=2), Gemm("scores", 5, 2, 5, batch=6, count=3)]
    assert distinct_products(gemms) == {(1, 8, 4, 3): 3, (6, 5, 2, 5): 3}
