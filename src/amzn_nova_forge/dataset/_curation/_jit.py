"""numba, when installed: the decorators of the curation kernels (:mod:`._kernels`, :mod:`._index`).

With numba the decorated functions are compiled to machine code on first use and cached on
disk (next to the module, or in numba's user cache when the package folder is read-only);
without it they run as the plain Python they are written in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

__all__ = ["compiled"]

F = TypeVar("F", bound=Callable[..., Any])

try:  # pragma: no branch - which one depends on the install
    import numba as _numba

    def _jit(fn: F) -> F:
        return cast(F, _numba.njit(cache=True, nogil=True)(fn))

    def _inline(fn: F) -> F:
        return cast(F, _numba.njit(cache=True, inline="always")(fn))

    _COMPILED = True
except ImportError:  # pragma: no cover - exercised by the no-numba test in a subprocess

    def _jit(fn: F) -> F:
        return fn

    _inline = _jit
    _COMPILED = False


def compiled() -> bool:
    """Whether the kernels run compiled (numba installed) or as plain Python."""
    return _COMPILED


@_inline
def _u(v: Any) -> Any:
    """``v`` as a ``uint64`` (arithmetic on these wraps modulo 2**64, compiled or not)."""
    return np.uint64(v)
