"""Inference results: batch-inference jobs and the base class of single inferences.

A batch-inference job is a ``gen_qa`` evaluation run whose useful output is
``inference_output.jsonl`` (inside ``<output>/<job>/output/output.tar.gz`` on SMTJ, under
the ``eval-result/`` prefix on SMHP, in the job folder for LOCAL). Each line is one JSON
object as the container writes it::

    {"prompt": "[{'role': 'system', 'content': '…'}, {'role': 'user', 'content': '…'}]",
     "inference": "['…model answer…']", "gold": "…", "metadata": …}

``prompt`` and ``inference`` are often Python ``repr`` strings of lists. They are decoded
with :func:`json.loads` or, failing that, :func:`ast.literal_eval` (which evaluates
literals only, never code), so quotes, brackets and newlines inside the text survive.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.enums import JobStatus, Platform
from amzn_nova_forge.model.result._base import BaseJobResult
from amzn_nova_forge.model.result._fetch import fetch_output, find_files, iter_json_lines

__all__ = [
    "BatchInferenceResult",
    "InferenceResult",
    "LocalBatchInferenceResult",
    "SMTJBatchInferenceResult",
    "format_record",
]

logger = logging.getLogger(__name__)


def _decode(value: Any) -> Any:
    """A JSON or Python-literal list/dict encoded in a string, decoded; anything else unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or text[0] not in "[{":
        return value
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value


def _text(content: Any) -> str:
    """Text of a message content: a string, or content blocks (``{"text": …}`` / ``{"type": "text", …}``)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return str(content.get("text", ""))
    if isinstance(content, (list, tuple)):
        return "".join(_text(c) for c in content if isinstance(c, str) or (isinstance(c, Mapping) and "text" in c))
    return str(content)


def _split_prompt(prompt: Any) -> tuple[str, str]:
    """``(system, query)`` from a decoded prompt (messages list, dict or plain text)."""
    if isinstance(prompt, Mapping):
        system = _text(prompt.get("system"))
        msgs = prompt.get("messages")
        if msgs is None:
            return system, _text(prompt.get("query") or prompt.get("prompt") or prompt.get("content"))
        _, query = _split_prompt(msgs)
        return system, query
    if isinstance(prompt, (list, tuple)) and all(isinstance(m, Mapping) for m in prompt):
        system = "\n".join(_text(m.get("content")) for m in prompt if m.get("role") == "system")
        users = [_text(m.get("content")) for m in prompt if m.get("role") == "user"]
        return system, (users[-1] if users else "")
    return "", _text(prompt)


def format_record(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One ``inference_output.jsonl`` object → ``{system, query, gold_response, inference_response, metadata}``.

    Example:
        >>> format_record({"prompt": "[{'role': 'user', 'content': 'Say \\"hi\\"'}]", "inference": "['hi']", "gold": "hi"})
        {'system': '', 'query': 'Say "hi"', 'gold_response': 'hi', 'inference_response': 'hi', 'metadata': None}
    """
    system, query = _split_prompt(_decode(entry.get("prompt", entry.get("query", ""))))
    if not system and isinstance(entry.get("system"), str):
        system = entry["system"]
    inference = _decode(entry.get("inference", entry.get("inference_response")))
    if isinstance(inference, (list, tuple)):
        texts = [_text(x) for x in inference]
        inference = texts[0] if len(texts) == 1 else texts
    elif inference is not None and not isinstance(inference, str):
        inference = _text(inference)
    gold = _decode(entry.get("gold", entry.get("response")))
    if isinstance(gold, (list, tuple)) and len(gold) == 1:
        gold = gold[0]
    metadata = _decode(entry["metadata"]) if "metadata" in entry else None
    return {
        "system": system,
        "query": query,
        "gold_response": gold,
        "inference_response": inference,
        "metadata": metadata,
    }


class InferenceResult(BaseJobResult):
    """Base class of inference results.

    Attributes:
        inference_output_path: Where the raw inference output is ("" for single inferences).
    """

    def __init__(self, job_id: str, started_time: Any = None, inference_output_path: str = "", **kwargs: Any) -> None:
        super().__init__(job_id, started_time, **kwargs)
        self.inference_output_path = inference_output_path

    def get(self, s3_path: str | None = None) -> dict[str, Any]:  # pragma: no cover - overridden
        """Return the inference results (subclasses implement)."""
        raise NotImplementedError

    def show(self) -> None:  # pragma: no cover - overridden
        """Print the inference results (subclasses implement)."""
        raise NotImplementedError

    def clean(self) -> None:
        """Delete locally cached results (nothing by default)."""

    def _fields(self) -> dict[str, Any]:
        return {"inference_output_path": self.inference_output_path}

    @classmethod
    def _from_fields(cls, base: dict[str, Any], data: Mapping[str, Any]) -> BaseJobResult:
        return cls(**base, inference_output_path=data.get("inference_output_path") or "")


class BatchInferenceResult(InferenceResult):
    """A batch-inference job; ``get()`` returns its outputs reformatted (see :func:`format_record`)."""

    def __init__(self, job_id: str, started_time: Any = None, inference_output_path: str = "", **kwargs: Any) -> None:
        super().__init__(job_id, started_time, inference_output_path, **kwargs)
        self._cache_dir: str | None = None
        self._records: list[dict[str, Any]] | None = None

    def _read_records(self) -> list[dict[str, Any]] | None:
        if self._cache_dir is None or not Path(self._cache_dir).exists():
            safe = self.job_id.replace("/", "-").replace(":", "-")[-60:]
            self._cache_dir = tempfile.mkdtemp(prefix=f"nova-forge-inference-{safe}-")
        root = fetch_output(
            self.inference_output_path, self._cache_dir, job_id=self.job_id, include=("*inference_output.jsonl",)
        )
        files = find_files(root, "*inference_output.jsonl")
        if not files:
            return None
        records: list[dict[str, Any]] = []
        for f in files:
            records.extend(format_record(entry) for _, entry in iter_json_lines(f, job_id=self.job_id))
        return records

    def get(self, s3_path: str | None = None) -> dict[str, Any]:
        """Download the outputs and return ``{"inference_results": [record, …]}``.

        Args:
            s3_path: When given, also write the records as JSON Lines there (S3 URI or local path;
                written atomically).

        Returns:
            ``{"inference_results": [...]}``, each record with ``system``, ``query``,
            ``gold_response``, ``inference_response`` and ``metadata``; ``{}`` while the job is
            not COMPLETED or when it wrote no ``inference_output.jsonl``.

        Example:
            >>> results = inference_result.get(s3_path="s3://my-bucket/formatted-results.jsonl")  # doctest: +SKIP
        """
        if self._records is None:
            status, raw = self.get_job_status()
            if status is not JobStatus.COMPLETED:
                logger.warning(
                    "Batch inference job %s is %s, so get() returns {}; call inference_result.wait() first "
                    "(or check inference_result.get_job_status()).",
                    self.job_id,
                    raw,
                )
                return {}
            records = self._read_records()
            if records is None:
                logger.warning(
                    "Job %s wrote no inference_output.jsonl under %s.", self.job_id, self.inference_output_path
                )
                return {}
            self._records = records
        if s3_path:
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self._records)
            storage.write_text(s3_path, body)
            logger.info("Saved %d inference results of job %s to %s.", len(self._records), self.job_id, s3_path)
        return {"inference_results": self._records}

    def show(self) -> None:
        """Print each inference result as one JSON line (or why there are none yet).

        Example:
            >>> inference_result.show()  # doctest: +SKIP
        """
        done = self._records is not None or self.status().status is JobStatus.COMPLETED
        results = self.get() if done else {}  # not get(): its "call wait() first" warning repeats what we print
        if not results:
            info = self.status()
            status, raw = info.status, info.raw_status
            if status is JobStatus.COMPLETED:
                print(
                    f"Batch inference job {self.job_id} completed but wrote no inference_output.jsonl "
                    f"under {self.inference_output_path}."
                )
            elif status in (JobStatus.FAILED, JobStatus.STOPPED):
                print(f"Batch inference job {self.job_id} ended {raw}: {info.message or 'no reason given'}.")
            else:
                print(f"Batch inference job {self.job_id} is {raw}; no inference results to show yet.")
            return
        print(f"Inference results for job {self.job_id} ({len(results['inference_results'])} records):")
        for record in results["inference_results"]:
            print(json.dumps(record, ensure_ascii=False))

    def clean(self) -> None:
        """Delete the locally cached outputs."""
        if self._cache_dir:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
        self._cache_dir = None
        self._records = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.clean()


class SMTJBatchInferenceResult(BatchInferenceResult):
    """Batch inference on SageMaker (SMTJ; also SMHP, with its cluster in ``extras``)."""

    platform_default: ClassVar[Platform | None] = Platform.SMTJ


class LocalBatchInferenceResult(BatchInferenceResult):
    """Batch inference run by the local runtime (outputs in the job folder)."""

    platform_default: ClassVar[Platform | None] = Platform.LOCAL


#: Batch-inference result class per platform (used by ``_batch``).
BATCH_RESULT_CLASSES: dict[Platform, type[InferenceResult]] = {
    Platform.SMTJ: SMTJBatchInferenceResult,
    Platform.SMHP: SMTJBatchInferenceResult,
    Platform.LOCAL: LocalBatchInferenceResult,
}
