"""Start and stop the local OpenAI-compatible server (the caller side; no torch here).

Each deployment gets its own bearer token (``secrets.token_urlsafe``), handed to the server
through its environment and kept in ``<jobs root>/_deployments/<port>.json`` (mode 0600),
where :func:`deployment_token` finds it for ``invoke_inference`` and the ``openai`` client.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from amzn_nova_forge.errors import ConfigError, DeploymentError
from amzn_nova_forge.manager._local._jobdir import default_jobs_root, pid_alive

__all__ = ["auth_headers", "deploy_model", "deployment_token", "stop_deployment"]

_SERVE_MODULE = "amzn_nova_forge.manager._local._serve"


def _registry() -> Path:
    return default_jobs_root() / "_deployments"


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON, atomically, readable by the owner only (it holds the token)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _record(url: str) -> dict[str, Any] | None:
    parsed = urlparse(url)
    if parsed.port is None or parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    rec = _registry() / f"{parsed.port}.json"
    try:
        data = json.loads(rec.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def deployment_token(url: str) -> str | None:
    """The bearer token of the local deployment at ``url`` (None when this machine has no record of it).

    Example:
        >>> from openai import OpenAI  # doctest: +SKIP
        >>> client = OpenAI(base_url=url + "/v1", api_key=deployment_token(url))  # doctest: +SKIP
    """
    rec = _record(url)
    token = rec.get("token") if rec else None
    return str(token) if token else None


def auth_headers(url: str) -> dict[str, str]:
    """``{"Authorization": "Bearer …"}`` for a local deployment URL, or ``{}`` when unknown."""
    token = deployment_token(url)
    return {"Authorization": f"Bearer {token}"} if token else {}


def deploy_model(model_path: str, port: int = 0, device: str = "auto", *, timeout: float = 300.0) -> str:
    """Start a background server for ``model_path`` on 127.0.0.1; return ``http://127.0.0.1:<port>``.

    Raises:
        ConfigError: ``model_path`` does not exist.
        MissingDependencyError: uvicorn / starlette are missing (the ``[local]`` extra).
        DeploymentError: The server did not come up within ``timeout`` seconds (message has its log).
    """
    import importlib.util

    from amzn_nova_forge.errors import MissingDependencyError
    from amzn_nova_forge.manager._local._spawn import spawn_detached

    if not model_path or not Path(os.path.expanduser(str(model_path))).exists():
        raise ConfigError(f"model_path {model_path!r} does not exist; pass a local checkpoint folder.")
    missing = [m for m in ("uvicorn", "starlette") if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"The local model server needs {', '.join(missing)}. Install it with: pip install 'amzn-nova-forge[local]'",
            extra="local",
        )
    reg = _registry()
    reg.mkdir(parents=True, exist_ok=True)
    stem = f"{int(time.time() * 1000)}-{os.getpid()}-{secrets.token_hex(2)}"
    ready, log = reg / f"{stem}.ready.json", reg / f"{stem}.log"
    token = secrets.token_urlsafe(32)
    from amzn_nova_forge.manager._local._serve import TOKEN_ENV

    model = str(Path(os.path.expanduser(str(model_path))).resolve())
    cmd = [sys.executable, "-m", _SERVE_MODULE, "--model", model, "--port", str(int(port)), "--device", device]
    pid = spawn_detached([*cmd, "--ready-file", str(ready)], log, env={**os.environ, TOKEN_ENV: token})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            try:
                info = json.loads(ready.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                time.sleep(0.05)
                continue
            url = str(info["url"])
            record = {"pid": pid, "url": url, "model": str(model_path), "log": str(log), "token": token}
            _write_private(reg / f"{info['port']}.json", record)
            ready.unlink(missing_ok=True)
            return url
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
    _terminate(pid)
    raise DeploymentError(f"The local model server for {model_path} did not start. Server log:\n{tail}")


def _terminate(pid: int) -> None:
    """SIGTERM (``TerminateProcess`` on Windows) the server ``pid`` if it still runs ``_serve``."""
    if pid_alive(pid, must_contain=_SERVE_MODULE):
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass


def _request_shutdown(url: str, token: str) -> bool:
    req = urllib.request.Request(
        url.rstrip("/") + "/admin/shutdown",
        data=b"{}",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=5):
            return True
    except (urllib.error.URLError, OSError):
        return False


def stop_deployment(url: str, *, grace: float = 10.0) -> bool:
    """Stop the server behind ``url`` (started by :func:`deploy_model`); True when one was running.

    The server is asked to shut down over HTTP with its token (portable, and never hits a
    recycled pid); a server that does not exit within ``grace`` seconds is terminated.

    Raises:
        ConfigError: ``url`` is not a local deployment URL.
    """
    port = urlparse(url).port
    if port is None:
        raise ConfigError(f"Not a local deployment URL: {url!r}")
    rec_path = _registry() / f"{port}.json"
    info = _record(url)
    if info is None:
        return False
    rec_path.unlink(missing_ok=True)
    pid = int(info["pid"])
    asked = _request_shutdown(str(info.get("url") or url), str(info.get("token") or ""))
    if not asked and not pid_alive(pid, must_contain=_SERVE_MODULE):
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and pid_alive(pid, must_contain=_SERVE_MODULE):
        time.sleep(0.1)
    _terminate(pid)
    return True
