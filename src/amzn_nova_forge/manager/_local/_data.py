"""Read Nova-format datasets and turn rows into token ids with loss masks (worker side).

Formats (what the Dataset module writes):

* SFT — Converse (``bedrock-conversation-2024``): ``system: [{"text"}]``, ``messages`` with
  content blocks; also OpenAI-style ``messages`` with string content.
* DPO — Converse whose last assistant turn has ``candidates`` (``preferred`` /
  ``non-preferred``); also ``{"prompt", "chosen", "rejected"}``.
* CPT — ``{"text": ...}``.
* RFT — OpenAI chat ``messages`` (system/user) plus ``reference_answer`` (+ ``id``, extras).
* gen_qa — ``{"query", "response", "system"?, "metadata"?}`` (evaluation / batch inference).

Loss masking: only assistant tokens are trained (labels -100 elsewhere). The masks come
from rendering the chat template incrementally, so they work for any tokenizer whose
template renders a conversation as the concatenation of its turns.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import DataPrepError

__all__ = [
    "block_text",
    "cpt_text",
    "dpo_example",
    "qa_example",
    "read_rows",
    "rft_example",
    "to_messages",
    "tokenize_chat",
    "tokenize_prompt",
]

logger = logging.getLogger(__name__)

IGNORE = -100
_DATA_SUFFIXES = (".jsonl", ".json")


def _files(uri: str) -> list[str]:
    from amzn_nova_forge.core import storage

    if storage.is_s3(uri):
        if uri.endswith(_DATA_SUFFIXES):
            return [uri]
        return sorted(u for u in storage.list_uris(uri) if u.endswith(_DATA_SUFFIXES))
    p = Path(uri).expanduser()
    if p.is_dir():
        return sorted(str(f) for f in p.rglob("*") if f.suffix in _DATA_SUFFIXES and f.is_file())
    if not p.exists():
        raise DataPrepError(f"Dataset not found: {uri}. Pass an existing JSONL file or folder.", path=uri)
    return [str(p)]


def read_rows(uri: str, *, limit: int | None = None) -> list[dict[str, Any]]:
    """All rows of a JSONL/JSON file, a folder of them, or an ``s3://`` prefix.

    Raises:
        DataPrepError: The dataset is missing, empty or not valid JSON (names file and line).
    """
    from amzn_nova_forge.core import storage

    rows: list[dict[str, Any]] = []
    for f in _files(uri):
        if f.endswith(".json"):
            try:
                data = json.loads(storage.read_text(f))
            except json.JSONDecodeError as e:
                raise DataPrepError(f"invalid JSON: {e.msg}", path=f, line=e.lineno) from e
            items = data if isinstance(data, list) else [data]
            rows.extend(r for r in items if isinstance(r, dict))
            continue
        for i, raw in enumerate(storage.iter_lines(f), start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as e:
                raise DataPrepError(f"invalid JSON: {e.msg}", path=f, line=i) from e
            if not isinstance(row, dict):
                raise DataPrepError("each line must be a JSON object", path=f, line=i)
            rows.append(row)
            if limit and len(rows) >= limit:
                return rows
    if not rows:
        raise DataPrepError("the dataset has no rows.", path=uri)
    return rows


def block_text(content: Any) -> str:
    """Plain text of a message ``content``: a string, Converse blocks or OpenAI parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        content = [content]
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif not isinstance(block, Mapping):
            continue
        elif "text" in block and isinstance(block["text"], str):
            parts.append(block["text"])
        elif "reasoningContent" in block:
            rt = block["reasoningContent"].get("reasoningText", {})
            parts.append(f"<thinking>{rt.get('text', '')}</thinking>")
        elif "toolUse" in block:
            tu = block["toolUse"]
            parts.append(json.dumps({"tool": tu.get("name"), "input": tu.get("input")}, sort_keys=True))
        elif "toolResult" in block:
            parts.append(block_text(block["toolResult"].get("content")))
        elif "json" in block:
            parts.append(json.dumps(block["json"], sort_keys=True))
        # image / video / document blocks: the local runtime trains on text only.
    return "".join(parts)


_MEDIA = ("image", "video", "document")


def has_media(row: Mapping[str, Any]) -> bool:
    """True when a Converse row has image, video or document blocks (trained as text only locally)."""
    for m in row.get("messages") or []:
        content = m.get("content") if isinstance(m, Mapping) else None
        if isinstance(content, list) and any(isinstance(b, Mapping) and any(k in b for k in _MEDIA) for b in content):
            return True
    return False


def _system_text(row: Mapping[str, Any]) -> str | None:
    system = row.get("system")
    if system is None:
        return None
    text = block_text(system)
    return text or None


def to_messages(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """Chat messages ``[{"role", "content": str}]`` of a Converse, OpenAI or gen_qa row."""
    if "query" in row and "messages" not in row:
        msgs = [{"role": "user", "content": str(row["query"])}]
        sys_text = row.get("system")
        if sys_text:
            msgs.insert(0, {"role": "system", "content": str(sys_text)})
        if row.get("response") is not None:
            msgs.append({"role": "assistant", "content": str(row["response"])})
        return msgs
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        cols = ", ".join(repr(k) for k in list(row)[:6])
        raise DataPrepError(
            f"row has no 'messages' list (expected Converse, OpenAI or gen_qa format; its columns: {cols}). "
            "Prepare the file first, e.g. JSONLDatasetLoader(question='input', answer='output') then "
            ".transform(method=..., model=...) and .save_data(...)."
        )
    out: list[dict[str, str]] = []
    sys_text = _system_text(row)
    if sys_text:
        out.append({"role": "system", "content": sys_text})
    for m in messages:
        role = str(m.get("role", "user"))
        if role == "nova_assistant":
            role = "assistant"
        if "candidates" in m:
            continue
        out.append({"role": role, "content": block_text(m.get("content"))})
    return out


def dpo_example(row: Mapping[str, Any]) -> dict[str, Any]:
    """``{"prompt": messages, "chosen": str, "rejected": str}`` from a Nova DPO or plain preference row."""
    if "chosen" in row and "rejected" in row:
        prompt = row.get("prompt")
        msgs = (
            [{"role": "user", "content": prompt}]
            if isinstance(prompt, str)
            else [{"role": m["role"], "content": block_text(m.get("content"))} for m in prompt or []]
        )
        return {"prompt": msgs, "chosen": block_text(row["chosen"]), "rejected": block_text(row["rejected"])}
    messages = row.get("messages") or []
    last = messages[-1] if messages else {}
    cands = last.get("candidates") if isinstance(last, Mapping) else None
    if not cands:
        raise DataPrepError("DPO row: the last message needs 'candidates' (preferred / non-preferred).")
    chosen = next((c for c in cands if c.get("preferenceLabel") == "preferred"), None)
    rejected = next((c for c in cands if c.get("preferenceLabel") == "non-preferred"), None)
    if chosen is None or rejected is None:
        raise DataPrepError("DPO row: 'candidates' needs one 'preferred' and one 'non-preferred' entry.")
    return {
        "prompt": to_messages({**row, "messages": messages[:-1]}),
        "chosen": block_text(chosen.get("content")),
        "rejected": block_text(rejected.get("content")),
    }


def cpt_text(row: Mapping[str, Any]) -> str:
    """The raw text of a CPT row (``{"text"}``; chat rows are flattened)."""
    if isinstance(row.get("text"), str):
        return str(row["text"])
    return "\n".join(m["content"] for m in to_messages(row))


def rft_example(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    """An RFT prompt: messages without trailing assistant turns, plus everything the reward function gets."""
    msgs = to_messages(row)
    while msgs and msgs[-1]["role"] == "assistant":
        msgs.pop()
    if not msgs:
        raise DataPrepError(f"RFT row {index + 1}: no system/user messages.")
    return {"id": str(row.get("id", f"sample_{index}")), "prompt": msgs, "row": dict(row)}


def qa_example(row: Mapping[str, Any]) -> dict[str, Any]:
    """``{"system", "query", "prompt": messages, "gold", "metadata"}`` for evaluation / batch inference.

    Accepts gen_qa rows, Converse/OpenAI rows (the last assistant turn is the gold answer)
    and Bedrock batch rows (``{"recordId", "modelInput": {...}}``).
    """
    if "modelInput" in row:
        inner = dict(row["modelInput"])
        meta = row.get("recordId")
        ex = qa_example(inner)
        ex["metadata"] = ex["metadata"] if ex["metadata"] is not None else meta
        return ex
    if "query" in row and "messages" not in row:
        msgs = to_messages({k: v for k, v in row.items() if k != "response"})
        return {
            "system": row.get("system"),
            "query": str(row["query"]),
            "prompt": msgs,
            "gold": row.get("response"),
            "metadata": row.get("metadata"),
        }
    msgs = to_messages(row)
    gold = None
    if msgs and msgs[-1]["role"] == "assistant":
        gold = msgs.pop()["content"]
    if gold is None and row.get("reference_answer") is not None:
        ref = row["reference_answer"]
        gold = ref if isinstance(ref, str) else json.dumps(ref, sort_keys=True)
    system = next((m["content"] for m in msgs if m["role"] == "system"), None)
    query = next((m["content"] for m in reversed(msgs) if m["role"] == "user"), "")
    return {"system": system, "query": query, "prompt": msgs, "gold": gold, "metadata": row.get("metadata")}


# ---- tokenization ---------------------------------------------------------------------------------
def _render(tok: Any, messages: list[dict[str, str]], *, gen_prompt: bool) -> str:
    return str(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen_prompt))


def tokenize_prompt(tok: Any, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of ``messages`` followed by the assistant generation prompt."""
    text = _render(tok, messages, gen_prompt=True)
    return list(tok(text, add_special_tokens=False)["input_ids"])


def tokenize_chat(tok: Any, messages: list[dict[str, str]], max_length: int) -> dict[str, list[int]]:
    """``{"input_ids", "labels"}`` where labels keep only the assistant turns' tokens.

    Assistant spans are found by rendering the template up to each assistant turn (with the
    generation prompt) and up to the end of it; the characters in between are the turn.
    """
    text = _render(tok, messages, gen_prompt=False)
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = _render(tok, messages[:i], gen_prompt=True) if i else ""
        upto = _render(tok, messages[: i + 1], gen_prompt=False)
        if not text.startswith(upto) or not upto.startswith(before):
            # Template is not prefix-stable: fall back to locating the content itself.
            start = text.find(m["content"], len(before) if text.startswith(before) else 0)
            if start >= 0:
                spans.append((start, start + len(m["content"])))
            continue
        spans.append((len(before), len(upto)))
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    labels = [IGNORE] * len(ids)
    for j, (s, e) in enumerate(enc["offset_mapping"]):
        if e > s and any(a <= s < b for a, b in spans):
            labels[j] = ids[j]
    return {"input_ids": ids[:max_length], "labels": labels[:max_length]}


def pack_texts(tok: Any, texts: Iterable[str], max_length: int) -> list[dict[str, list[int]]]:
    """CPT: tokenize each text, join with EOS, and cut the stream into ``max_length`` blocks."""
    eos = tok.eos_token_id
    stream: list[int] = []
    for t in texts:
        stream.extend(tok(t, add_special_tokens=False)["input_ids"])
        if eos is not None:
            stream.append(eos)
    blocks = []
    for i in range(0, len(stream), max_length):
        chunk = stream[i : i + max_length]
        if len(chunk) >= 2:
            blocks.append({"input_ids": chunk, "labels": list(chunk)})
    return blocks
