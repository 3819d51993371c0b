"""Lambda code of the RFT multiturn stack (boto3 + standard library only), packaged with the SDK."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

__all__ = ["build_rollout_zip"]


def build_rollout_zip() -> bytes:
    """Deterministic zip of ``rollout_handler.py`` as ``index.py`` (handler ``index.handler``)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, (Path(__file__).parent / "rollout_handler.py").read_bytes())
    return buf.getvalue()
