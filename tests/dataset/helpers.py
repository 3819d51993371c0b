"""Record builders shared by the dataset tests."""

from __future__ import annotations

from typing import Any


def qa_rows(n: int) -> list[dict[str, str]]:
    return [{"input": f"What is {i} + {i}?", "output": str(2 * i)} for i in range(n)]


def converse(q: str = "What is 2 + 2?", a: str = "4", **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": q}]},
            {"role": "assistant", "content": [{"text": a}]},
        ],
    }
    rec.update(extra)
    return rec
