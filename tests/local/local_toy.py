"""Toy datasets and reward functions that a tiny random model can learn in a few steps."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

REWARD_LOWERCASE = """
import string

def lambda_handler(event, context):
    out = []
    for sample in event:
        text = sample["messages"][-1]["content"][0]["text"]
        score = sum(ch in string.ascii_lowercase for ch in text) / max(len(text), 1)
        out.append({"id": sample["id"], "aggregate_reward_score": score,
                    "metrics_list": [{"name": "lowercase", "value": score, "type": "Reward"}]})
    return out
"""

REWARD_RAISES = """
def _grade(sample):
    return sample["reference_answer"]["expected_score_field"]

def lambda_handler(event, context):
    return [{"id": s["id"], "aggregate_reward_score": _grade(s)} for s in event]
"""


def _write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def sft(path: Path, n: int = 32) -> str:
    """Converse SFT rows: 'What is a+b?' -> 'The answer is N.' (a constant, learnable pattern)."""
    rng = random.Random(0)
    rows = []
    for _ in range(n):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        rows.append(
            {
                "schemaVersion": "bedrock-conversation-2024",
                "system": [{"text": "You add numbers."}],
                "messages": [
                    {"role": "user", "content": [{"text": f"What is {a}+{b}?"}]},
                    {"role": "assistant", "content": [{"text": f"The answer is {a + b}."}]},
                ],
            }
        )
    return _write(path, rows)


def dpo(path: Path, n: int = 24) -> str:
    """Nova DPO rows: the preferred answer states the sum, the rejected one refuses."""
    rng = random.Random(1)
    rows = []
    for _ in range(n):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        rows.append(
            {
                "schemaVersion": "bedrock-conversation-2024",
                "messages": [
                    {"role": "user", "content": [{"text": f"What is {a}+{b}?"}]},
                    {
                        "role": "assistant",
                        "candidates": [
                            {"content": [{"text": f"It is {a + b}."}], "preferenceLabel": "preferred"},
                            {"content": [{"text": "I refuse to answer that."}], "preferenceLabel": "non-preferred"},
                        ],
                    },
                ],
            }
        )
    return _write(path, rows)


def cpt(path: Path, n: int = 24) -> str:
    return _write(path, [{"text": "the quick brown fox jumps over the lazy dog. " * 2} for _ in range(n)])


def rft(path: Path, n: int = 16) -> str:
    rows = [
        {
            "id": f"s{i}",
            "messages": [
                {"role": "system", "content": "Write lowercase letters."},
                {"role": "user", "content": f"Write some letters ({i})."},
            ],
            "reference_answer": {"letters": "abc"},
        }
        for i in range(n)
    ]
    return _write(path, rows)


def gen_qa(path: Path) -> str:
    rows = [
        {"query": f"What is {a}+{a}?", "response": f"The answer is {2 * a}.", "metadata": f"row{a}"} for a in range(6)
    ]
    return _write(path, rows)


def mcq(path: Path) -> str:
    rows = [{"question": f"Which is even? ({i})", "choices": ["3", "4", "5", "7"], "answer": "B"} for i in range(4)]
    return _write(path, rows)


def losses(job_dir: str | Path, column: str = "training_loss") -> list[float]:
    with open(Path(job_dir) / "output" / "step_wise_training_metrics.csv", encoding="utf-8") as f:
        return [float(r[column]) for r in csv.DictReader(f)]


class Jobs:
    """Started jobs: ``results[name]``, ``customizers[name]``, ``data[kind]`` paths, ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.results: dict[str, Any] = {}
        self.customizers: dict[str, Any] = {}
        self.data: dict[str, str] = {}
