"""Small, escaped HTML building blocks for notebook reprs (``_repr_html_``); no dependency.

Every value is escaped with :func:`html.escape` and cut to a bounded length, so a repr
never renders markup from data and never grows without bound.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["cell", "dataset_preview", "kv_table", "records_table", "section"]

#: Longest text shown in one cell.
MAX_CELL_CHARS = 300
_STYLE = "border-collapse:collapse;font-size:12px;text-align:left"
_TD = "padding:2px 8px;border-bottom:1px solid #ddd;vertical-align:top;text-align:left"


def cell(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """``value`` as escaped text (mappings and lists as compact JSON), cut to ``limit`` characters.

    Example:
        >>> cell("<b>")
        '&lt;b&gt;'
    """
    if isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text)


def kv_table(rows: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of ``(label, value)``; ``None`` values are left out."""
    body = "".join(
        f'<tr><th style="{_TD}">{html.escape(k)}</th><td style="{_TD}">{cell(v)}</td></tr>'
        for k, v in rows
        if v is not None
    )
    return f'<table style="{_STYLE}">{body}</table>'


def records_table(records: Sequence[Mapping[str, Any]], *, columns: Sequence[str] | None = None) -> str:
    """A table of records (the union of their keys, in first-seen order, unless ``columns``)."""
    if columns is None:
        seen: dict[str, None] = {}
        for r in records:
            seen.update(dict.fromkeys(r))
        columns = list(seen)
    head = "".join(f'<th style="{_TD}">{html.escape(str(c))}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_TD}">{cell(r.get(c), 120)}</td>' for c in columns) + "</tr>" for r in records
    )
    return f'<table style="{_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def section(title: str, *parts: str, note: str | None = None) -> str:
    """A titled block: ``<div><strong>title</strong> parts… note</div>`` (``parts`` are HTML already)."""
    extra = f'<div style="color:#666;font-size:11px">{html.escape(note)}</div>' if note else ""
    return f"<div><div><strong>{html.escape(title)}</strong></div>{''.join(parts)}{extra}</div>"


#: Records shown by a dataset preview.
PREVIEW_ROWS = 5


def dataset_preview(loader: Any, rows: int = PREVIEW_ROWS) -> str:
    """An HTML preview of a dataset loader: class, path, record count when known, first ``rows`` records.

    Reads only those first records (pending transforms applied to them), never the whole file.

    Example:
        >>> from IPython.display import HTML; HTML(dataset_preview(loader))  # doctest: +SKIP
    """
    name = type(loader).__name__
    store = getattr(loader, "_store", None)
    if store is None:
        return section(name, note="no data loaded: call .load(path)")
    count = getattr(store, "count", None)
    pending = [d for d, _ in getattr(loader, "_pending", [])]
    info = kv_table(
        [
            ("path", getattr(loader, "path", None) or getattr(store, "source", None)),
            ("records", f"{count:,}" if isinstance(count, int) else "not counted yet (len(loader) reads the file)"),
            ("pending", ", ".join(pending) if pending else None),
        ]
    )
    try:
        first = [rec for rec, _ in loader._records(limit=rows)]
    except Exception as e:  # a bad record: the preview says so instead of failing the cell
        return section(name, info, note=f"preview failed: {type(e).__name__}: {e}")
    more = f"first {len(first)} records" + (f" of {count:,}" if isinstance(count, int) else "")
    return section(name, info, records_table(first) if first else "", note=more)
