"""Follow a running local job with a progress bar showing the loss (or reward) as it falls."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from amzn_nova_forge._config import progress_disabled
from amzn_nova_forge.manager._base import JobInfo, JobRef

__all__ = ["follow"]


def follow(
    ref: JobRef,
    *,
    desc: str = "training",
    poll: float = 0.5,
    timeout: float | None = None,
    stream: TextIO | None = None,
    echo: Callable[[str], None] | None = None,
) -> JobInfo:
    """Poll the job of ``ref`` until it ends, drawing a tqdm bar (``step/total``, ``loss=…``).

    With ``NOVA_FORGE_DISABLE_PROGRESS_BARS=1`` it prints one plain line per ~10% of the
    steps instead. Returns the final :class:`JobInfo` (never raises on job failure).

    Raises:
        JobTimeoutError: ``timeout`` seconds passed before the job ended.
    """
    from amzn_nova_forge.errors import JobTimeoutError
    from amzn_nova_forge.manager._local._manager import LocalRuntimeManager

    out = stream or sys.stderr
    say = echo or (lambda s: print(s, file=out, flush=True))
    bar: Any = None
    use_bar = not progress_disabled() and bool(getattr(out, "isatty", lambda: False)())
    last_step, last_print = 0, -1
    start = time.monotonic()
    while True:
        info = LocalRuntimeManager.job_info(ref)
        prog = LocalRuntimeManager.job_status_data(ref).get("progress") or {}
        step, total = int(prog.get("step") or 0), int(prog.get("total_steps") or 0)
        metric = "reward" if "reward_score" in prog else "loss"
        value = prog.get("reward_score", prog.get("loss"))
        if total and step != last_step:
            if use_bar:
                if bar is None:
                    from tqdm import tqdm

                    bar = tqdm(total=total, desc=desc, unit="step", file=out, dynamic_ncols=True)
                bar.total = total
                bar.update(step - bar.n)
                if value is not None:
                    bar.set_postfix({metric: f"{float(value):.4f}"})
            else:
                bucket = (10 * step) // total
                if bucket != last_print or step == total:
                    last_print = bucket
                    say(
                        f"  {desc}: step {step}/{total}"
                        + (f"  {metric}={float(value):.4f}" if value is not None else "")
                    )
            last_step = step
        if info.status.is_terminal:
            break
        if timeout is not None and time.monotonic() - start > timeout:
            if bar is not None:
                bar.close()
            raise JobTimeoutError(
                f"Local job {ref.job_id} still {info.raw_status} after {timeout:.0f}s.", job_id=ref.job_id
            )
        time.sleep(poll)
    if bar is not None:
        bar.close()
    return info
