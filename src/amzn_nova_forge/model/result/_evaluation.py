"""Evaluation results: where an evaluation job writes, and how to read it.

Output layout (SageMaker Nova evaluation containers; the local runtime writes the same):

* SMTJ / Serverless: ``<output>/<job>/output/output.tar.gz`` holding
  ``<job>/eval_results/results_<timestamp>.json`` (one per task/subtask run),
  optionally ``inference_output.jsonl``, ``details/…parquet`` and ``tensorboard_results/``.
* SMHP: the prefix ``<output>/<job>/eval-result/`` with the same files.
* LOCAL: ``<job folder>/output/output.tar.gz`` (or an ``eval_results`` folder).

``get()`` merges **every** ``results_*.json`` found (the ``results`` sections are united;
other top-level sections are merged, later files winning), so a run that wrote one file
per subtask reports all of them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.enums import EvaluationTask, JobStatus, Platform
from amzn_nova_forge.errors import JobError
from amzn_nova_forge.model.result._base import BaseJobResult
from amzn_nova_forge.model.result._fetch import (
    MAX_EXTRACT_BYTES,
    MAX_JSON_BYTES,
    fetch_output,
    find_files,
    read_json_file,
)

__all__ = [
    "BedrockEvaluationResult",
    "EvaluationResult",
    "LocalEvaluationResult",
    "SMHPEvaluationResult",
    "SMTJEvaluationResult",
    "merge_results",
]

logger = logging.getLogger(__name__)

_TENSORBOARD_DIRS = ("tensorboard_results", "tensorboard-results", "eval-tensorboard-result")


def merge_results(documents: list[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Merge results documents ``[(name, json), …]`` (in order) into one dict.

    ``results`` entries are united; when two files report the same task key, the later
    one is stored as ``"<task>@<file name>"`` so nothing is lost. Other dict sections are
    merged key by key; scalars take the last value.
    """
    merged: dict[str, Any] = {}
    for name, doc in documents:
        for key, value in doc.items():
            if key == "results" and isinstance(value, Mapping):
                res = merged.setdefault("results", {})
                for task, metrics in value.items():
                    res[f"{task}@{name}" if task in res else task] = metrics
            elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def format_table(results: Mapping[str, Any]) -> list[str]:
    """Rows ``task | metric | value | stderr`` for the ``results`` section, aligned."""
    rows: list[tuple[str, str, str, str]] = []
    for task, metrics in (results.get("results") or {}).items():
        if not isinstance(metrics, Mapping):
            rows.append((task, "", _fmt(metrics), ""))
            continue
        for metric, value in metrics.items():
            if metric.endswith("_stderr"):
                continue
            stderr = metrics.get(f"{metric}_stderr")
            rows.append((task, metric, _fmt(value), "" if stderr is None else _fmt(stderr)))
    if not rows:
        return []
    header = ("task", "metric", "value", "stderr")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return [
        line.format(*header).rstrip(),
        "  ".join("-" * w for w in widths),
        *(line.format(*r).rstrip() for r in rows),
    ]


class EvaluationResult(BaseJobResult):
    """Handle on an evaluation job.

    Attributes:
        eval_task: The :class:`EvaluationTask` evaluated.
        eval_output_path: Where the job writes its results (archive, S3 prefix or local path).

    Example:
        >>> eval_result = customizer.evaluate(job_name="my-eval", eval_task=EvaluationTask.MMLU)  # doctest: +SKIP
        >>> eval_result.get()["results"]  # doctest: +SKIP
    """

    def __init__(
        self,
        job_id: str,
        started_time: Any = None,
        eval_task: EvaluationTask | str | None = None,
        eval_output_path: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(job_id, started_time, **kwargs)
        self.eval_task = EvaluationTask(eval_task) if eval_task is not None else None
        self.eval_output_path = eval_output_path
        self.result_files: list[str] = []
        self._cache_dir: str | None = None
        self._results: dict[str, Any] | None = None

    # ---- reading -----------------------------------------------------------------------------
    def _local_dir(self, include: tuple[str, ...] | None = None) -> Path:
        if self._cache_dir is None or not Path(self._cache_dir).exists():
            safe = self.job_id.replace("/", "-").replace(":", "-")[-60:]
            self._cache_dir = tempfile.mkdtemp(prefix=f"nova-forge-eval-{safe}-")
        cap = MAX_JSON_BYTES if include else MAX_EXTRACT_BYTES  # get() takes the small results files only
        return fetch_output(self.eval_output_path, self._cache_dir, job_id=self.job_id, include=include, max_bytes=cap)

    def get(self) -> dict[str, Any]:
        """Download and return the evaluation results (all results files, merged).

        Returns:
            The merged results JSON (``{"results": {task: {metric: value, …}}, …}``);
            ``{}`` while the job is not COMPLETED or when it wrote no results file.

        Raises:
            AWSServiceError: S3 refused a download.

        Example:
            >>> results = eval_result.get()  # doctest: +SKIP
        """
        if self._results is not None:
            return self._results
        status, raw = self.get_job_status()
        if status is not JobStatus.COMPLETED:
            logger.warning(
                "Evaluation job %s is %s, so get() returns {}; call eval_result.wait() first "
                "(or check eval_result.get_job_status()).",
                self.job_id,
                raw,
            )
            return {}
        root = self._local_dir(include=("results_*.json",))
        files = find_files(root, "results_*.json")
        if not files:
            logger.warning("Evaluation job %s wrote no results_*.json under %s.", self.job_id, self.eval_output_path)
            return {}
        docs = [(f.stem, read_json_file(f, job_id=self.job_id)) for f in files]
        self.result_files = [str(f.relative_to(root)) for f in files]
        self._results = merge_results(docs)
        return self._results

    def show(self) -> None:
        """Print the evaluation results as a table (or why there are none yet).

        Example:
            >>> eval_result.show()  # doctest: +SKIP
        """
        done = self._results is not None or self.status().status is JobStatus.COMPLETED
        results = self.get() if done else {}  # not get(): its "call wait() first" warning repeats what we print
        task = self.eval_task.value if self.eval_task else "?"
        if not results:
            info = self.status()
            status, raw = info.status, info.raw_status
            if status is JobStatus.COMPLETED:
                print(
                    f"Evaluation job {self.job_id} ({task}) completed but wrote no results "
                    f"under {self.eval_output_path}."
                )
            elif status in (JobStatus.FAILED, JobStatus.STOPPED):
                print(f"Evaluation job {self.job_id} ({task}) ended {raw}: {info.message or 'no reason given'}.")
                print("  See its logs: CloudWatchLogMonitor.from_job_result(result).show_logs()")
            else:
                print(f"Evaluation job {self.job_id} ({task}) is {raw}; results are available once it completes.")
            return
        print(f"Evaluation results for job {self.job_id} ({task}):")
        rows = format_table(results)
        if rows:
            for row in rows:
                print(row)
        else:
            print(json.dumps(results, indent=2, default=str))

    def upload_tensorboard_results(self, tensorboard_s3_path: str | None = None) -> None:
        """Upload the job's TensorBoard event files to ``tensorboard_s3_path``.

        Args:
            tensorboard_s3_path: Target prefix (default: ``tensorboard_results/`` next to the results).

        Raises:
            JobError: The job has not completed.
            FileNotFoundError: The output holds no TensorBoard files.

        Example:
            >>> eval_result.upload_tensorboard_results(tensorboard_s3_path="s3://my-bucket/tensorboard/")  # doctest: +SKIP
        """
        status, raw = self.get_job_status()
        if status is not JobStatus.COMPLETED:
            raise JobError(
                f"Evaluation job {self.job_id} is {raw}; TensorBoard results exist once it completes.",
                job_id=self.job_id,
            )
        root = self._local_dir()
        tb_dir = next((d for d in sorted(root.rglob("*")) if d.is_dir() and d.name in _TENSORBOARD_DIRS), None)
        if tb_dir is None:
            events = find_files(root, "events.out.tfevents*")
            if not events:
                raise FileNotFoundError(
                    f"No TensorBoard results in the output of job {self.job_id} ({self.eval_output_path})."
                )
            tb_dir = events[0].parent
        target = tensorboard_s3_path or self._default_tensorboard_path()
        count = 0
        for f in sorted(p for p in tb_dir.rglob("*") if p.is_file()):
            storage.upload(str(f), storage.join(target, *f.relative_to(tb_dir).parts))
            count += 1
        logger.info("Uploaded %d TensorBoard file(s) of job %s to %s.", count, self.job_id, target)

    def _default_tensorboard_path(self) -> str:
        path = self.eval_output_path.rstrip("/")
        for suffix in ("/output/output.tar.gz", "/output.tar.gz", "/eval-result", "/eval_results"):
            if path.endswith(suffix):
                return path[: -len(suffix)] + "/tensorboard_results/"
        return path.rsplit("/", 1)[0] + "/tensorboard_results/"

    def clean(self) -> None:
        """Delete the locally cached results (downloads and extractions)."""
        if self._cache_dir:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
        self._cache_dir = None
        self._results = None
        self.result_files = []

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.clean()

    # ---- serialisation -----------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        return {
            "eval_task": self.eval_task.value if self.eval_task else None,
            "eval_output_path": self.eval_output_path,
        }

    @classmethod
    def _from_fields(cls, base: dict[str, Any], data: Mapping[str, Any]) -> BaseJobResult:
        return cls(**base, eval_task=data.get("eval_task"), eval_output_path=data.get("eval_output_path") or "")


class SMTJEvaluationResult(EvaluationResult):
    """Evaluation job on SageMaker Training Jobs (also used for SMTJ Serverless)."""

    platform_default: ClassVar[Platform | None] = Platform.SMTJ


class SMHPEvaluationResult(EvaluationResult):
    """Evaluation job on SageMaker HyperPod.

    Attributes:
        cluster_name: The HyperPod cluster.
        namespace: Kubernetes namespace of the job (default ``"kubeflow"``).
    """

    platform_default: ClassVar[Platform | None] = Platform.SMHP

    def __init__(
        self,
        job_id: str,
        started_time: Any = None,
        eval_task: EvaluationTask | str | None = None,
        eval_output_path: str = "",
        cluster_name: str | None = None,
        namespace: str = "kubeflow",
        **kwargs: Any,
    ) -> None:
        extras = dict(kwargs.pop("extras", None) or {})
        cluster_name = cluster_name or extras.get("cluster_name")
        namespace = extras.get("namespace", namespace) if namespace == "kubeflow" else namespace
        extras.update(cluster_name=cluster_name, namespace=namespace)
        super().__init__(job_id, started_time, eval_task, eval_output_path, extras=extras, **kwargs)
        self.cluster_name = cluster_name
        self.namespace = namespace

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "cluster_name": self.cluster_name, "namespace": self.namespace}

    @classmethod
    def _from_fields(cls, base: dict[str, Any], data: Mapping[str, Any]) -> BaseJobResult:
        return cls(
            **base,
            eval_task=data.get("eval_task"),
            eval_output_path=data.get("eval_output_path") or "",
            cluster_name=data.get("cluster_name"),
            namespace=data.get("namespace") or "kubeflow",
        )


class BedrockEvaluationResult(EvaluationResult):
    """Evaluation job run through Amazon Bedrock (results under an S3 prefix)."""

    platform_default: ClassVar[Platform | None] = Platform.BEDROCK


class LocalEvaluationResult(EvaluationResult):
    """Evaluation job of the local runtime (results in the job folder)."""

    platform_default: ClassVar[Platform | None] = Platform.LOCAL


#: Result class per platform (used by ``_evaluate``).
EVALUATION_RESULT_CLASSES: dict[Platform, type[EvaluationResult]] = {
    Platform.SMTJ: SMTJEvaluationResult,
    Platform.SMTJServerless: SMTJEvaluationResult,
    Platform.SMHP: SMHPEvaluationResult,
    Platform.BEDROCK: BedrockEvaluationResult,
    Platform.LOCAL: LocalEvaluationResult,
}
