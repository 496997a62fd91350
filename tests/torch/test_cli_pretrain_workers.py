"""`albert pretrain --data-workers N`: batches built in worker processes, and a stopped run that is
continued gives the same losses as one run straight through (the parallel stream's seek is exact)."""

import json

import numpy as np

from albert_core.cli import main
from tests.core.test_data_pretraining import write_corpus
from tests.torch.training_helpers import tiny_config


def pretrain(tmp_path, spiece_model, output, corpus, max_steps, workers=2):
    config = tmp_path / "config.json"
    tiny_config(vocab_size=8000, max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0).save_pretrained(tmp_path)
    code = main([
        "pretrain", "--backend", "torch", "--output-dir", str(output), "--config", str(config), "--tokenizer", str(spiece_model),
        "--train-files", str(corpus), "--eval-files", str(corpus), "--max-seq-length", "32", "--batch-size", "4",
        "--max-steps", str(max_steps), "--warmup-steps", "3", "--learning-rate", "1e-3", "--log-every", "1",
        "--eval-every", "100", "--save-every", "2", "--eval-size", "4", "--data-workers", str(workers), "--quiet",
    ])
    assert code == 0
    lines = [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]
    return [line["loss"] for line in lines if line["split"] == "train"]


def test_continued_run_with_data_workers_follows_the_straight_run(tmp_path, spiece_model):
    corpus = write_corpus(tmp_path / "corpus.txt", paragraphs=4)
    straight = pretrain(tmp_path, spiece_model, tmp_path / "straight", corpus, max_steps=5)
    # Warmup covers the first run's 3 updates, so they are the straight run's too (the schedule's
    # decay, which depends on max_steps, starts at update 3); the second command continues it.
    pretrain(tmp_path, spiece_model, tmp_path / "continued", corpus, max_steps=3)
    continued = pretrain(tmp_path, spiece_model, tmp_path / "continued", corpus, max_steps=5)
    assert len(straight) == 5 and len(continued) == 5
    np.testing.assert_allclose(continued, straight, rtol=1e-6)
    one_worker = pretrain(tmp_path, spiece_model, tmp_path / "one", corpus, max_steps=5, workers=1)
    # Worker 0 is the in-process stream; batch 1 comes from worker 1, a differently seeded stream.
    assert one_worker[0] == straight[0] and one_worker[1] != straight[1]
