"""`albert pretrain` and `albert finetune`: build the data in albert_core, hand it to one backend's loop.

    albert pretrain --backend torch --output-dir runs/pt --config tiny.json --tokenizer spiece.model
    albert finetune --task classify --backend flax --model runs/pt --train train.jsonl --eval dev.jsonl --output-dir runs/cls

Every backend runs the same arguments (albert_core.training.TrainingArguments) on the same batches
(albert_core.data: deterministic from --seed), in its own idiom (albert_<backend>.training.train).
The output folder holds the tokenizer, the final canonical weights (config.json + model.safetensors:
any backend or HF PyTorch loads it), checkpoints/ (resumable), metrics.jsonl/.csv and loss_curve.png.
Run the same command again in the same folder and it continues from the newest checkpoint.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path

from ..config import CONFIG_NAME, AlbertConfig
from ..errors import AlbertError, ConfigError
from ..presets import PRESETS, preset_config
from ..training.arguments import TASKS, TrainingArguments
from .runners import BACKENDS, get_runner

DEFAULT_CORPUS = Path("corpus_cache") / "pydocs"
FINETUNE_TASKS = [task for task in TASKS if task != "pretrain"]


class TrainCommandError(AlbertError, ValueError):
    """The command line asks for a run that cannot start, named."""


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    defaults = TrainingArguments("unused")
    group = parser.add_argument_group("training")
    group.add_argument("--backend", choices=BACKENDS, required=True, help="which framework's loop runs")
    group.add_argument("--output-dir", required=True, help="run folder (created; an existing run continues)")
    group.add_argument("--max-steps", type=int, default=defaults.max_steps)
    group.add_argument("--batch-size", type=int, default=defaults.batch_size, help="rows per micro-batch, over all replicas")
    group.add_argument("--grad-accum-steps", type=int, default=defaults.grad_accum_steps)
    group.add_argument("--optimizer", choices=["adamw", "lamb"], default=defaults.optimizer)
    group.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    group.add_argument("--warmup-steps", type=int, default=defaults.warmup_steps)
    group.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    group.add_argument("--max-grad-norm", type=float, default=defaults.max_grad_norm, help="0 turns clipping off")
    group.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default=defaults.precision)
    group.add_argument("--seed", type=int, default=defaults.seed)
    group.add_argument("--no-dropout", action="store_true", help="switch dropout off")
    group.add_argument("--log-every", type=int, default=defaults.log_every)
    group.add_argument("--eval-every", type=int, default=defaults.eval_every)
    group.add_argument("--save-every", type=int, default=defaults.save_every)
    group.add_argument("--keep-checkpoints", type=int, default=defaults.keep_checkpoints)
    group.add_argument("--eval-batches", type=int, default=None, help="evaluate on this many batches (default: all)")
    group.add_argument("--max-seq-length", type=int, default=128)
    group.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers) -> None:
    pre = subparsers.add_parser("pretrain", help="pretrain ALBERT (MLM + sentence order) on raw text")
    pre.add_argument("--config", default=None, help="model shape: a preset name, a config.json, or a folder with one")
    pre.add_argument("--tokenizer", required=True, help="spiece.model, or a folder holding one")
    pre.add_argument("--train-files", nargs="+", default=None, help=f"text files (default: the pydocs corpus, {DEFAULT_CORPUS}/train.txt)")
    pre.add_argument("--eval-files", nargs="+", default=None, help="held-out text files (default: the corpus's heldout.txt)")
    pre.add_argument("--init", default=None, help="start from these weights (any format albert reads)")
    pre.add_argument("--eval-size", type=int, default=256, help="held-out examples in each evaluation")
    pre.add_argument("--data-workers", type=int, default=1,
                     help="build batches in this many processes, taken in turn (worker w seeded from --seed and w; "
                          "1: in this process). The batches depend on the count: resume with the same one")
    _add_training_options(pre)
    pre.set_defaults(run=run_pretrain, task="pretrain")

    fine = subparsers.add_parser("finetune", help="fine-tune on a labelled CSV/JSONL dataset")
    fine.add_argument("--task", choices=FINETUNE_TASKS, required=True)
    fine.add_argument("--model", required=True, help="the checkpoint to start from (folder, file or hub id)")
    fine.add_argument("--tokenizer", default=None, help="default: the model folder's spiece.model")
    fine.add_argument("--train", required=True, help="training records (.jsonl or .csv)")
    fine.add_argument("--eval", default=None, help="evaluation records (.jsonl or .csv)")
    fine.add_argument("--doc-stride", type=int, default=None, help="qa: overlap of context windows (default: max_seq_length // 3)")
    _add_training_options(fine)
    fine.set_defaults(run=run_finetune)


def training_arguments(args, task: str) -> TrainingArguments:
    return TrainingArguments(
        output_dir=args.output_dir,
        task=task,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        grad_accum_steps=args.grad_accum_steps,
        max_grad_norm=args.max_grad_norm or None,
        precision=args.precision,
        seed=args.seed,
        dropout=not args.no_dropout,
        log_every=args.log_every,
        eval_every=args.eval_every,
        save_every=args.save_every,
        keep_checkpoints=args.keep_checkpoints,
        eval_batches=args.eval_batches,
        progress=not args.quiet,
        extra={"max_seq_length": args.max_seq_length},
    )


def backend_train(backend: str):
    """The backend's `train` function, after checking its framework is installed."""
    get_runner(backend)  # MissingDependencyError naming the package when it is not
    return importlib.import_module(f"albert_{backend}.training").train


def _model_config(spec: str | None) -> AlbertConfig:
    if spec is None:
        raise TrainCommandError("pretrain needs --config: a preset name, a config.json or a folder holding one")
    if spec in PRESETS:
        return preset_config(spec)
    path = Path(spec)
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.is_file():
        raise TrainCommandError(f"--config {spec!r} is neither a preset ({', '.join(PRESETS)}) nor a config.json")
    return AlbertConfig.from_json_file(path)


def _load_tokenizer(spec: str):
    from ..tokenizer import AlbertTokenizer

    return AlbertTokenizer.from_pretrained(spec)


def _corpus_files(given: list[str] | None, name: str) -> list[str]:
    if given:
        return given
    path = DEFAULT_CORPUS / name
    if not path.is_file():
        from ..corpus import build_corpus

        print(f"building the pydocs corpus in {DEFAULT_CORPUS} (Debian's python3.11-doc) ...")
        build_corpus(DEFAULT_CORPUS)
    return [str(path)]


def _prepare_output(output_dir: str, tokenizer) -> None:
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)


def _report(result: dict) -> None:
    """The final metrics as JSON, printed once (by the first process of a distributed run)."""
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps(result, indent=2, sort_keys=True))


def run_pretrain(args) -> int:
    from ..data.batches import BatchList
    from ..data.parallel import ParallelStream
    from ..data.pretraining import PretrainingStream

    train = backend_train(args.backend)
    tokenizer = _load_tokenizer(args.tokenizer)
    config = _model_config(args.config)
    if config.vocab_size != tokenizer.vocab_size:
        print(f"vocab_size {config.vocab_size} -> {tokenizer.vocab_size} (the tokenizer's)")
        config = config.replace(vocab_size=tokenizer.vocab_size)
    if args.max_seq_length > config.max_position_embeddings:
        raise ConfigError(f"--max-seq-length {args.max_seq_length} exceeds max_position_embeddings {config.max_position_embeddings}")
    targs = training_arguments(args, "pretrain")
    targs.extra["data_workers"] = args.data_workers
    stream = PretrainingStream(_corpus_files(args.train_files, "train.txt"), tokenizer, max_seq_length=args.max_seq_length,
                               batch_size=args.batch_size, seed=args.seed)
    if args.data_workers != 1:
        stream = ParallelStream(stream.for_workers(args.data_workers))
    held_out = PretrainingStream(_corpus_files(args.eval_files, "heldout.txt"), tokenizer, max_seq_length=args.max_seq_length,
                                 batch_size=args.batch_size, seed=args.seed + 1)
    eval_source = BatchList.take(held_out, max(1, args.eval_size // args.batch_size))  # the same batches at every evaluation
    init = None
    if args.init:
        from ..checkpoint import load_checkpoint

        _, init = load_checkpoint(args.init)
    _prepare_output(args.output_dir, tokenizer)
    result = train(targs, config, stream, eval_source, init_weights=init)
    _report(result)
    return 0


def run_finetune(args) -> int:
    from ..checkpoint import load_checkpoint
    from ..data.finetune import FinetuneDataset

    train = backend_train(args.backend)
    config, weights = load_checkpoint(args.model)
    tokenizer_source = args.tokenizer or args.model
    tokenizer = _load_tokenizer(tokenizer_source)
    extra = {}
    if args.task == "qa":
        extra["doc_stride"] = args.doc_stride or args.max_seq_length // 3
    train_data = FinetuneDataset(args.task, args.train, tokenizer, max_seq_length=args.max_seq_length,
                                 batch_size=args.batch_size, seed=args.seed, **extra)
    eval_data = None
    if args.eval:
        eval_data = FinetuneDataset(args.task, args.eval, tokenizer, max_seq_length=args.max_seq_length,
                                    batch_size=args.batch_size, seed=args.seed, label_list=train_data.label_list, **extra)
    if args.task in ("classify", "tag"):
        config = config.replace(id2label=dict(train_data.id2label))
    targs = training_arguments(args, args.task)
    targs.extra.update(extra)
    _prepare_output(args.output_dir, tokenizer)
    result = train(targs, config, train_data, eval_data, init_weights=weights)
    _report(result)
    return 0
