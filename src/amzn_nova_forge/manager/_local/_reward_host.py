"""Host process of a local reward function: ``python -m amzn_nova_forge.manager._local._reward_host <file.py>``.

It imports the file once and answers one request per line on stdin (a JSON list of samples) with one
JSON line on stdout: ``{"ok": <lambda_handler's return value>}`` or ``{"error": <traceback>}``. What
the function prints goes to stderr, so it cannot corrupt the replies. The worker runs it in its own
process group and kills the group when a call takes too long (:mod:`._reward`).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"nova_forge_reward_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    return getattr(module, "lambda_handler", None)


def main(argv: list[str] | None = None) -> int:
    """Serve requests until stdin closes; exit code 2 when the file cannot be imported."""
    args = sys.argv[1:] if argv is None else argv
    out = sys.stdout
    sys.stdout = sys.stderr  # the user's prints go to stderr
    try:
        handler = _load(Path(args[0]))
        if not callable(handler):
            raise AttributeError(f"{args[0]} has no function lambda_handler(event, context)")
    except BaseException:
        out.write(json.dumps({"error": traceback.format_exc()}) + "\n")
        out.flush()
        return 2
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            reply: dict[str, Any] = {"ok": handler(json.loads(line), {})}
            text = json.dumps(reply)
        except BaseException as e:
            text = json.dumps({"error": traceback.format_exc(), "type": type(e).__name__, "message": str(e)})
        out.write(text + "\n")
        out.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a subprocess
    sys.exit(main())
