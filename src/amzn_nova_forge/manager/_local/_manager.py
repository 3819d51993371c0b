"""``LocalRuntimeManager``: run training, evaluation and batch inference on this machine.

``execute`` writes the job folder and starts a detached worker process
(``python -m amzn_nova_forge.manager._local._worker <job_dir>``), then returns the job id at
once. Status, logs and outputs are read back from the job folder, from the job's
:class:`JobRef` alone, so a result loaded in another process works. This module imports
no torch: only the worker does.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from amzn_nova_forge.core.enums import JobStatus, Platform
from amzn_nova_forge.errors import ConfigError, MissingDependencyError
from amzn_nova_forge.manager._base import (
    Capabilities,
    JobConfig,
    JobInfo,
    JobOutputs,
    JobRef,
    LogLocation,
    RuntimeManager,
)
from amzn_nova_forge.manager._local import _jobdir, _tracking
from amzn_nova_forge.manager._local._jobdir import JobDir, default_jobs_root, pid_alive, utc_now
from amzn_nova_forge.manager._local._spawn import spawn_detached

__all__ = ["LocalRuntimeManager", "spawn_detached"]

logger = logging.getLogger(__name__)

#: Packages the worker needs (checked without importing them).
LOCAL_DEPENDENCIES = ("torch", "transformers", "peft", "psutil", "filelock")


def check_local_dependencies() -> None:
    """Raise :class:`MissingDependencyError` naming the ``[local]`` extra when a worker dependency is missing."""
    import importlib.util

    missing = [m for m in LOCAL_DEPENDENCIES if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"The local runtime needs {', '.join(missing)}. Install it with: "
            "pip install torch 'amzn-nova-forge[local]' (pin torch==2.13.0 in the same command for the CPU build).",
            extra="local",
        )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _age_s(created: Any) -> float:
    """Seconds since the ISO time ``created`` (infinite when unknown)."""
    t = _parse_time(created)
    if t is None:
        return float("inf")

    return (datetime.now(UTC) - t).total_seconds()


def _enum_value(v: Any) -> Any:
    return getattr(v, "value", v)


class LocalRuntimeManager(RuntimeManager):
    """Rehearse Nova customization on this machine's CPU or GPU with an open-weight model.

    The same ``NovaModelCustomizer`` calls, recipe and overrides run here on a small
    Hugging Face causal LM: SFT (LoRA / full), DPO (LoRA / full), CPT and RFT with your
    reward function, plus evaluation, batch inference and a local OpenAI-compatible server.

    Args:
        base_model: A Hugging Face model id or local folder. ``None`` builds a tiny random
            model offline (for demos and tests; its answers are meaningless).
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` …
        output_root: Folder for job folders (default ``$NOVA_FORGE_LOCAL_JOBS_DIR`` or
            ``~/.nova-forge/local-jobs``). A local ``output_s3_path`` on the customizer wins.
        dtype: ``"auto"`` (bf16 on CUDA GPUs that support it, else fp32), ``"bf16"``, ``"fp32"``.
        micro_batch_size: Samples per forward pass (gradient accumulation up to the recipe's
            ``global_batch_size``); default 8.
        max_steps: Cap on optimizer steps (rehearse a long recipe in a few steps).
        lora_rank: LoRA rank (Nova recipes fix alpha but not the rank); default 16.
        max_new_tokens: Cap on generated tokens for evaluation / batch inference (default 256).
        seed: Random seed.
        rft_lambda: Reward function for RFT: a local ``.py`` file with ``lambda_handler`` or a Lambda ARN.
        training_overrides: Extra local settings passed to the training config (e.g. ``{"grad_clip": 0.5}``).
        devices: Processes (one per device) that train an SFT/CPT job together through ``torchrun``
            (data parallel: each takes its share of every global batch; gradients are summed):
            GPUs ``cuda:0`` … ``cuda:N-1`` with ``device="cuda"``, CPU processes (gloo) otherwise.
        resume_from: A ``checkpoints/step-N`` folder of a local SFT/CPT job that ran with ``save_steps``:
            training jobs continue from that step (same data and overrides as that job).

    Example:
        >>> infra = LocalRuntimeManager(base_model="Qwen/Qwen2.5-0.5B-Instruct", device="auto")  # doctest: +SKIP
        >>> customizer = NovaModelCustomizer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA,  # doctest: +SKIP
        ...     infra=infra, data_s3_path="./train.jsonl", output_s3_path="./runs")
        >>> result = customizer.train(job_name="rehearsal")  # doctest: +SKIP
        >>> result.wait(poll_every=2)  # doctest: +SKIP
    """

    platform: ClassVar[Platform] = Platform.LOCAL
    capabilities: ClassVar[Capabilities] = Capabilities(
        batch_inference=True,
        mlflow=True,
        aws=False,
        local_paths=True,
        reads_checkpoints_of=frozenset({Platform.LOCAL}),
        poll_seconds=1.0,
        billed=False,
        live_status=True,
        reads_recipe_after_execute=True,
        serves_local_checkpoints=True,
    )

    @classmethod
    def eval_output_location(cls, output_s3_path: str | None, job_id: str, extras: Mapping[str, Any]) -> str:
        """A local job's results: ``<job folder>/output/output.tar.gz``."""
        job_dir = extras.get("job_dir")
        if job_dir:
            return os.path.join(str(job_dir), "output", "output.tar.gz")
        return super().eval_output_location(output_s3_path, job_id, extras)

    unsupported: ClassVar[dict[str, str]] = {
        "data_mixing": "Data mixing with Nova's curated data needs HyperPod.",
        "rft_multiturn": "Multi-turn RFT needs the HyperPod RFT infrastructure.",
    }

    def __init__(
        self,
        base_model: str | None = None,
        device: str = "auto",
        output_root: str | os.PathLike[str] | None = None,
        *,
        dtype: str = "auto",
        micro_batch_size: int | None = None,
        max_steps: int | None = None,
        lora_rank: int | None = None,
        max_new_tokens: int | None = None,
        seed: int = 0,
        rft_lambda: str | None = None,
        training_overrides: dict[str, Any] | None = None,
        resume_from: str | os.PathLike[str] | None = None,
        devices: int = 1,
    ) -> None:
        if device and not (device in ("auto", "cpu", "mps") or str(device).startswith("cuda")):
            raise ConfigError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}.")
        if base_model is not None and not isinstance(base_model, str):
            base_model = os.fspath(base_model)
        if base_model and os.path.exists(os.path.expanduser(base_model)):
            base_model = str(Path(base_model).expanduser().resolve())
        self.base_model = base_model
        self.device = device
        self.output_root = Path(output_root).expanduser().resolve() if output_root else default_jobs_root()
        self.dtype = dtype
        self.rft_lambda = rft_lambda
        self.region = None
        self.local_settings: dict[str, Any] = {
            "micro_batch_size": micro_batch_size,
            "max_steps": max_steps,
            "lora_rank": lora_rank,
            "max_new_tokens": max_new_tokens,
            "seed": seed,
            "dtype": dtype,
            **(training_overrides or {}),
        }
        if isinstance(devices, bool) or not isinstance(devices, int) or not 1 <= devices <= 64:
            raise ConfigError(f"devices must be an integer from 1 to 64 (processes, one per device), got {devices!r}.")
        if devices > 1:
            self.local_settings["devices"] = devices
        if resume_from is not None:
            folder = Path(resume_from).expanduser().resolve()
            if not folder.is_dir():
                raise ConfigError(
                    f"resume_from={str(resume_from)!r} is not a folder; pass a checkpoints/step-N folder."
                )
            self.local_settings["resume_from"] = str(folder)
        self._jobs: dict[str, Path] = {}

    @property
    def rft_lambda_arn(self) -> str | None:
        """The reward function the local runtime calls: ``rft_lambda`` (a Lambda ARN or a local ``.py`` file)."""
        return self.rft_lambda or None

    def __repr__(self) -> str:
        return f"LocalRuntimeManager(base_model={self.base_model!r}, device={self.device!r}, output_root='{self.output_root}')"

    # ---- submission ---------------------------------------------------------------------------
    def _job_root(self, job_config: JobConfig) -> Path:
        out = job_config.output_s3_path
        if out and not str(out).startswith("s3://"):
            return Path(str(out)).expanduser().resolve()
        return self.output_root

    def execute(self, job_config: JobConfig) -> str:
        """Write the job folder, start the detached worker and return the job id at once.

        Raises:
            MissingDependencyError: torch / transformers / peft are not installed (the ``[local]`` extra).
            ConfigError: The training data is not a local path or s3:// URI that exists.
            JobSubmissionError: The worker process could not be started.
        """
        check_local_dependencies()
        _check_local_eval_task(job_config)
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        job_id = f"{job_config.job_name}-{stamp}-{secrets.token_hex(2)}"
        jd = JobDir(self._job_root(job_config) / job_id)
        data = job_config.data_s3_path
        if data and not str(data).startswith("s3://"):
            if not Path(str(data)).expanduser().exists():
                what = {"evaluation": "Evaluation data", "batch_inference": "Batch inference input"}.get(
                    str(job_config.job_kind or ""), "Training data"
                )
                raise ConfigError(f"{what} not found: {data}. Pass an existing local JSONL file or folder.")
            data = str(Path(str(data)).expanduser().resolve())
        model_path = job_config.model_name_or_path or self._recipe_model_path(job_config.recipe_path)
        job = {
            "job_id": job_id,
            "job_name": job_config.job_name,
            "job_kind": job_config.job_kind,
            "method": _enum_value(job_config.method),
            "model": getattr(job_config.model, "name", job_config.model),
            "recipe_path": str(Path(job_config.recipe_path).resolve())
            if job_config.recipe_path and not str(job_config.recipe_path).startswith("s3://")
            else job_config.recipe_path,
            "hyperparameters": dict(job_config.hyperparameters or {}),
            "data_s3_path": data,
            "validation_data_s3_path": job_config.validation_data_s3_path,
            "output_s3_path": job_config.output_s3_path,
            "model_name_or_path": model_path,
            "base_model": self.base_model,
            "device": self.device,
            "rft_lambda": job_config.rft_lambda_arn or self.rft_lambda,
            "local": {k: v for k, v in self.local_settings.items() if v is not None},
            "extra": {k: _enum_value(v) for k, v in (job_config.extra or {}).items()},
            "tracking": _tracking.job_settings(
                job_config.mlflow_tracking_uri,
                job_config.mlflow_experiment_name,
                job_config.mlflow_run_name,
                job_name=job_config.job_name,
            ),
            "created_at": utc_now(),
        }
        jd.path.mkdir(parents=True, exist_ok=True)
        jd.write_job(json.loads(json.dumps(job, default=str)))
        jd.update_status(
            job_id=job_id,
            job_name=job_config.job_name,
            kind=job_config.job_kind,
            method=job["method"],
            status=_jobdir.PENDING,
            message="Starting worker.",
            created_at=job["created_at"],
        )
        pid = spawn_detached(
            [sys.executable, "-m", "amzn_nova_forge.manager._local._worker", str(jd.path)], jd.worker_out
        )
        jd.update_status(pid=pid)
        self._jobs[job_id] = jd.path
        logger.info("Started local %s job %s (pid %s) in %s", job_config.job_kind, job_id, pid, jd.path)
        return job_id

    @staticmethod
    def _recipe_model_path(recipe_path: str | None) -> str | None:
        if not recipe_path or str(recipe_path).startswith("s3://") or not os.path.exists(recipe_path):
            return None
        import yaml

        with open(recipe_path, encoding="utf-8") as f:
            recipe = yaml.safe_load(f) or {}
        run = recipe.get("run") if isinstance(recipe, dict) else None
        value = run.get("model_name_or_path") if isinstance(run, dict) else None
        return str(value) if value else None

    def job_ref(self, job_id: str) -> JobRef:
        """The JSON-safe reference of a job this manager started (extras: ``job_dir``)."""
        path = self._jobs.get(job_id) or self.output_root / job_id
        return JobRef(platform=self.platform, job_id=job_id, region=None, extras={"job_dir": str(path)})

    def cleanup(self, job_name: str) -> None:
        """Stop the job ``job_name`` (its id) if it is running. Idempotent.

        Example:
            >>> infra.cleanup(result.job_id)  # doctest: +SKIP
        """
        self.stop_job(self.job_ref(job_name))

    # ---- queries from a ref (work in any process) -------------------------------------------------
    @classmethod
    def job_dir(cls, ref: JobRef) -> JobDir:
        """The job folder of ``ref``: ``extras["job_dir"]``, else under the default jobs root."""
        path = (ref.extras or {}).get("job_dir")
        return JobDir(path) if path else JobDir(default_jobs_root() / ref.job_id)

    @classmethod
    def job_info(cls, ref: JobRef) -> JobInfo:
        """Status from ``status.json``; a worker that died without finishing is reported FAILED."""
        jd = cls.job_dir(ref)
        if not jd.exists():
            return JobInfo(JobStatus.UNKNOWN, "Unknown", message=f"No local job folder at {jd.path}.")
        st = jd.read_status()
        raw = st.get("status") or _jobdir.PENDING
        starting = not st.get("pid") and _age_s(st.get("created_at")) < 120  # execute() is still spawning
        if raw not in _jobdir.TERMINAL and not starting and not pid_alive(st.get("pid"), must_contain=str(jd.path)):
            time.sleep(0.2)  # the worker may be writing its final status right now
            st = jd.read_status()
            raw = st.get("status") or _jobdir.PENDING
            if raw not in _jobdir.TERMINAL:
                tail = "\n".join(jd.tail(8))
                st = jd.update_status(
                    status=_jobdir.FAILED,
                    ended_at=utc_now(),
                    message=f"The worker process (pid {st.get('pid')}) exited without finishing "
                    f"(killed, out of memory, or crashed). Last log lines:\n{tail}",
                )
                raw = _jobdir.FAILED
        return JobInfo(
            status=JobStatus.from_raw(raw),
            raw_status=raw,
            message=st.get("message"),
            started_at=_parse_time(st.get("started_at") or st.get("created_at")),
            ended_at=_parse_time(st.get("ended_at")),
        )

    @classmethod
    def job_outputs(cls, ref: JobRef) -> JobOutputs:
        """Where the job's outputs are (``checkpoint_s3_path`` is the local checkpoint folder)."""
        jd = cls.job_dir(ref)
        outputs = jd.read_status().get("outputs") or {}
        return JobOutputs(
            output_s3_path=str(jd.output_dir),
            checkpoint_s3_path=outputs.get("checkpoint_path"),
            output_archive=outputs.get("output_archive") or (str(jd.archive) if jd.archive.exists() else None),
        )

    @classmethod
    def job_status_data(cls, ref: JobRef) -> dict[str, Any]:
        """The raw ``status.json`` of the job (outputs, metrics, progress)."""
        return cls.job_dir(ref).read_status()

    @classmethod
    def log_source(cls, ref: JobRef) -> str:
        """Path of the job's ``train.log``."""
        return str(cls.job_dir(ref).log_file)

    @classmethod
    def log_location(cls, ref: JobRef) -> LogLocation:
        """The job's ``train.log`` (extras: ``job_dir``, else ``output_root``/<job>, else the default root)."""
        extras = ref.extras or {}
        if not extras.get("job_dir") and extras.get("output_root"):
            path = Path(str(extras["output_root"])).expanduser() / ref.job_id / "train.log"
            return LogLocation("local_file", str(path), timestamped=False)
        return LogLocation("local_file", str(cls.job_dir(ref).log_file), timestamped=False)

    @classmethod
    def read_logs(cls, ref: JobRef, limit: int | None = None) -> list[str]:
        """Lines of ``train.log`` (the last ``limit`` when given)."""
        path = cls.job_dir(ref).log_file
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[-limit:] if limit else lines

    @classmethod
    def stop_job(cls, ref: JobRef, *, grace: float = 15.0) -> None:
        """SIGTERM the worker (it stops after the current step), SIGKILL after ``grace`` seconds."""
        jd = cls.job_dir(ref)
        st = jd.read_status()
        if not st or st.get("status") in _jobdir.TERMINAL:
            return
        pid = int(st.get("pid") or 0)
        if pid_alive(pid, must_contain=str(jd.path)):
            jd.update_status(status=_jobdir.STOPPING, message="Stop requested.")
            _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and pid_alive(pid, must_contain=str(jd.path)):
                time.sleep(0.1)
            if pid_alive(pid, must_contain=str(jd.path)):
                _signal(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        if jd.read_status().get("status") not in _jobdir.TERMINAL:
            jd.update_status(status=_jobdir.STOPPED, message="Stopped by request.", ended_at=utc_now())
        jd.log("Job stopped by request.")

    # ---- local deployment ----------------------------------------------------------------------------
    @staticmethod
    def deploy_model(model_path: str, port: int = 0, device: str = "auto", *, timeout: float = 300.0) -> str:
        """Serve ``model_path`` with an OpenAI-compatible HTTP server on 127.0.0.1; return its URL.

        The server runs in a background process that outlives this one; stop it with
        :meth:`stop_deployment`. ``customizer.deploy(deploy_platform=DeployPlatform.LOCAL)`` calls this.
        See :mod:`amzn_nova_forge.manager._local._serve`.

        Example:
            >>> url = LocalRuntimeManager.deploy_model(result.model_artifacts.checkpoint_s3_path)  # doctest: +SKIP
            >>> LocalRuntimeManager.stop_deployment(url)  # doctest: +SKIP
            True
        """
        from amzn_nova_forge.manager._local._deploy import deploy_model

        return deploy_model(model_path, port=port, device=device, timeout=timeout)

    @staticmethod
    def stop_deployment(url: str) -> bool:
        """Stop a server started by :meth:`deploy_model`; True when one was running.

        Example:
            >>> LocalRuntimeManager.stop_deployment(deployment.endpoint.uri)  # doctest: +SKIP
            True
        """
        from amzn_nova_forge.manager._local._deploy import stop_deployment

        return stop_deployment(url)

    @staticmethod
    def deployment_token(url: str) -> str | None:
        """The bearer token of the local deployment at ``url`` (None when unknown on this machine).

        Example:
            >>> client = OpenAI(base_url=url + "/v1", api_key=LocalRuntimeManager.deployment_token(url))  # doctest: +SKIP
        """
        from amzn_nova_forge.manager._local._deploy import deployment_token

        return deployment_token(url)


def _check_local_eval_task(job_config: JobConfig) -> None:
    """Refuse at submission (not minutes later in the worker) a task the local runtime cannot run."""
    if str(job_config.job_kind or "") != "evaluation":
        return
    from amzn_nova_forge.manager._local._eval import UNSUPPORTED

    task = _enum_value((job_config.extra or {}).get("eval_task"))
    if task in UNSUPPORTED:
        raise ConfigError(
            f"Evaluation task {task!r} is not available on the local runtime: {UNSUPPORTED[task]}. "
            "Run it on SMTJ or SMHP; locally use gen_qa, rft_eval or a multiple-choice benchmark "
            "on your own questions."
        )


def _signal(pid: int, sig: int) -> None:
    """Send ``sig`` to the worker and everything it started (its process group; on Windows, its process tree)."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(pid, sig)  # the worker leads its own session: its group holds torchrun children too
            return
        except (ProcessLookupError, PermissionError):
            pass
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        try:
            proc.send_signal(sig)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
