"""Lambda handler code for job notifications, packaged with the SDK and uploaded by the managers.

Each handler runs in AWS Lambda (Python 3.12) with only boto3 and the standard library; it
must never import ``amzn_nova_forge``. :func:`build_zip` packs a handler with ``_common.py``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

__all__ = ["HANDLER_FILES", "build_zip"]

_HERE = Path(__file__).parent
#: platform -> handler module file (uploaded as ``index.py`` so the handler is ``index.handler``).
HANDLER_FILES = {"SMTJ": "smtj_handler.py", "SMHP": "smhp_handler.py"}


def build_zip(platform: str) -> bytes:
    """Deterministic zip (fixed timestamps) of the handler for ``platform`` plus ``_common.py``.

    The same SDK version always yields the same bytes, so the managers can compare the
    deployed ``CodeSha256`` and skip needless uploads.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arcname, src in (("index.py", HANDLER_FILES[platform]), ("_common.py", "_common.py")):
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (_HERE / src).read_bytes())
    return buf.getvalue()
