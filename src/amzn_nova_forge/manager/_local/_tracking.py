"""Tracking of local jobs: MLflow (any tracking URI) and TensorBoard event files in the job folder.

Caller side, at submission (no mlflow import): :func:`job_settings` turns the customizer's
``MLflowMonitor`` settings into absolute, checked settings for ``job.json`` and raises a
typed error for what this machine cannot do (no ``mlflow``, no database driver, no
``sagemaker-mlflow`` for an ARN).

Worker side, three hooks: :func:`tracked` wraps the job (creates the MLflow run and logs the
parameters; at the end logs final metrics and artifacts and closes the run as
FINISHED / KILLED / FAILED), :func:`log_step` receives each training step's metrics (sent to
MLflow in batches, written to ``tensorboard/events.out.tfevents.*`` at once). One worker
process runs one job, so the active tracker is module state.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError, MissingDependencyError
from amzn_nova_forge.manager._local._jobdir import JobDir
from amzn_nova_forge.manager._local._tracking_tb import EventWriter

__all__ = ["MAX_CHECKPOINT_ARTIFACT_BYTES", "Tracker", "job_settings", "log_step", "tracked"]

logger = logging.getLogger(__name__)

#: Checkpoints larger than this are not uploaded as MLflow artifacts (their path is logged as a tag).
MAX_CHECKPOINT_ARTIFACT_BYTES = 512 * 1024 * 1024
#: Seconds between batched uploads of step metrics.
FLUSH_EVERY_S = 2.0
#: Metric columns of a step row (``MetricsWriter``) -> MLflow / TensorBoard names.
STEP_METRICS = {
    "training_loss": "train/loss",
    "learning_rate": "train/learning_rate",
    "reward_score": "train/reward_score",
    "reward_accuracy": "train/reward_accuracy",
    "reward_margin": "train/reward_margin",
    "step_time_s": "train/step_time_s",
}
_DB_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


# ---- submission (caller process) ------------------------------------------------------------------
def _need(modules: tuple[str, ...], what: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"{what} needs {', '.join(missing)}. Install it with: pip install 'amzn-nova-forge[mlflow]'",
            extra="mlflow",
        )


def _absolute(uri: str, cwd: Path) -> str:
    """``./mlruns``, ``file:rel`` and ``sqlite:///rel.db`` made absolute against the caller's folder."""
    from amzn_nova_forge.core._mlflow_uri import uri_kind

    kind = uri_kind(uri)
    if kind == "path":
        return (cwd / Path(uri).expanduser()).resolve().as_uri()
    if uri.startswith("file:"):
        rest = uri[len("file:") :]
        if rest.startswith("//"):
            return uri
        return (cwd / Path(rest).expanduser()).resolve().as_uri()
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////") and uri != "sqlite:///:memory:":
        return "sqlite:///" + str((cwd / uri[len("sqlite:///") :]).resolve())
    return uri


def job_settings(
    tracking_uri: str | None,
    experiment_name: str | None,
    run_name: str | None,
    *,
    job_name: str,
    cwd: str | os.PathLike[str] | None = None,
) -> dict[str, str] | None:
    """The ``tracking`` entry of ``job.json``, or None when MLflow tracking is off.

    With an experiment or run name but no URI, ``$MLFLOW_TRACKING_URI`` (else ``./mlruns``) is used,
    as MLflow itself does.

    Raises:
        ConfigError: ``tracking_uri`` is not an MLflow URI.
        MissingDependencyError: ``mlflow-skinny`` (and, for databases, SQLAlchemy/alembic; for a
            SageMaker ARN, ``sagemaker-mlflow``) is not installed (the ``[mlflow]`` extra).

    Example:
        >>> job_settings("./mlruns", None, None, job_name="sft", cwd="/work")["tracking_uri"]  # doctest: +SKIP
        'file:///work/mlruns'
    """
    from amzn_nova_forge.core._mlflow_uri import uri_kind

    if tracking_uri is None and experiment_name is None and run_name is None:
        return None
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or "./mlruns"
    if not uri_kind(uri) and not uri.startswith("file:"):
        raise ConfigError(
            f"Invalid MLflow tracking_uri {uri!r} for a local job. Use http(s)://…, sqlite:///mlflow.db, "
            "file:///path, a folder such as ./mlruns, or a SageMaker MLflow app ARN."
        )
    _need(("mlflow",), "MLflow tracking")
    if uri.split(":", 1)[0].split("+", 1)[0] in _DB_SCHEMES:
        _need(("sqlalchemy", "alembic"), f"An MLflow database store ({uri.split(':', 1)[0]})")
    if uri_kind(uri) == "sagemaker":
        _need(("sagemaker_mlflow",), "A SageMaker MLflow tracking ARN")
    return {
        "tracking_uri": _absolute(uri, Path(cwd) if cwd is not None else Path.cwd()),
        "experiment_name": experiment_name or job_name,
        **({"run_name": run_name} if run_name else {}),
    }


# ---- worker ---------------------------------------------------------------------------------------
def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif value is not None:
        out[prefix] = str(value)[:6000]


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _artifact_root(client: Any, experiment: str) -> str | None:
    """Artifacts of a new experiment in a SQLite store go next to the database (``mlartifacts/``).

    MLflow's default, ``./mlruns`` under the *current* folder, would scatter them wherever
    the worker happens to run. Other stores keep their own default (None).
    """
    uri = str(client.tracking_uri)
    if not uri.startswith("sqlite:///") or uri.endswith(":memory:"):
        return None
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", experiment).strip("-") or "experiment"
    return (Path(uri[len("sqlite:///") :]).parent / "mlartifacts" / safe).resolve().as_uri()


class Tracker:
    """The MLflow run (when configured) and TensorBoard writer of one job.

    Args:
        jd: The job folder.
        job: The job description (``job.json``); its ``tracking`` entry configures MLflow.
    """

    def __init__(self, jd: JobDir, job: Mapping[str, Any]) -> None:
        self.jd = jd
        self.job = job
        self.settings: Mapping[str, str] | None = job.get("tracking") or None
        self.client: Any = None
        self.run_id: str | None = None
        self.error: str | None = None
        self._pending: list[Any] = []
        self._last_flush = time.monotonic()
        self.tb = EventWriter(jd.path / "tensorboard") if job.get("job_kind", "training") == "training" else None

    # ---- start --------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the MLflow run and log the job's parameters.

        Raises:
            ConfigError: The tracking store cannot be reached or refused the run (the job fails:
                tracking was asked for and would otherwise be lost silently).
        """
        if not self.settings:
            return
        uri = self.settings["tracking_uri"]
        if uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # chosen explicitly by the user
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")  # a dead server fails fast
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
        try:
            from mlflow.tracking import MlflowClient

            self.client = MlflowClient(tracking_uri=uri)
            experiment_id = self._experiment(self.settings["experiment_name"])
            tags = {"nova_forge.job_id": self.jd.path.name, "nova_forge.job_dir": str(self.jd.path)}
            run = self.client.create_run(
                experiment_id, run_name=self.settings.get("run_name") or self.jd.path.name, tags=tags
            )
            self.run_id = str(run.info.run_id)
            self._log_params()
        except Exception as e:
            raise ConfigError(f"MLflow tracking at {uri!r} failed to start: {type(e).__name__}: {e}") from e
        self.jd.log(f"MLflow run {self.run_id} in experiment {self.settings['experiment_name']!r} at {uri}.")
        self.jd.update_status(
            tracking={"mlflow": {"tracking_uri": uri, "run_id": self.run_id, "experiment_id": experiment_id}}
        )

    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        try:
            return str(self.client.create_experiment(name, artifact_location=_artifact_root(self.client, name)))
        except Exception:  # created by a concurrent job in between
            found = self.client.get_experiment_by_name(name)
            if found is None:
                raise
            return str(found.experiment_id)

    def _log_params(self) -> None:
        from mlflow.entities import Param

        params: dict[str, str] = {}
        for key in ("job_kind", "method", "model", "base_model", "device", "data_s3_path"):
            _flatten(key, self.job.get(key), params)
        _flatten("hp", self.job.get("hyperparameters"), params)
        _flatten("local", self.job.get("local"), params)
        items = [Param(k, v) for k, v in sorted(params.items())]
        for i in range(0, len(items), 100):  # MLflow's per-request limit
            self.client.log_batch(self.run_id, params=items[i : i + 100])

    # ---- steps --------------------------------------------------------------------------------
    def log_step(self, row: Mapping[str, Any]) -> None:
        """Record one training step (a ``MetricsWriter`` row: ``step_number``, ``training_loss`` …)."""
        step = int(row["step_number"])
        values = {name: float(row[col]) for col, name in STEP_METRICS.items() if row.get(col) is not None}
        if self.tb is not None:
            self.tb.scalars(values, step)
        if self.run_id is None or self.error:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._pending.extend(Metric(name, value, now, step) for name, value in values.items())
        if time.monotonic() - self._last_flush >= FLUSH_EVERY_S or len(self._pending) >= 900:
            self._flush()

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._pending or self.run_id is None or self.error:
            return
        batch, self._pending = self._pending, []
        try:
            for i in range(0, len(batch), 1000):
                self.client.log_batch(self.run_id, metrics=batch[i : i + 1000])
        except Exception as e:
            self._fail(f"logging step metrics: {type(e).__name__}: {e}")

    def _fail(self, what: str) -> None:
        self.error = what
        self.jd.log(f"WARNING: MLflow tracking stopped ({what}); train.log and the metrics CSV stay complete.")
        self.jd.update_status(tracking={"mlflow": {"run_id": self.run_id, "error": what}})

    # ---- end ----------------------------------------------------------------------------------
    def end(self, status: str) -> None:
        """Flush, log final metrics and artifacts, and close the run with ``status`` (FINISHED/KILLED/FAILED)."""
        if self.tb is not None:
            self.tb.close()
        if self.run_id is None:
            return
        self._flush()
        if not self.error:
            try:
                self._log_final()
            except Exception as e:
                self._fail(f"logging final metrics and artifacts: {type(e).__name__}: {e}")
        try:
            self.client.set_terminated(self.run_id, status=status)
        except Exception as e:
            self._fail(f"closing the run: {type(e).__name__}: {e}")

    def _log_final(self) -> None:
        from mlflow.entities import Metric

        st = self.jd.read_status()
        final: dict[str, float] = {}
        for key, value in {**(st.get("summary") or {}), **((st.get("outputs") or {}).get("metrics") or {})}.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                final[f"final/{key}" if key in ("steps", "final_loss", "val_loss") else f"eval/{key}"] = float(value)
        now = int(time.time() * 1000)
        if final:
            self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, 0) for k, v in sorted(final.items())])
        for path, name in ((self.jd.log_file, None), (self.jd.job_file, None)):
            if path.exists():
                self.client.log_artifact(self.run_id, str(path), name)
        if self.jd.output_dir.is_dir():
            self.client.log_artifacts(self.run_id, str(self.jd.output_dir), "output")
        if self.tb is not None and self.tb.path.exists():
            self.client.log_artifacts(self.run_id, str(self.tb.folder), "tensorboard")
        ckpt = self.jd.checkpoint_dir
        if ckpt.is_dir():
            size = _dir_bytes(ckpt)
            self.client.set_tag(self.run_id, "nova_forge.checkpoint_path", str(ckpt))
            if size <= MAX_CHECKPOINT_ARTIFACT_BYTES:
                self.client.log_artifacts(self.run_id, str(ckpt), "checkpoint")
            else:
                self.jd.log(
                    f"MLflow: checkpoint ({size / 2**20:.0f} MiB) is larger than "
                    f"{MAX_CHECKPOINT_ARTIFACT_BYTES / 2**20:.0f} MiB; logged its path as a tag, not as an artifact."
                )
        self.jd.log(f"MLflow: logged {len(final)} final metrics and the job's artifacts to run {self.run_id}.")


_ACTIVE: Tracker | None = None


def log_step(row: Mapping[str, Any]) -> None:
    """Per-step hook (``MetricsWriter``): forward a step row to the active tracker, if any."""
    if _ACTIVE is not None:
        _ACTIVE.log_step(row)


@contextlib.contextmanager
def tracked(jd: JobDir, flag: Any = None) -> Iterator[Tracker]:
    """Track the job in ``jd`` for the duration of the block (the worker wraps the job with it).

    The run ends FINISHED, KILLED (``flag.stop`` set by a stop request) or FAILED (an exception).

    Example:
        >>> with tracked(jd, flag):  # doctest: +SKIP
        ...     run(jd, flag)
    """
    global _ACTIVE
    tracker = Tracker(jd, jd.read_job())
    tracker.start()
    _ACTIVE = tracker
    status = "FAILED"
    try:
        yield tracker
        status = "KILLED" if getattr(flag, "stop", False) else "FINISHED"
    finally:
        _ACTIVE = None
        tracker.end(status)
