"""Training data, once, for every backend: numpy batches that are the same bit for bit from a seed.

- PretrainingStream: masked-LM + sentence-order batches streamed from raw text files.
- FinetuneDataset: classify / tag / choice / qa batches from CSV or JSONL files.
- ParallelStream: a stream's micro-batches built in N worker processes, taken in turn.
- BatchList: fixed micro-batches (a held-out set, a replay) behind the same stream interface.
- postprocess: model outputs → top-k tokens, labels, word tags, choices, answer spans.
- metrics: accuracies, BIO entity F1, SQuAD EM/F1, and an Evaluator over eval batches.

The batch contract (what the training loops rely on) is in docs/data.md.
"""

from .batches import BatchList
from .errors import DataError
from .finetune import TASKS, FinetuneDataset
from .labels import build_label_list, load_label_list, save_label_list
from .masking import IGNORE_INDEX, MaskingVocab, mask_ngrams
from .metrics import Evaluator
from .parallel import ParallelStream
from .pretraining import PretrainingStream
from .squad import QAExample
from .text import iter_documents, split_sentences

__all__ = [
    "BatchList",
    "DataError",
    "Evaluator",
    "FinetuneDataset",
    "IGNORE_INDEX",
    "MaskingVocab",
    "ParallelStream",
    "PretrainingStream",
    "QAExample",
    "TASKS",
    "build_label_list",
    "iter_documents",
    "load_label_list",
    "mask_ngrams",
    "save_label_list",
    "split_sentences",
]
