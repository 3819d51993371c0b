"""Batch sample tracing: which lines of your training data were in step N's batch.

A HyperPod CPT job started with ``ForgeTrainer(..., enable_batch_sample_tracing=True)`` (the
recipe's ``training_config.enable_batch_sample_tracing``) writes, per data-parallel rank, a
log ``<output>/<job id>/batch_tracing/**/batch_hashes_dp<rank>.jsonl`` with one record per
step: ``{"step": 12, "hashes": ["9f2c…", …]}`` (or ``"samples": [{"hash": …}]``). Each hash is
the first 16 hex digits of the SHA-256 of a record's content, computed by the training
container: the ``text`` field with ``[DOC]`` separators normalised, else the
``messages``/``conversations`` as ``json.dumps(..., sort_keys=True, ensure_ascii=False)``.

:func:`run` reads the step's hashes, streams the data file once (local or ``s3://``; memory
bounded by the batch, not the file), and writes the matching lines, in file order, to
``output_path`` atomically. When a gradient spikes at step N, these are the samples to look at.

Example:
    >>> run("train.jsonl", "out/job-1/batch_tracing", step=120)  # doctest: +SKIP
    PosixPath('step_120_samples.jsonl')
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import BatchTraceError, ConfigError

__all__ = [
    "BATCH_TRACE_LOG_SUBDIR",
    "DEFAULT_BATCH_TRACE_CACHE_DIR",
    "BatchTraceError",
    "StepTrace",
    "check_batch_tracing_supported",
    "fingerprint_record",
    "log_dir_for",
    "run",
    "trace_step",
]

logger = logging.getLogger(__name__)

#: Folder under ``<output>/<job id>/`` where the training container writes the hash logs.
BATCH_TRACE_LOG_SUBDIR = "batch_tracing"
#: Accepted for compatibility with the official signature; tracing streams and needs no cache.
DEFAULT_BATCH_TRACE_CACHE_DIR = "~/.nova-forge/batch_trace_cache"

_DOC = re.compile(r" ?\[DOC] ?")
_RANK = re.compile(r"batch_hashes_dp(\d+)\.jsonl$")
_HASH = re.compile(r"^[0-9a-f]{16}$")
#: A hash-log or data line longer than this is refused (a corrupt file, not a record).
_MAX_LINE_BYTES = 64 * 1024 * 1024
#: More hashes than this in one step is not a batch: the log is refused.
_MAX_STEP_SAMPLES = 1_000_000


def check_batch_tracing_supported(platform: Platform, method: TrainingMethod) -> None:
    """Refuse ``enable_batch_sample_tracing`` where the training container does not write hash logs.

    Raises:
        ConfigError: The platform is not SMHP or the method is not CPT.
    """
    from amzn_nova_forge.manager._registry import capabilities_of

    if not capabilities_of(platform).batch_sample_tracing:
        raise ConfigError(
            f"enable_batch_sample_tracing is supported on SageMaker HyperPod (SMHP) only, not {platform.value}; "
            "use SMHPRuntimeManager or drop the flag."
        )
    if method is not TrainingMethod.CPT:
        raise ConfigError(
            f"enable_batch_sample_tracing is supported for CPT only, not {method.value}; "
            "use TrainingMethod.CPT or drop the flag."
        )


def fingerprint_record(record: dict[str, Any]) -> str | None:
    """The training container's 16-hex-digit fingerprint of one data record (None if it has no content)."""
    text = record.get("text")
    if isinstance(text, str) and text:
        content = " [DOC] ".join(part for part in _DOC.split(text) if part.strip())
    else:
        conversation = record.get("conversations") or record.get("messages")
        if not conversation:
            return None
        content = json.dumps(conversation, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class StepTrace:
    """What :func:`trace_step` found.

    Attributes:
        step: The training step.
        samples: Hashes logged for the step (all ranks).
        lines: ``(0-based line number, data-parallel rank)`` of each matched data line, in file order.
        unmatched: Hashes that match no line of the data file (e.g. samples of a data-mixing source).
        output_path: Where the matched lines were written (None when nothing matched).
    """

    step: int
    samples: int
    lines: tuple[tuple[int, int], ...]
    unmatched: int
    output_path: Path | None


def _log_files(log_dir: str) -> list[tuple[int, str]]:
    try:
        uris = list(storage.list_uris(log_dir))
    except FileNotFoundError as e:
        raise BatchTraceError(f"No batch hash logs at {log_dir}: {e}") from e
    found = []
    for uri in uris:
        m = _RANK.search(uri)
        if m:
            found.append((int(m.group(1)), uri))
    if not found:
        raise BatchTraceError(
            f"No batch_hashes_dp*.jsonl under {log_dir}. Was the job started with "
            "enable_batch_sample_tracing=True (SMHP, CPT), and has it run that step?"
        )
    return sorted(found)


def _step_hashes(log_dir: str, step: int) -> dict[str, int]:
    """hash -> data-parallel rank, for ``step`` (first rank wins for a hash seen twice)."""
    out: dict[str, int] = {}
    for rank, uri in _log_files(log_dir):
        for n, raw in enumerate(storage.iter_lines(uri, max_line_bytes=_MAX_LINE_BYTES), 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                raise BatchTraceError(f"{uri}, line {n}: not JSON; the hash log is corrupt.") from None
            if not isinstance(record, dict) or record.get("step") != step:
                continue
            hashes = record.get("hashes")
            if hashes is None:
                samples = record.get("samples") or []
                hashes = [s.get("hash") for s in samples if isinstance(s, dict)]
            if not isinstance(hashes, list):
                raise BatchTraceError(f"{uri}, line {n}: 'hashes' must be a list of strings.")
            for h in hashes:
                if not isinstance(h, str) or not _HASH.match(h):
                    raise BatchTraceError(f"{uri}, line {n}: {h!r} is not a 16-hex-digit sample hash.")
                out.setdefault(h, rank)
            if len(out) > _MAX_STEP_SAMPLES:
                raise BatchTraceError(f"{uri}: more than {_MAX_STEP_SAMPLES} samples in step {step}; refusing.")
            break  # one record per step and rank
    return out


def _data_lines(data_path: str) -> Iterator[tuple[int, bytes]]:
    try:
        yield from enumerate(storage.iter_lines(data_path, max_line_bytes=_MAX_LINE_BYTES))
    except FileNotFoundError as e:
        raise BatchTraceError(f"Training data {data_path} not found: {e}") from e
    except ValueError as e:
        raise BatchTraceError(f"{data_path}: {e}") from e


def trace_step(data_path: str, log_dir: str, step: int, output_path: str | None = None) -> StepTrace:
    """Find and write the data lines of ``step``; see :func:`run` (this returns the full report)."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ConfigError(f"step must be a non-negative integer, got {step!r}.")
    wanted = _step_hashes(log_dir, step)
    if not wanted:
        logger.info("No samples logged for step %d in %s", step, log_dir)
        return StepTrace(step, 0, (), 0, None)
    remaining = dict(wanted)
    matched: list[tuple[int, int, bytes]] = []
    for number, raw in _data_lines(data_path):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            continue  # a malformed line was not trained on either
        fp = fingerprint_record(record) if isinstance(record, dict) else None
        if fp is not None and fp in remaining:
            matched.append((number, remaining.pop(fp), raw))
            if not remaining:
                break
    dest: Path | None = None
    if matched:
        dest = Path(output_path or f"step_{step}_samples.jsonl")
        with storage.open_write(str(dest)) as f:
            for _, _, raw in matched:
                f.write(raw + b"\n")
    logger.info(
        "Step %d: %d samples, %d from %s, %d from elsewhere", step, len(wanted), len(matched), data_path, len(remaining)
    )
    return StepTrace(step, len(wanted), tuple((n, r) for n, r, _ in matched), len(remaining), dest)


def run(
    data_path: str,
    log_dir: str,
    step: int,
    output_path: str | None = None,
    s3_client: Any | None = None,
    cache_dir: str = DEFAULT_BATCH_TRACE_CACHE_DIR,
) -> Path | None:
    """Write the lines of ``data_path`` that were in training step ``step``; None if none matched.

    Args:
        data_path: The training data (local path or ``s3://``), as given to the job.
        log_dir: The job's batch-tracing folder, ``<output>/<job id>/batch_tracing/`` (local or ``s3://``).
        step: The training step.
        output_path: Where to write the matched lines (default ``step_<step>_samples.jsonl``).
        s3_client: Ignored (S3 access goes through the SDK's client factory); kept for the official signature.
        cache_dir: Ignored (tracing streams both files); kept for the official signature.

    Raises:
        BatchTraceError: Missing or corrupt hash logs, or an unreadable data file.
        ConfigError: ``step`` is not a non-negative integer.
    """
    del s3_client, cache_dir
    return trace_step(data_path, log_dir, step, output_path).output_path


def log_dir_for(output_path: str, job_id: str) -> str:
    """The batch-tracing folder of ``job_id`` under its output path (local or ``s3://``)."""
    return storage.join(output_path, job_id, BATCH_TRACE_LOG_SUBDIR)
