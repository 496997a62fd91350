"""postprocess and metrics on hand-made logits whose answers are worked out by hand."""

import math

import numpy as np
import pytest

from albert_core.data import DataError, Evaluator
from albert_core.data.metrics import (
    accuracy_counts,
    entities,
    entity_scores,
    masked_accuracy_counts,
    normalize_answer,
    squad_exact,
    squad_f1,
)
from albert_core.data.postprocess import best_answers, choose, classify, fill_mask, softmax, tag_words
from albert_core.data.squad import QAExample

LN3, LN4 = math.log(3), math.log(4)


# ----- postprocess -----------------------------------------------------------------------------
def test_softmax_and_classify():
    assert softmax(np.array([0.0, LN3])).tolist() == pytest.approx([0.25, 0.75])
    out = classify(np.array([[0.0, LN3], [LN4, 0.0]]), {0: "neg", 1: "pos"})
    assert [(r["label"], r["label_id"]) for r in out] == [("pos", 1), ("neg", 0)]
    assert out[0]["score"] == pytest.approx(0.75) and out[1]["probabilities"] == pytest.approx([0.8, 0.2])
    picked = choose(np.array([[0.0, LN3, LN4]]))  # probabilities 1/8, 3/8, 4/8
    assert picked[0]["choice"] == 2 and picked[0]["probabilities"] == pytest.approx([0.125, 0.375, 0.5])


def test_fill_mask_top_k(tokenizer):
    ids = np.array([[2, 4, 35, 4, 3]])  # [CLS] [MASK] ▁python [MASK] [SEP]
    logits = np.full((1, 5, tokenizer.vocab_size), -1e9)
    logits[0, 1, [35, 76]] = [LN3, 0.0]  # 0.75 ▁python, 0.25 ▁list
    logits[0, 3, [5, 76, 435]] = [0.0, LN4, 0.0]  # 4/6 ▁list, 1/6 ▁the, 1/6 ▁items
    out = fill_mask(logits, ids, tokenizer, top_k=2)
    assert [m["position"] for m in out[0]] == [1, 3]
    assert out[0][0]["tokens"] == ["▁python", "▁list"] and out[0][0]["scores"] == pytest.approx([0.75, 0.25])
    assert out[0][1]["token_ids"] == [76, 5] and out[0][1]["scores"] == pytest.approx([4 / 6, 1 / 6])


def test_tag_words_reads_first_pieces():
    # positions: [CLS] w0 w0' w1 w2 [SEP]; argmax per position: 2 2 0 1 2 0
    logits = np.eye(3)[[2, 2, 0, 1, 2, 0]][None]
    word_ids = np.array([[-1, 0, 0, 1, 2, -1]])
    assert tag_words(logits, word_ids, {0: "B-PER", 1: "I-PER", 2: "O"}) == [["O", "I-PER", "O"]]


CONTEXT = "Guido van Rossum created Python in 1991."
#           0123456789012345678901234567890123456789


def test_best_answers_across_windows():
    # Two windows of one example; positions 0-1 are [CLS]/question, 2-5 the context.
    offsets = np.full((2, 6, 2), -1)
    offsets[0, 2:] = [(0, 5), (5, 9), (9, 16), (16, 24)]  # Guido| van| Rossum| created
    offsets[1, 2:] = [(16, 24), (24, 31), (31, 34), (34, 39)]  # created| Python| in| 1991.
    start = np.zeros((2, 6))
    end = np.zeros((2, 6))
    start[0, [0, 2, 3]] = [1.0, 3.0, 2.5]
    end[0, [0, 4, 3]] = [1.0, 2.0, 2.5]
    start[1] = [1.0, 9.0, -5.0, 1.0, -5.0, -5.0]  # position 1 is the question: never a candidate
    end[1, [0, 2, 4]] = [1.0, 9.0, 0.5]  # (3, 2) would score 10, but end 2 < start 3 is no span
    examples = np.array([0, 0])
    answers = best_answers(start, end, examples, offsets, [CONTEXT], n_best=5, max_answer_length=30)
    # window 0: (2,3) scores 3 + 2.5 = 5.5, more than (2,4) or (3,3) (5.0 each); window 1 at most 4.0
    assert answers[0]["text"] == "Guido van" and answers[0]["score"] == pytest.approx(5.5)
    assert (answers[0]["start_char"], answers[0]["end_char"]) == (0, 9)
    short = best_answers(start, end, examples, offsets, [CONTEXT], max_answer_length=1)
    assert short[0]["text"] == "van" and short[0]["score"] == pytest.approx(5.0)  # (3,3); leading space dropped
    # v2: the null score is the lowest [CLS] start+end over windows (2.0); 2.0 - 5.5 < 0 keeps the span...
    assert best_answers(start, end, examples, offsets, [CONTEXT], version_2=True)[0]["text"] == "Guido van"
    start[:, 0] = end[:, 0] = 4.0  # ...but a null score of 8.0 beats 5.5 by more than the threshold 2.0
    null = best_answers(start, end, examples, offsets, [CONTEXT], version_2=True, null_threshold=2.0)
    assert null[0]["text"] == "" and null[0]["score"] == pytest.approx(8.0)
    kept = best_answers(start, end, examples, offsets, [CONTEXT], version_2=True, null_threshold=3.0)
    assert kept[0]["text"] == "Guido van"


# ----- metrics ---------------------------------------------------------------------------------
def test_counting_metrics():
    logits = np.eye(4)[[[1, 2, 3], [0, 0, 1]]]  # argmax = the index
    labels = np.array([[1, -100, 0], [0, 3, -100]])
    assert masked_accuracy_counts(logits, labels) == (2, 4)
    assert accuracy_counts(np.eye(3)[[0, 2, 1]], np.array([0, 2, 2])) == (2, 3)


def test_entities_follow_seqeval_rules():
    assert entities(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 1), ("LOC", 3, 3)]
    assert entities(["I-PER", "I-PER", "O", "I-LOC"]) == [("PER", 0, 1), ("LOC", 3, 3)]  # I- after O starts one
    assert entities(["B-PER", "I-LOC", "I-LOC"]) == [("PER", 0, 0), ("LOC", 1, 2)]  # a type change splits
    assert entities(["B-PER", "B-PER"]) == [("PER", 0, 0), ("PER", 1, 1)]
    assert entities(["O", "O"]) == []
    # seqeval's README example: precision = recall = F1 = 0.5
    true = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    assert entity_scores(true, pred) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    # 3 true entities, 2 predicted, 1 right: P 1/2, R 1/3, F1 2·(1/6)/(5/6) = 0.4
    scores = entity_scores([["B-A", "O", "B-B", "B-C"]], [["B-A", "I-A", "B-B", "O"]])
    assert scores == pytest.approx({"precision": 0.5, "recall": 1 / 3, "f1": 0.4})
    assert entity_scores([["O"]], [["O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_squad_scores():
    assert normalize_answer("The  Cat, sat!  ") == "cat sat"
    assert normalize_answer("an apple a day") == "apple day"
    assert squad_exact("the cat sat.", ["Cat sat", "dog"]) == 1.0
    # prediction {cat, sat}, gold {cat, sat, down}: P 1, R 2/3, F1 0.8
    assert squad_f1("the cat sat", ["a cat sat down"]) == pytest.approx(0.8)
    assert squad_f1("cat", ["dog", "the cat"]) == 1.0  # the best gold answer counts
    assert squad_exact("", []) == 1.0 and squad_f1("", []) == 1.0  # unanswerable, predicted so
    assert squad_exact("cat", []) == 0.0 and squad_f1("cat", []) == 0.0
    assert squad_f1("", ["cat"]) == 0.0


# ----- Evaluator -------------------------------------------------------------------------------
def test_pretrain_evaluator_accumulates_counts_and_weighted_loss():
    evaluator = Evaluator("pretrain")
    batch1 = {"input_ids": np.zeros((2, 3)), "labels": np.array([[-100, 5, 6], [7, -100, -100]]), "sentence_order_label": np.array([0, 1])}
    logits1 = np.zeros((2, 3, 8))
    logits1[0, 1, 5] = logits1[0, 2, 1] = logits1[1, 0, 7] = 1.0  # 2 of 3 masked tokens right
    evaluator.update(batch1, {"prediction_logits": logits1, "sop_logits": np.array([[1.0, 0.0], [1.0, 0.0]]), "loss": np.float32(2.0)})
    batch2 = {"input_ids": np.zeros((1, 3)), "labels": np.array([[4, -100, -100]]), "sentence_order_label": np.array([1])}
    logits2 = np.zeros((1, 3, 8))
    logits2[0, 0, 4] = 1.0
    evaluator.update(batch2, {"prediction_logits": logits2, "sop_logits": np.array([[0.0, 1.0]]), "loss": np.float32(5.0)})
    # MLM 3/4, SOP 2/3, loss (2·2 + 5·1)/3 = 3
    assert evaluator.result() == pytest.approx({"mlm_accuracy": 0.75, "sop_accuracy": 2 / 3, "loss": 3.0})


def test_tag_and_choice_evaluators():
    id2label = {0: "B-PER", 1: "I-PER", 2: "O"}
    evaluator = Evaluator("tag", id2label=id2label)
    labels = np.array([[-100, 0, 1, -100, 2, -100]])  # words: B-PER I-PER O
    logits = np.eye(3)[[[2, 0, 0, 1, 2, 2]]]  # first pieces predict B-PER B-PER O
    evaluator.update({"input_ids": np.zeros((1, 6)), "labels": labels}, {"logits": logits})
    # word accuracy 2/3; entities true {PER 0-1}, predicted {PER 0-0, PER 1-1}: none right
    assert evaluator.result() == pytest.approx({"accuracy": 2 / 3, "precision": 0.0, "recall": 0.0, "f1": 0.0})
    choice = Evaluator("choice")
    choice.update({"input_ids": np.zeros((2, 3, 4)), "labels": np.array([2, 0])}, {"logits": np.array([[0, 1, 2], [0, 3, 1.0]])})
    assert choice.result() == {"accuracy": 0.5}


def test_qa_evaluator_from_batches():
    examples = [QAExample("a", "q", CONTEXT, ("Guido van Rossum",), (0,)), QAExample("b", "q", "Nothing.", (), ())]
    offsets = np.full((2, 5, 2), -1)
    offsets[0, 2:] = [(0, 5), (5, 9), (9, 16)]
    offsets[1, 2:4] = [(0, 7), (7, 8)]
    batch = {"input_ids": np.zeros((2, 5)), "meta_example_index": np.array([0, 1]), "meta_offsets": offsets}
    start = np.array([[0, 0, 5.0, 0, 0], [3.0, 0, 1, 0, 0]])
    end = np.array([[0, 0, 0, 5.0, 0], [3.0, 0, 1, 0, 0]])
    evaluator = Evaluator("qa", examples=examples)  # version_2 inferred: one example has no answer
    evaluator.update(batch, {"start_logits": start, "end_logits": end})
    assert evaluator.qa_predictions() == {0: "Guido van", 1: ""}
    # example a: EM 0, F1 on {guido, van} vs {guido, van, rossum} = 0.8; b: 1 and 1
    assert evaluator.result() == pytest.approx({"exact_match": 0.5, "f1": 0.9})


def test_evaluator_arguments():
    with pytest.raises(DataError, match="unknown task 'ner'"):
        Evaluator("ner")
    with pytest.raises(DataError, match="needs id2label"):
        Evaluator("tag")
    with pytest.raises(DataError, match="needs the dataset's examples"):
        Evaluator("qa")
