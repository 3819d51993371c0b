"""The one progress-bar wrapper of the SDK (tqdm, imported only when a bar is shown).

Bars go to stderr, appear only for work that lasts more than a second, and are switched
off by ``NOVA_FORGE_DISABLE_PROGRESS_BARS=1`` (read through :mod:`amzn_nova_forge._config`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from amzn_nova_forge._config import progress_disabled

__all__ = ["progress"]


def _noop(_n: int) -> None:
    return None


@contextlib.contextmanager
def progress(total: int | None, desc: str, *, unit: str = "rec") -> Iterator[Callable[[int], None]]:
    """Yield an ``update(n)`` callable that advances a progress bar by ``n``.

    Example:
        >>> with progress(100, "Validating") as update:
        ...     update(100)
    """
    if progress_disabled():
        yield _noop
        return
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a base dependency
        yield _noop
        return
    bar = tqdm(
        total=total, desc=desc, unit=unit, unit_scale=True, delay=1.0, leave=False, file=sys.stderr, dynamic_ncols=True
    )
    try:
        yield bar.update
    finally:
        bar.close()
