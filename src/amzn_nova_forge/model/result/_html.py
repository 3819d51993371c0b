"""HTML reprs of job results and deployments for notebooks (``_repr_html_`` hooks call these).

A repr makes no AWS call: a cloud job shows its last known status (after ``wait()`` /
``status()``), a local job its live status and step/loss read from its job folder.
"""

from __future__ import annotations

from typing import Any

from amzn_nova_forge.core._html import kv_table, records_table, section

__all__ = ["deployment_html", "result_html"]

_HIDDEN = {"__class_name__", "job_id", "platform", "region", "extras", "started_time"}


def _state(result: Any) -> tuple[Any, dict[str, Any]]:
    """(JobInfo or None, status.json data) without any AWS call."""
    runtime = result._runtime_class()
    if not runtime.capabilities.live_status:
        return getattr(result, "_final", None), {}
    try:
        return result.status(), runtime.job_status_data(result.ref)
    except (OSError, ValueError):
        return None, {}


def result_html(result: Any) -> str:
    """An HTML summary of a job result: identity, status, progress or metrics, and its fields.

    Example:
        >>> from IPython.display import HTML; HTML(result_html(result))  # doctest: +SKIP
    """
    info, data = _state(result)
    rows: list[tuple[str, Any]] = [
        ("job id", result.job_id),
        ("platform", result.platform.value),
        ("region", result.region),
        ("started", result.started_time.isoformat(timespec="seconds") if result.started_time else None),
        ("status", f"{info.raw_status}" if info is not None else "call status() / wait()"),
        ("message", info.message if info is not None and info.message else None),
    ]
    prog = data.get("progress") or {}
    if prog.get("total_steps"):
        rows.append(("progress", f"step {prog.get('step', 0)}/{prog['total_steps']}"))
        for key in ("loss", "reward_score"):
            if prog.get(key) is not None:
                rows.append((key, prog[key]))
    fields = {k: v for k, v in result.to_dict().items() if k not in _HIDDEN}
    rows.extend((k.replace("_", " "), v) for k, v in fields.items())
    parts = [kv_table(rows)]
    metrics = (data.get("outputs") or {}).get("metrics") or {}
    if metrics:
        parts.append(section("metrics", records_table([metrics])))
    mlflow = (data.get("tracking") or {}).get("mlflow") or {}
    if mlflow.get("run_id"):
        parts.append(section("MLflow", kv_table(sorted(mlflow.items()))))
    return section(type(result).__name__, *parts)


def deployment_html(deployment: Any) -> str:
    """An HTML summary of a :class:`DeploymentResult` (no live status call)."""
    e = deployment.endpoint
    rows = [
        ("platform", getattr(e.platform, "value", e.platform)),
        ("endpoint name", e.endpoint_name),
        ("uri", e.uri),
        ("model artifact", e.model_artifact_path),
        ("region", e.region),
        ("created", deployment.created_at.isoformat(timespec="seconds")),
        ("resources", deployment.resources or None),
    ]
    return section("DeploymentResult", kv_table(rows), note="deployment.status asks the platform live")
