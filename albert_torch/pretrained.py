"""AlbertPreTrainedModel: what every ALBERT model shares besides its math.

Initialisation as HF (normal(initializer_range), LayerNorm ones/zeros, pad row zero), loading and
saving through albert_core.checkpoint (any format the schema reads in, canonical folder out),
dtype/attention/gradient-checkpointing switches, and resizing the vocabulary.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable, Optional, Union

import torch
from torch import nn

from albert_core.config import AlbertConfig
from albert_core.errors import ConfigError
from albert_core.schema import ARCHITECTURES, Head

from . import onednn
from .layers import ATTN_IMPLEMENTATIONS, AlbertAttention, AlbertTransformer
from .weights import canonical_state, load_canonical_state

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_dtype(dtype) -> Optional[torch.dtype]:
    """torch dtype from a torch dtype, its name ("bfloat16", "torch.float16") or None / "auto"."""
    if dtype is None or dtype == "auto" or isinstance(dtype, torch.dtype):
        return None if dtype == "auto" else dtype
    name = str(dtype).removeprefix("torch.")
    if name not in _DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r}; use one of {', '.join(_DTYPES)}")
    return _DTYPES[name]


class AlbertPreTrainedModel(nn.Module):
    head: Head = Head.BASE
    # The canonical names of this model's own state-dict keys start with this (see weights.py).
    canonical_prefix = ""

    def __init__(self, config: AlbertConfig):
        super().__init__()
        if not isinstance(config, AlbertConfig):
            raise ConfigError(f"{type(self).__name__} needs an albert_core.AlbertConfig, got {type(config).__name__}")
        self.config = config

    # ----- initialisation ----------------------------------------------------------------------
    def _init_module(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    @torch.no_grad()
    def init_weights(self) -> None:
        """Random initialisation as HF's _init_weights; then re-tie the MLM decoder."""
        self.apply(self._init_module)
        predictions = getattr(self, "predictions", None)
        if predictions is not None:
            nn.init.zeros_(predictions.bias)
        self.tie_weights()

    def post_init(self) -> None:
        # On the meta device (from_pretrained) there is nothing to initialise: the loaded state
        # replaces every tensor. Skipping it is what makes loading cost about a file read.
        if next(self.parameters()).device.type != "meta":
            self.init_weights()
        else:
            self.tie_weights()
        if onednn.onednn_inference_by_default():  # AMD CPUs, where MKL's sgemm is slow: see albert_torch.onednn
            onednn.enable_onednn_inference(self)

    def tie_weights(self) -> None:
        """Heads with an MLM decoder share its weight with the word embeddings (and its bias)."""

    # ----- properties and switches -------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def attn_implementation(self) -> str:
        return next(m for m in self.modules() if isinstance(m, AlbertAttention)).attn_implementation

    def set_attn_implementation(self, name: str) -> None:
        """"sdpa" or "eager"; both compute the same function (see AlbertAttention)."""
        if name not in ATTN_IMPLEMENTATIONS:
            raise ValueError(f"attn_implementation must be one of {ATTN_IMPLEMENTATIONS}, got {name!r}")
        for module in self.modules():
            if isinstance(module, AlbertAttention):
                module.attn_implementation = name

    def gradient_checkpointing_enable(self) -> None:
        """Recompute each shared-layer step in backward instead of keeping its activations."""
        for module in self.modules():
            if isinstance(module, AlbertTransformer):
                module.gradient_checkpointing = True

    def gradient_checkpointing_disable(self) -> None:
        for module in self.modules():
            if isinstance(module, AlbertTransformer):
                module.gradient_checkpointing = False

    @property
    def is_gradient_checkpointing(self) -> bool:
        return any(getattr(m, "gradient_checkpointing", False) for m in self.modules())

    def enable_onednn_inference(self):
        """Run the linear layers' gradient-free float32 CPU forward through oneDNN on pre-packed
        weights (albert_torch.onednn: about 1.9x on AMD EPYC, where MKL's sgemm is slow, and on by
        default there). Training, other dtypes and devices keep nn.Linear's path; parameters and
        state dict are unchanged."""
        return onednn.enable_onednn_inference(self)

    def disable_onednn_inference(self):
        return onednn.disable_onednn_inference(self)

    def num_parameters(self) -> int:
        """Trainable parameters, tied ones counted once."""
        return sum(p.numel() for p in self.parameters())

    # ----- embeddings --------------------------------------------------------------------------
    def base_model(self):
        return self if self.head is Head.BASE else self.albert

    def get_input_embeddings(self) -> nn.Embedding:
        return self.base_model().embeddings.word_embeddings

    def get_output_embeddings(self) -> Optional[nn.Linear]:
        predictions = getattr(self, "predictions", None)
        return None if predictions is None else predictions.decoder

    @torch.no_grad()
    def resize_token_embeddings(self, new_num_tokens: int) -> nn.Embedding:
        """Grow or shrink the vocabulary; kept rows are copied, new rows initialised as HF.

        The MLM decoder (tied or not) and its bias follow; config.vocab_size is updated.
        """
        if not isinstance(new_num_tokens, int) or new_num_tokens < 1:
            raise ValueError(f"new_num_tokens must be a positive int, got {new_num_tokens!r}")
        pad = self.config.pad_token_id
        if pad is not None and pad >= new_num_tokens:
            raise ValueError(f"cannot resize to {new_num_tokens} tokens: pad_token_id is {pad}")
        old = self.get_input_embeddings()
        keep = min(old.num_embeddings, new_num_tokens)
        std = self.config.initializer_range
        new = nn.Embedding(new_num_tokens, old.embedding_dim, padding_idx=pad, device=old.weight.device, dtype=old.weight.dtype)
        nn.init.normal_(new.weight, std=std)
        new.weight[:keep] = old.weight[:keep]
        self.base_model().embeddings.word_embeddings = new
        predictions = getattr(self, "predictions", None)
        if predictions is not None:
            bias = torch.zeros(new_num_tokens, device=new.weight.device, dtype=predictions.bias.dtype)
            bias[:keep] = predictions.bias[:keep]
            predictions.bias = nn.Parameter(bias)
            old_decoder = predictions.decoder
            decoder = nn.Linear(old.embedding_dim, new_num_tokens, device=new.weight.device, dtype=new.weight.dtype)
            nn.init.normal_(decoder.weight, std=std)
            decoder.weight[:keep] = old_decoder.weight[:keep]
            predictions.decoder = decoder
        self.config.vocab_size = new_num_tokens
        self.config.validate()
        self.tie_weights()
        return self.get_input_embeddings()

    # ----- canonical state ---------------------------------------------------------------------
    def canonical_state(self):
        """{canonical (HF PyTorch) name: numpy array}: what every backend and format exchanges."""
        return canonical_state(self)

    def load_canonical_state(self, state, dtype=None, device=None) -> None:
        load_canonical_state(self, state, dtype=resolve_dtype(dtype), device=device)

    # ----- files -------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: Union[str, os.PathLike],
        *,
        config: Optional[AlbertConfig] = None,
        dtype=None,
        torch_dtype=None,
        device=None,
        attn_implementation: Optional[str] = None,
        **config_overrides,
    ):
        """Load from a folder, a hub id or a checkpoint file of any format albert_core reads.

        `dtype` (or HF's older `torch_dtype`) sets the float dtype; `config_overrides` change config
        fields (e.g. num_labels=3). Head tensors the checkpoint lacks are initialised as HF does and
        reported by `load_report`; head tensors of another head are dropped.
        """
        from albert_core.checkpoint import load_checkpoint, match_state

        if dtype is not None and torch_dtype is not None:
            raise ValueError("pass dtype or torch_dtype, not both")
        target_dtype = resolve_dtype(dtype if dtype is not None else torch_dtype)
        config, state = load_checkpoint(name_or_path, config=config)
        if config_overrides:
            config = config.replace(**config_overrides)
        result = match_state(state, config, cls.head)
        kwargs = {} if attn_implementation is None else {"attn_implementation": attn_implementation}
        with torch.device("meta"):
            model = cls(config, **kwargs)
        model.load_canonical_state(result.state, dtype=target_dtype, device=device)
        # The report without its arrays: the model must not keep a second copy of the weights alive.
        model.load_report = dataclasses.replace(result, state={})
        return model.eval()

    def save_pretrained(
        self,
        folder: Union[str, os.PathLike],
        extra_formats: Iterable[str] = (),
        max_shard_size: Optional[int] = None,
    ) -> Path:
        """Write `folder` (config.json + model.safetensors, canonical names) atomically; HF loads it.

        `extra_formats` ("pytorch", "tf", "flax") add HF's other weight files; `max_shard_size`
        (bytes) shards the safetensors file. Both are albert_core.checkpoint.save_checkpoint's.
        """
        from albert_core.checkpoint import save_checkpoint

        config = self.config.replace(architectures=[ARCHITECTURES[self.head]])
        return save_checkpoint(
            folder, config, self.canonical_state(), extra_formats=extra_formats, max_shard_size=max_shard_size, head=self.head
        )
