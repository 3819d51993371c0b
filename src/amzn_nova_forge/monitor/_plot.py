"""Metric plots with matplotlib, imported only when a plot is drawn.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state, no global backend
change), shown inline as ``image/png`` when running inside a Jupyter kernel (no
``%matplotlib inline`` needed) and saved as PNG otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import MissingDependencyError

__all__ = ["in_notebook", "render", "show_png"]

_LABELS = {
    "training_loss": "training loss",
    "validation_loss": "validation loss",
    "reward_score": "reward score",
}


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where figures can be displayed inline)."""
    ipython_mod = sys.modules.get("IPython")
    if ipython_mod is None:
        return False
    get_ipython = getattr(ipython_mod, "get_ipython", None)
    shell = get_ipython() if get_ipython else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def show_png(fig: Any) -> None:
    """Display ``fig`` in the notebook as an ``image/png`` output.

    A bare ``display(fig)`` of a ``matplotlib.figure.Figure`` prints ``<Figure size …>``
    unless the user ran ``%matplotlib inline``; PNG bytes display in every front end.
    """
    import importlib
    import io

    display: Any = importlib.import_module("IPython.display").display
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    png = buf.getvalue()
    fig._repr_png_ = lambda: png  # IPython's PNG formatter calls it; the figure object stays what is shown
    display(fig)


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MissingDependencyError(
            "matplotlib is needed to plot metrics. Install it with: pip install 'amzn-nova-forge[plot]'",
            extra="plot",
        ) from e
    return Figure


def render(
    series: Mapping[str, Sequence[tuple[int, float]]],
    *,
    title: str,
    output_path: str | os.PathLike[str] | None = None,
    default_path: str | os.PathLike[str] = "metrics.png",
) -> Path | None:
    """Draw one panel per metric (x: global step) and show or save it.

    Args:
        series: metric name -> ``(step, value)`` points in step order.
        title: Figure title.
        output_path: Save here (PNG). When None: inline in a notebook, else ``default_path``.
        default_path: Where to save outside notebooks when ``output_path`` is None.

    Returns:
        The PNG path written, or None when displayed inline.
    """
    Figure = _figure_class()
    names = [n for n, pts in series.items() if pts]
    fig = Figure(figsize=(8, 3.2 * len(names)), dpi=100, layout="constrained")
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        steps = [p[0] for p in series[name]]
        values = [p[1] for p in series[name]]
        label = _LABELS.get(name, name.replace("_", " "))
        ax.plot(steps, values, marker="o" if len(steps) <= 50 else None, markersize=3, linewidth=1.5, label=label)
        ax.set_xlabel("global step")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
    fig.suptitle(title)
    if output_path is None and in_notebook():
        show_png(fig)
        return None
    path = Path(output_path if output_path is not None else default_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
