"""A tiny random-weight causal LM and a byte-level tokenizer, built offline (the demo's model).

Nothing is downloaded: the tokenizer has one id per byte plus a few special tokens
and a chat template; the model is a 2-layer Llama with random weights. It learns
toy tasks in seconds on a CPU, which is what the tests and ``nova-forge demo`` need.
It is NOT a useful language model — callers say so plainly to the user.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

__all__ = ["CHAT_TEMPLATE", "TINY_MARKER", "build_tiny_model", "build_tiny_tokenizer", "is_tiny", "save_tiny_model"]

logger = logging.getLogger(__name__)

#: File written next to a tiny model so that every later step can say it is one.
TINY_MARKER = "nova_forge_tiny_model.json"

SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|eot|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>"]

#: Chat template: role markers are special tokens; assistant turns are wrapped in
#: ``{% generation %}`` so ``return_assistant_tokens_mask`` works too.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "<|assistant|>{% generation %}{{ message['content'] }}<|eot|>{% endgeneration %}"
    "{% else %}"
    "<|{{ message['role'] }}|>{{ message['content'] }}<|eot|>"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_tokenizer() -> Any:
    """A byte-level BPE tokenizer with no merges (256 byte ids + 7 specials) and :data:`CHAT_TEMPLATE`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(alphabet)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIAL_TOKENS)
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        pad_token="<|pad|>",
        bos_token="<|bos|>",
        eos_token="<|eot|>",
        unk_token="<|unk|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "right"
    return fast


def build_tiny_model(
    tokenizer: Any,
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    max_positions: int = 2048,
    seed: int = 0,
    tie_embeddings: bool = True,
) -> Any:
    """A random-weight ``LlamaForCausalLM`` sized for ``tokenizer`` (about 0.1M parameters by default).

    ``tie_embeddings=False`` gives the output layer its own weights, starting as a copy of the input
    embeddings (what ``nova-forge demo`` uses: its 1-layer model learns the demo task several times
    faster and far more reliably that way; an independently initialised output layer did not).
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if not tie_embeddings:
        embeddings: Any = model.get_input_embeddings()
        model.lm_head.weight = torch.nn.Parameter(embeddings.weight.detach().clone())
        model.config.tie_word_embeddings = False
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def save_tiny_model(path: str | Path, **kwargs: Any) -> Path:
    """Build the tiny model and tokenizer and save them as a Hugging Face folder at ``path``.

    Example:
        >>> save_tiny_model("/tmp/tiny")  # doctest: +SKIP
        PosixPath('/tmp/tiny')
    """
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tiny_tokenizer()
    model = build_tiny_model(tok, **kwargs)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    mark_tiny(out)
    return out


def mark_tiny(path: str | Path) -> None:
    """Write :data:`TINY_MARKER` into a model folder."""
    (Path(path) / TINY_MARKER).write_text(
        json.dumps({"tiny_demo_model": True, "note": "random weights; for rehearsal only"}) + "\n",
        encoding="utf-8",
    )


def is_tiny(path: str | Path | None) -> bool:
    """True when ``path`` is a folder holding a tiny demo model."""
    return bool(path) and (Path(str(path)) / TINY_MARKER).exists()
