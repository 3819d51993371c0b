"""Does a dataset have images or video? (``ForgeTrainer.is_multimodal`` when not given.)

Reads at most :data:`MAX_RECORDS` records of a JSONL file (local or S3) and stops at the
first image or video content block (Converse ``{"image": …}`` / ``{"video": …}``, OpenAI
``{"type": "image_url"}``).
"""

from __future__ import annotations

import json
from typing import Any

from amzn_nova_forge.errors import DataPrepError

__all__ = ["MAX_RECORDS", "is_multimodal_data"]

#: Records read at most.
MAX_RECORDS = 1000
#: Longest line read (bytes).
MAX_LINE_BYTES = 16 * 1024 * 1024


def _has_media(value: Any, depth: int = 0) -> bool:
    if depth > 12:
        return False
    if isinstance(value, dict):
        if "image" in value or "video" in value or value.get("type") in ("image_url", "image", "video", "input_image"):
            return True
        return any(_has_media(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_has_media(v, depth + 1) for v in value)
    return False


def is_multimodal_data(path: str) -> bool:
    """True when one of the first records of ``path`` (a JSONL file) carries an image or video.

    Raises:
        DataPrepError: The file cannot be read, or a line is not JSON (with its line number).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "d.jsonl")
        >>> _ = open(p, "w").write('{"messages": [{"role": "user", "content": [{"image": {"format": "png"}}]}]}\\n')
        >>> is_multimodal_data(p)
        True
    """
    from amzn_nova_forge.core import storage

    try:
        for n, raw in enumerate(storage.iter_lines(path, max_line_bytes=MAX_LINE_BYTES), 1):
            if n > MAX_RECORDS:
                break
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as e:
                raise DataPrepError(f"{path}: line {n} is not JSON ({e.msg}).", path=path, line=n) from None
            if _has_media(record):
                return True
    except (OSError, ValueError) as e:
        if isinstance(e, DataPrepError):
            raise
        raise DataPrepError(f"Cannot read {path} to detect multimodal data: {e}. Pass is_multimodal=True/False.") from e
    return False
