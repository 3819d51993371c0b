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


def run(jd: JobDir, flag: StopFlag) -> str:
    """Run the job in ``jd``; return the final raw status."""
    from amzn_nova_forge.manager._local import _jobs

    job = jd.read_job()
    kind = job.get("job_kind", "training")
    if kind == "training":
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


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess in tests
    sys.exit(main())
