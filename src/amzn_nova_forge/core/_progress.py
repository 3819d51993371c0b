"""The progress bars of the SDK (``tqdm.auto``, imported only when a bar is shown).

``tqdm.auto`` draws a widget in Jupyter when ``ipywidgets`` is installed and a text bar
otherwise (in a terminal, or a kernel without widgets). Bars are switched off by
``NOVA_FORGE_DISABLE_PROGRESS_BARS=1`` (read through :mod:`amzn_nova_forge._config`).

* :func:`progress` — a counter for work that lasts more than a second (records, files);
* :func:`job_progress` — what ``result.wait()`` shows: the job's status and, where the
  runtime reports it (local jobs), ``step/total`` with the latest loss or reward.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from amzn_nova_forge._config import progress_disabled

__all__ = ["job_progress", "progress"]


def _noop(_n: int) -> None:
    return None


def _tqdm() -> Any:
    """``tqdm.auto.tqdm`` (None when bars are disabled); tqdm's "no ipywidgets" warning is dropped."""
    if progress_disabled():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # falls back to the text bar without ipywidgets
            from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a base dependency
        return None
    return tqdm


@contextlib.contextmanager
def progress(total: int | None, desc: str, *, unit: str = "rec") -> Iterator[Callable[[int], None]]:
    """Yield an ``update(n)`` callable that advances a progress bar by ``n``.

    Example:
        >>> with progress(100, "Validating") as update:
        ...     update(100)
    """
    tqdm = _tqdm()
    if tqdm is None:
        yield _noop
        return
    bar = tqdm(
        total=total, desc=desc, unit=unit, unit_scale=True, delay=1.0, leave=False, file=sys.stderr, dynamic_ncols=True
    )
    try:
        yield bar.update
    finally:
        bar.close()


class _JobBar:
    """One bar for one job: created on the first report, kept in step with ``progress`` data."""

    def __init__(self, desc: str, read: Callable[[], Mapping[str, Any] | None] | None) -> None:
        self.desc = desc
        self.read = read
        self.bar: Any = None
        self.last: dict[str, str] = {}
        self.tqdm = _tqdm()

    def __call__(self, raw_status: str) -> None:
        if self.tqdm is None:
            return
        prog: Mapping[str, Any] = {}
        if self.read is not None:
            try:
                prog = self.read() or {}
            except (OSError, ValueError):  # a status file being replaced: next poll
                prog = {}
        total = int(prog.get("total_steps") or 0) or None
        step = int(prog.get("step") or 0)
        if self.bar is None:
            self.bar = self.tqdm(
                total=total,
                desc=self.desc,
                unit="step",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=True,
                bar_format=None if total else "{desc}: {elapsed}{postfix}",
            )
        if total and self.bar.total != total:  # steps became known: from a timer to a bar
            self.bar.total = total
            self.bar.bar_format = None
        post = {"status": raw_status}
        for key, label in (("loss", "loss"), ("reward_score", "reward")):
            value = prog.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                post[label] = f"{float(value):.4f}"
        if post != self.last:  # redraw on news only (a notebook keeps every redraw)
            self.last = post
            self.bar.set_postfix(post, refresh=step <= self.bar.n)
        if step > self.bar.n:
            self.bar.update(step - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def job_progress(
    desc: str, read: Callable[[], Mapping[str, Any] | None] | None = None
) -> Iterator[Callable[[str], None]]:
    """Yield ``show(raw_status)``: call it at each poll; it redraws the job's bar.

    Args:
        desc: Bar label (the job id).
        read: Returns the job's ``progress`` (``step``, ``total_steps``, ``loss`` / ``reward_score``),
            or None when the runtime reports none (the bar then shows status and elapsed time).

    Example:
        >>> with job_progress("my-job", lambda: {"step": 3, "total_steps": 10, "loss": 1.5}) as show:
        ...     show("InProgress")
    """
    bar = _JobBar(desc, read)
    try:
        yield bar
    finally:
        bar.close()
