"""Token-by-token generation for the local server: ``n`` samples, stop sequences, seeds, streaming.

One decoding loop with a KV cache serves every request shape: the prompt is repeated
``n`` times (same length, no padding), each step samples one token per row from the
request's own ``torch.Generator`` (so ``seed`` is reproducible while other requests run
concurrently), and text is released to the caller only once it cannot be the start of a
stop sequence or an unfinished UTF-8 character.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from amzn_nova_forge.manager._local._serve_protocol import APIError, Choice, GenRequest

__all__ = ["Engine"]

#: ``on_delta(choice_index, text)`` receives each piece of released text.
DeltaFn = Callable[[int, str], None]


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many trailing characters of ``text`` must wait (a stop-sequence prefix or a partial character)."""
    hold = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:k]):
                hold = max(hold, k)
                break
    if text.endswith("\ufffd"):  # an unfinished multi-byte character decodes as U+FFFD for now
        hold = max(hold, len(text) - len(text.rstrip("\ufffd")))
    return hold


class _Row:
    """The state of one of the ``n`` completions."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.ids: list[int] = []
        self.sent = 0  # characters released so far
        self.text = ""
        self.finish: str | None = None


class Engine:
    """Generates completions for validated requests with a loaded model and tokenizer.

    Args:
        model: A Hugging Face causal LM (in eval mode).
        tok: Its tokenizer (with a chat template).

    Example:
        >>> engine = Engine(model, tok)  # doctest: +SKIP
        >>> ids = engine.prompt_ids(req)  # doctest: +SKIP
        >>> choices = engine.generate(req, ids)  # doctest: +SKIP
    """

    def __init__(self, model: Any, tok: Any) -> None:
        self.model = model
        self.tok = tok
        self.device = next(model.parameters()).device
        eos = getattr(model.generation_config, "eos_token_id", None)
        ids = {tok.eos_token_id} | (set(eos) if isinstance(eos, list) else {eos})
        self.eos_ids = {int(i) for i in ids if i is not None}
        limit = getattr(model.config, "max_position_embeddings", None)
        self.context = int(limit) if isinstance(limit, int) and limit > 0 else None

    def prompt_ids(self, req: GenRequest) -> list[int]:
        """Token ids of the request's prompt (chat template for chat, raw text for completions)."""
        from amzn_nova_forge.manager._local._data import tokenize_prompt

        if req.kind == "chat":
            return tokenize_prompt(self.tok, req.chat_messages())
        return list(self.tok(req.prompt, add_special_tokens=False)["input_ids"])

    def budget(self, req: GenRequest, prompt_len: int) -> int:
        """``max_tokens`` for this prompt within the model's context.

        Raises:
            APIError: The prompt alone fills the context, or an explicit ``max_tokens`` does not fit.
        """
        if prompt_len == 0 and req.kind == "completion":
            raise APIError("'prompt' is empty.", param="prompt")
        if self.context is None:
            return req.max_tokens
        room = self.context - prompt_len
        if room <= 0:
            raise APIError(
                f"The prompt is {prompt_len} tokens; this model's context is {self.context} tokens.",
                param="messages" if req.kind == "chat" else "prompt",
                code="context_length_exceeded",
            )
        if req.max_tokens_given and req.max_tokens > room:
            raise APIError(
                f"max_tokens {req.max_tokens} + the prompt's {prompt_len} tokens exceed this model's "
                f"context of {self.context} tokens; ask for at most {room}.",
                param="max_tokens",
                code="context_length_exceeded",
            )
        return min(req.max_tokens, room)

    def _sample(self, logits: Any, req: GenRequest, gen: Any) -> Any:
        import torch

        logits = logits.float()
        if req.temperature <= 0:
            return logits.argmax(dim=-1)
        logits = logits / req.temperature
        if req.top_k and req.top_k < logits.shape[-1]:
            kth = torch.topk(logits, req.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        if req.top_p < 1.0:
            sorted_p, order = torch.sort(probs, dim=-1, descending=True)
            drop = sorted_p.cumsum(dim=-1) - sorted_p > req.top_p  # keep the smallest set reaching top_p
            sorted_p = sorted_p.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        return torch.multinomial(probs, 1, generator=gen).squeeze(-1)

    def _release(self, row: _Row, stops: tuple[str, ...], on_delta: DeltaFn | None, final: bool) -> None:
        text = self.tok.decode(row.ids, skip_special_tokens=True)
        cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            text, row.finish = text[:cut], "stop"
        elif not final:
            text = text[: len(text) - _held_back(text, stops)]
        if len(text) > row.sent and on_delta is not None:
            on_delta(row.index, text[row.sent :])
        row.sent = max(row.sent, len(text))
        row.text = text

    def generate(
        self,
        req: GenRequest,
        prompt: list[int],
        *,
        on_delta: DeltaFn | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> list[Choice]:
        """Run the decoding loop; return the ``n`` choices (``finish_reason`` ``stop`` or ``length``).

        Args:
            req: The validated request.
            prompt: Its token ids (:meth:`prompt_ids`).
            on_delta: Called with each released piece of text (streaming).
            cancelled: Polled each step; True ends generation early (client gone).
        """
        import torch

        budget = self.budget(req, len(prompt))
        gen = torch.Generator(device=self.device)
        gen.manual_seed(req.seed if req.seed is not None else secrets.randbits(63))
        rows = [_Row(i) for i in range(req.n)]
        ids = torch.tensor([prompt] * req.n, dtype=torch.long, device=self.device)
        past = None
        with torch.no_grad():
            for _ in range(budget):
                out = self.model(input_ids=ids, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = self._sample(out.logits[:, -1, :], req, gen)
                for row, token in zip(rows, nxt.tolist()):
                    if row.finish is not None:
                        continue
                    if token in self.eos_ids:
                        row.finish = "stop"
                        self._release(row, req.stop, on_delta, final=True)
                        continue
                    row.ids.append(int(token))
                    self._release(row, req.stop, on_delta, final=False)
                if all(r.finish is not None for r in rows) or cancelled():
                    break
                ids = nxt.unsqueeze(-1)
        for row in rows:
            if row.finish is None:
                row.finish = "length"
                self._release(row, req.stop, on_delta, final=True)
        return [Choice(text=r.text, finish_reason=r.finish or "length", tokens=len(r.ids), index=r.index) for r in rows]
