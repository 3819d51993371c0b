"""Load, adapt, save and sample from models in the worker (torch / transformers / peft live here).

``load(source, device)``: ``source`` is a local Hugging Face folder (a base model or a
checkpoint written by an earlier local job), a Hugging Face model id, or ``None`` /
``"tiny"`` for the offline tiny demo model.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError, MissingDependencyError

__all__ = ["apply_lora", "generate", "load", "pick_device", "quiet_transformers", "save_checkpoint"]

logger = logging.getLogger(__name__)

TINY_NAMES = (None, "", "tiny", "tiny-demo")


def quiet_transformers() -> None:
    """Turn off transformers' progress bars and info logs (worker output and the demo stay readable)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    except Exception as e:  # pragma: no cover - cosmetic only
        logger.debug("could not silence transformers progress bars: %s", e)


def pick_device(device: str | None) -> str:
    """``"auto"`` → ``cuda`` when available, else ``mps``, else ``cpu``; otherwise checks the request.

    Raises:
        ConfigError: ``cuda`` was asked for but no CUDA device is visible.
    """
    import torch

    d = (device or "auto").lower()
    if d == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if d.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r} but no CUDA GPU is visible. Use device='cpu' or 'auto'.")
    return d


def pick_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype in ("auto", "", None):
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return {
        "bf16": torch.bfloat16,
        "bfloat16": torch.bfloat16,
        "fp16": torch.float16,
        "float16": torch.float16,
        "fp32": torch.float32,
        "float32": torch.float32,
    }[dtype]


def load(source: str | None, device: str, *, dtype: str = "auto", seed: int = 0) -> tuple[Any, Any, dict[str, Any]]:
    """Return ``(model, tokenizer, info)``; ``info["tiny"]`` says whether it is the tiny demo model.

    Raises:
        ConfigError: ``source`` is neither a folder nor a reachable Hugging Face id.
    """
    quiet_transformers()
    import torch

    from amzn_nova_forge.manager._local import _tiny

    torch.manual_seed(seed)
    torch_dtype = pick_dtype(dtype, device)
    if source in TINY_NAMES:
        tok = _tiny.build_tiny_tokenizer()
        model = _tiny.build_tiny_model(tok, seed=seed)
        info = {"source": "tiny", "tiny": True}
    else:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype)
        except (OSError, ValueError) as e:
            raise ConfigError(
                f"Could not load model {source!r}: {str(e).rstrip('.')}. Pass a local Hugging Face model folder, a model id "
                "reachable from this machine (set HF_HOME / log in for gated models), or leave base_model "
                "unset for the offline tiny demo model."
            ) from e
        info = {"source": str(source), "tiny": _tiny.is_tiny(source)}
        meta = Path(str(source)) / "nova_forge_checkpoint.json"
        if meta.exists():
            info["parent"] = json.loads(meta.read_text(encoding="utf-8"))
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    if not getattr(tok, "chat_template", None):
        from amzn_nova_forge.manager._local._tiny import CHAT_TEMPLATE

        tok.chat_template = CHAT_TEMPLATE.replace("<|eot|>", tok.eos_token or "")
    if info.get("tiny") and device == "cpu":
        _one_thread_for_tiny()
    model.to(device=device, dtype=torch_dtype)
    return model, tok, info


def _one_thread_for_tiny() -> None:
    """Run the tiny model's CPU kernels on one thread unless the user set ``OMP_NUM_THREADS``.

    Its matrices (64 wide) are too small to split: on a 2-core machine shared with other work a
    training step took 2.5-4.8 s with 2 threads and 0.14 s with one (docs/performance.md).
    """
    import torch

    if not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(1)


def lora_targets(model: Any) -> list[str]:
    """Names of the linear layers LoRA adapts (attention + MLP projections when present)."""
    import torch

    wanted = (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
        "c_attn",
        "c_proj",
        "c_fc",
        "query_key_value",
        "dense",
        "fc1",
        "fc2",
    )
    found = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    targets = [w for w in wanted if w in found]
    return targets or sorted(found - {"lm_head"})


def apply_lora(model: Any, cfg: Any, *, include_lm_head: bool = False) -> Any:
    """Wrap ``model`` with a peft LoRA adapter (rank, alpha, dropout from ``cfg``).

    ``include_lm_head`` also adapts the output layer (used for the tiny demo model, whose
    random embeddings are too small for attention/MLP adapters alone to sharpen its logits).
    """
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as e:  # pragma: no cover - peft is in the [local] extra
        raise MissingDependencyError(
            "LoRA training needs 'peft'. Install it with: pip install 'amzn-nova-forge[local]'", extra="local"
        ) from e
    if include_lm_head:
        _untie_lm_head(model)
    conf = LoraConfig(
        r=int(cfg.lora_rank),
        lora_alpha=int(cfg.lora_alpha) if float(cfg.lora_alpha).is_integer() else cfg.lora_alpha,
        lora_dropout=float(cfg.lora_dropout),
        target_modules=lora_targets(model) + (["lm_head"] if include_lm_head else []),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, conf)


def _untie_lm_head(model: Any) -> None:
    """Give ``lm_head`` its own weight so merging a LoRA delta into it leaves the input embeddings alone."""
    import torch

    head = getattr(model, "lm_head", None)
    emb = model.get_input_embeddings()
    if head is None or emb is None or head.weight.data_ptr() != emb.weight.data_ptr():
        return
    head.weight = torch.nn.Parameter(emb.weight.detach().clone(), requires_grad=emb.weight.requires_grad)
    model.config.tie_word_embeddings = False
    if hasattr(model, "_tied_weights_keys"):
        model._tied_weights_keys = None


def save_checkpoint(model: Any, tok: Any, out: Path, meta: dict[str, Any]) -> Path:
    """Save a complete HF folder at ``out`` (LoRA merged; the adapter kept in ``out/adapter``)."""
    from amzn_nova_forge.manager._local import _tiny

    out.mkdir(parents=True, exist_ok=True)
    to_save = model
    if hasattr(model, "peft_config"):
        model.save_pretrained(out / "adapter")
        import copy

        to_save = copy.deepcopy(model).merge_and_unload()
    to_save.save_pretrained(out)
    tok.save_pretrained(out)
    if meta.get("tiny"):
        _tiny.mark_tiny(out)
    (out / "nova_forge_checkpoint.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    return out


def generate(
    model: Any,
    tok: Any,
    prompts: list[list[int]],
    *,
    max_new_tokens: int,
    temperature: float = 0.0,
    top_k: int = 0,
    top_p: float = 1.0,
    num_return_sequences: int = 1,
    keep_eos: bool = False,
    min_new_tokens: int = 0,
) -> list[list[int]]:
    """Sample completions (new token ids only, padding stripped), left-padding the batch.

    Each prompt yields ``num_return_sequences`` rows, in order. EOS ends a completion and is
    dropped unless ``keep_eos``.
    """
    import torch

    device = next(model.parameters()).device
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p) :] = 1
    do_sample = temperature > 0
    kwargs: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "do_sample": do_sample,
        "pad_token_id": pad,
        "eos_token_id": tok.eos_token_id,
        "num_return_sequences": num_return_sequences,
    }
    if min_new_tokens:
        kwargs["min_new_tokens"] = min_new_tokens
    if do_sample:
        kwargs.update(temperature=temperature, top_k=top_k or None, top_p=top_p)
    with torch.no_grad():
        out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), **kwargs)
    result = []
    for row in out[:, width:].tolist():
        cut = []
        for t in row:
            if t == tok.eos_token_id:
                if keep_eos:
                    cut.append(t)
                break
            if t == pad:
                break
            cut.append(t)
        result.append(cut)
    return result
