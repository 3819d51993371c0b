"""Fixtures of the training-engine tests: tiny randomly initialised causal LMs on CPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Any:
    """Tiny models run fastest single-threaded, and the CI box is shared: no intra-op spinning."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_qwen() -> Callable[..., Any]:
    """Factory of a 2-layer Qwen2 (GQA, untied head) in fp32; ``tiny_qwen(seed=0, **config)``."""

    def make(seed: int = 0, **overrides: Any) -> Any:
        import torch
        from transformers import Qwen2Config, Qwen2ForCausalLM

        torch.manual_seed(seed)
        fields = {
            "vocab_size": 101,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 256,
            "tie_word_embeddings": False,
            "attn_implementation": "sdpa",
        }
        config = Qwen2Config(**{**fields, **overrides})
        return Qwen2ForCausalLM(config).float().eval()

    return make


@pytest.fixture
def tiny_llama() -> Callable[..., Any]:
    """Factory of a 2-layer Llama with tied embeddings (the local runtime's offline tiny model shape)."""

    def make(seed: int = 0) -> Any:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        torch.manual_seed(seed)
        config = LlamaConfig(
            vocab_size=101,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=256,
            tie_word_embeddings=True,
        )
        return LlamaForCausalLM(config).float().eval()

    return make


def random_examples(
    n: int, *, seed: int = 0, min_len: int = 3, max_len: int = 40, vocab: int = 101
) -> list[dict[str, Any]]:
    """``n`` examples of random lengths; the first third of each is a masked prompt."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        length = rng.randint(min_len, max_len)
        ids = [rng.randrange(1, vocab) for _ in range(length)]
        prompt = length // 3
        out.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return out


@pytest.fixture
def examples() -> Callable[..., list[dict[str, Any]]]:
    """Factory of random examples: ``examples(n, seed=0, ...)`` (see :func:`random_examples`)."""
    return random_examples
