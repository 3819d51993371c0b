"""The detached worker: ``python -m amzn_nova_forge.manager._local._worker <job_dir>``.

It reads ``job.json``, marks the job ``InProgress``, runs it (training, evaluation or batch
inference) and marks it ``Completed``, ``Stopped`` (SIGTERM from ``cleanup``) or ``Failed``
with the error and, in ``train.log``, the full traceback. Everything heavy is imported here
or below, never by the manager.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback
from typing import Any

from amzn_nova_forge.manager._local._jobdir import COMPLETED, FAILED, IN_PROGRESS, STOPPED, JobDir, utc_now

__all__ = ["StopFlag", "main"]


class StopFlag:
    """Set by SIGTERM; training loops poll it through their ``on_step`` callback."""

    def __init__(self) -> None:
        self.stop = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.stop = True


def _failure_message(exc: BaseException) -> str:
    from amzn_nova_forge.errors import NovaForgeError
    from amzn_nova_forge.manager._local._reward import RewardFunctionError

    if isinstance(exc, RewardFunctionError):
        return str(exc)
    if isinstance(exc, NovaForgeError):  # a user error: its message says what to fix
        return f"{type(exc).__name__}: {exc}"
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" (at {os.path.basename(last.filename)}:{last.lineno})"
    return f"{type(exc).__name__}: {exc}{where}. Full traceback in train.log:\n" + "".join(tb[-3:])


def _devices(job: dict[str, Any]) -> int:
    return int((job.get("local") or {}).get("devices") or 1)


def _launch_ranks(jd: JobDir, job: dict[str, Any], n: int) -> None:
    """Run the training job as ``n`` processes under ``torchrun`` (this process waits; rank 0 writes the outputs)."""
    import subprocess

    from amzn_nova_forge.core.enums import TrainingMethod
    from amzn_nova_forge.errors import ConfigError

    family = TrainingMethod(job["method"]).family
    if family not in ("sft", "cpt"):
        raise ConfigError(
            f"devices={n}: several processes train SFT and CPT jobs; run this {family.upper()} job with devices=1."
        )
    env = dict(os.environ)
    if not str(job.get("device") or "").startswith("cuda"):
        env.setdefault("OMP_NUM_THREADS", "1")  # CPU ranks share the cores
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}"]
    cmd += ["-m", "amzn_nova_forge.manager._local._worker", str(jd.path)]
    jd.log(f"Training with {n} processes: {' '.join(cmd[2:])}")
    proc = subprocess.run(cmd, env=env, check=False)
    if proc.returncode != 0:
        tail = "\n".join(jd.tail(12))
        raise RuntimeError(f"torchrun exited with code {proc.returncode}. Last log lines:\n{tail}")


def run(jd: JobDir, flag: StopFlag) -> str:
    """Run the job in ``jd``; return the final raw status."""
    from amzn_nova_forge.manager._local import _jobs

    job = jd.read_job()
    kind = job.get("job_kind", "training")
    if kind == "training" and _devices(job) > 1 and "LOCAL_RANK" not in os.environ:
        _launch_ranks(jd, job, _devices(job))
    elif kind == "training":
        _jobs.run_training(jd, job, flag)
    elif kind == "evaluation":
        _jobs.run_evaluation(jd, job, flag)
    elif kind == "batch_inference":
        _jobs.run_batch_inference(jd, job, flag)
    else:
        raise ValueError(f"Unknown job kind {kind!r}; expected training, evaluation or batch_inference.")
    return STOPPED if flag.stop else COMPLETED


def main(argv: list[str] | None = None) -> int:
    """Worker entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m amzn_nova_forge.manager._local._worker <job_dir>", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import warnings

    # Library deprecation chatter would bury the real error in worker.out (shown in failure messages).
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    jd = JobDir(args[0])
    flag = StopFlag()
    signal.signal(signal.SIGTERM, flag)
    if "LOCAL_RANK" in os.environ:  # one of the processes torchrun started for this job
        return _rank_main(jd, flag)
    jd.update_status(status=IN_PROGRESS, pid=os.getpid(), started_at=utc_now())
    jd.log(f"Local job {jd.path.name} started (pid {os.getpid()}).")
    from amzn_nova_forge.manager._local._tracking import tracked

    try:
        with tracked(jd, flag):  # MLflow run + TensorBoard events of this job
            final = run(jd, flag)
    except BaseException as e:
        jd.log("Job failed:\n" + traceback.format_exc())
        jd.update_status(status=FAILED, message=_failure_message(e), ended_at=utc_now())
        return 1
    message = "Stopped by request." if final == STOPPED else "Job completed."
    jd.log(message)
    jd.update_status(status=final, message=message, ended_at=utc_now())
    return 0


def _rank_main(jd: JobDir, flag: StopFlag) -> int:
    """A torchrun process: join the process group, train; rank 0 alone writes logs, status and outputs."""
    import torch
    import torch.distributed as dist

    from amzn_nova_forge.manager._local import _jobs

    job = jd.read_job()
    cuda = str(job.get("device") or "").startswith("cuda") or (
        job.get("device") == "auto" and torch.cuda.is_available()
    )
    if cuda:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    try:
        _jobs.run_training(jd if dist.get_rank() == 0 else _SilentJobDir(jd.path), job, flag)
    except BaseException:
        if dist.get_rank() == 0:
            jd.log(f"Rank 0 failed:\n{traceback.format_exc()}")
        raise
    finally:
        dist.destroy_process_group()
    return 0


class _SilentJobDir(JobDir):
    """The job folder as ranks other than 0 see it: they write nothing."""

    def log(self, line: str) -> None:
        return None

    def update_status(self, **fields: Any) -> dict[str, Any]:
        return {}


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess in tests
    sys.exit(main())
