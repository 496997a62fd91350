"""ParallelStream: batches from worker processes, interleaved deterministically, exact seek, errors raised."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from albert_core.data import DataError, ParallelStream, PretrainingStream
from albert_core.data.seeding import worker_seed

from .test_data_pretraining import take, write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.txt", paragraphs=4)


def stream(corpus, tokenizer, seed=3):
    return PretrainingStream(corpus, tokenizer, max_seq_length=32, batch_size=4, seed=seed, shuffle_buffer=20)


def same(a, b):
    return sorted(a) == sorted(b) and all(a[k].tobytes() == b[k].tobytes() for k in a)


def test_one_worker_is_the_in_process_stream(corpus, tokenizer):
    reference = take(stream(corpus, tokenizer), 5)
    parallel = ParallelStream(stream(corpus, tokenizer).for_workers(1))
    batches = take(parallel, 5)
    assert parallel.position == 5
    assert all(same(a, b) for a, b in zip(batches, reference))


def test_workers_take_turns_with_their_own_seeds(corpus, tokenizer):
    base = stream(corpus, tokenizer, seed=3)
    copies = base.for_workers(3)
    assert [s.seed for s in copies] == [3, worker_seed(3, 1), worker_seed(3, 2)]
    assert len({s.seed for s in copies}) == 3 and base.seed == 3  # the original is left as it was
    batches = take(ParallelStream(copies), 9)
    for w in range(3):
        own = take(stream(corpus, tokenizer, seed=copies[w].seed), 3)
        assert all(same(batches[3 * i + w], own[i]) for i in range(3)), w
    assert not same(batches[0], batches[1])


def test_seek_continues_exactly(corpus, tokenizer):
    reference = take(ParallelStream(stream(corpus, tokenizer).for_workers(2)), 9)
    for position in (0, 1, 4, 7):
        resumed = ParallelStream(stream(corpus, tokenizer).for_workers(2))
        resumed.seek(position)
        assert resumed.worker_positions(position) == [(position + 1) // 2, position // 2]
        batches = take(resumed, 9 - position)
        assert all(same(a, b) for a, b in zip(batches, reference[position:])), position
        assert resumed.position == 9


def test_closing_the_iterator_stops_the_workers(corpus, tokenizer):
    iterator = iter(ParallelStream(stream(corpus, tokenizer).for_workers(2)))
    next(iterator)
    workers = [p for p in multiprocessing.active_children() if p.name.startswith("albert-data-")]
    assert len(workers) == 2
    iterator.close()
    assert not any(p.is_alive() for p in workers)


class FailingStream:
    """A stream whose worker raises after one batch."""

    batch_size = 2

    def seek(self, position):
        self.position = position

    def __iter__(self):
        yield {"input_ids": np.zeros((2, 3), np.int32)}
        raise RuntimeError("disk on fire")


class DyingStream(FailingStream):
    def __iter__(self):
        os._exit(3)
        yield


def test_a_worker_error_is_raised_with_its_traceback():
    iterator = iter(ParallelStream([FailingStream()]))
    assert next(iterator)["input_ids"].shape == (2, 3)
    with pytest.raises(DataError, match=r"data worker 0 of 1 failed:(.|\n)*RuntimeError: disk on fire"):
        next(iterator)


def test_a_dead_worker_is_named():
    with pytest.raises(DataError, match=r"data worker 1 \(process \d+\) stopped with exit code 3"):
        take(ParallelStream([FailingStream(), DyingStream()]), 2)


def test_bad_arguments(corpus, tokenizer):
    with pytest.raises(DataError, match="at least one stream"):
        ParallelStream([])
    with pytest.raises(DataError, match="one batch_size"):
        ParallelStream([stream(corpus, tokenizer), PretrainingStream(corpus, tokenizer, max_seq_length=32, batch_size=8)])
    with pytest.raises(DataError, match="workers must be a positive int, got 0"):
        stream(corpus, tokenizer).for_workers(0)


PARENT = """
import sys, time
sys.path.insert(0, {root!r})
from albert_core.data import ParallelStream
from tests.core.test_data_parallel import EndlessStream
if __name__ == "__main__":
    iterator = iter(ParallelStream([EndlessStream(), EndlessStream()]))
    next(iterator)
    import multiprocessing
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    time.sleep(600)
"""


class EndlessStream(FailingStream):
    def __iter__(self):
        while True:
            yield {"input_ids": np.zeros((2, 3), np.int32)}


def test_workers_stop_when_their_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT.format(root=str(Path(__file__).resolve().parents[2])))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) >= 2
    parent.send_signal(signal.SIGKILL)  # no cleanup runs in the parent
    parent.wait()
    deadline = time.monotonic() + 20
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if _running(pid)]
    assert not alive, f"workers {alive} outlived their parent"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
