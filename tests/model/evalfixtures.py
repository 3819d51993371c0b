"""Evaluation and batch-inference outputs as the SageMaker Nova containers write them.

SMTJ: ``<output>/<job>/output/output.tar.gz`` holding ``<job>/eval_results/results_<ts>.json``
(one per task or subtask run), ``details/…parquet``, ``inference_output.jsonl`` (gen_qa /
batch inference: ``prompt`` and ``inference`` are Python ``repr`` strings of lists) and
``tensorboard_results/eval/events.out.tfevents.*``. SMHP writes the same files under the
``<output>/<job>/eval-result/`` prefix.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

MMLU_ALGEBRA = {
    "config_general": {
        "model_name": "nova-lite-2/prod",
        "start_time": 1768480200.1,
        "end_time": 1768480800.7,
        "total_evaluation_time_secondes": "600.6",
        "max_samples": None,
    },
    "results": {
        "mmlu:abstract_algebra|0": {"accuracy": 0.65, "accuracy_stderr": 0.04793724854411023},
        "all": {"accuracy": 0.65, "accuracy_stderr": 0.04793724854411023},
    },
    "versions": {"mmlu:abstract_algebra|0": 0},
    "config_tasks": {"mmlu:abstract_algebra": {"name": "mmlu:abstract_algebra", "metric": ["accuracy"]}},
}
MMLU_ANATOMY = {
    "config_general": {"model_name": "nova-lite-2/prod", "end_time": 1768481500.2},
    "results": {"mmlu:anatomy|0": {"accuracy": 0.7185185185185186, "accuracy_stderr": 0.03885004245800254}},
    "versions": {"mmlu:anatomy|0": 0},
}
GEN_QA = {
    "results": {
        "custom|gen_qa_gen_qa|0": {
            "rouge1": 0.5218,
            "rouge1_stderr": 0.0301,
            "rouge2": 0.3102,
            "rouge2_stderr": 0.0288,
            "rougeL": 0.4877,
            "rougeL_stderr": 0.0297,
            "em": 0.12,
            "em_stderr": 0.0326,
            "qem": 0.15,
            "qem_stderr": 0.0359,
            "f1": 0.5531,
            "f1_stderr": 0.0292,
            "f1_score_quasi": 0.5702,
            "bleu": 21.44,
            "bleu_stderr": 2.01,
        }
    },
    "config_general": {"model_name": "s3://customer-escrow-123456789012-smtj-abc/my-job/step-500"},
}

# Lines as the container writes them: prompt/inference are repr() strings of Python lists.
INFERENCE_ROWS: list[dict[str, Any]] = [
    {
        "prompt": repr(
            [
                {"role": "system", "content": "You are a terse assistant."},
                {"role": "user", "content": "What is the capital of France?"},
            ]
        ),
        "inference": repr(["Paris"]),
        "gold": "Paris",
        "metadata": "geo-1",
    },
    {  # quotes, apostrophes, brackets and newlines inside the text (broke the regex parser)
        "prompt": repr([{"role": "user", "content": "Quote: \"it's ['fine']\"\nthen say 'ok'"}]),
        "inference": repr(["It's ['fine'].\nok"]),
        "gold": "ok",
    },
    {  # multi-turn, content blocks, a JSON (not repr) prompt, unicode
        "prompt": json.dumps(
            [
                {"role": "system", "content": [{"text": "Réponds en français."}]},
                {"role": "user", "content": "Bonjour"},
                {"role": "assistant", "content": "Salut !"},
                {"role": "user", "content": [{"type": "text", "text": "Ça va ?"}]},
            ]
        ),
        "inference": ["Oui, ça va très bien."],
        "gold": "Oui",
        "metadata": {"lang": "fr"},
    },
]


def tar_gz(members: dict[str, bytes], *, extra: list[tarfile.TarInfo] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1768480800
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info)
    return buf.getvalue()


def eval_members(job: str) -> dict[str, bytes]:
    return {
        f"{job}/eval_results/results_2026-01-15T12-40-00.654321.json": json.dumps(MMLU_ANATOMY).encode(),
        f"{job}/eval_results/results_2026-01-15T12-30-00.123456.json": json.dumps(MMLU_ALGEBRA).encode(),
        f"{job}/eval_results/details/model/2026-01-15T12-30-00/details_mmlu_#_2026-01-15T12-30-00.parquet": b"PAR1\x00\x00fake-parquet\x00PAR1",
        f"{job}/tensorboard_results/eval/events.out.tfevents.1768480800.algo-1": b"\x18\x00\x00\x00tfevents",
    }


def inference_members(job: str) -> dict[str, bytes]:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in INFERENCE_ROWS).encode()
    return {
        f"{job}/eval_results/inference_output.jsonl": body,
        f"{job}/eval_results/results_2026-01-15T13-00-00.000001.json": json.dumps(GEN_QA).encode(),
    }
