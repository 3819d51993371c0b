"""Start and stop the local OpenAI-compatible server (the caller side; no torch here)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from amzn_nova_forge.errors import ConfigError, DeploymentError
from amzn_nova_forge.manager._local._jobdir import default_jobs_root, pid_alive

__all__ = ["deploy_model", "stop_deployment"]


def _registry() -> Path:
    return default_jobs_root() / "_deployments"


def deploy_model(model_path: str, port: int = 0, device: str = "auto", *, timeout: float = 300.0) -> str:
    """Start a background server for ``model_path`` on 127.0.0.1; return ``http://127.0.0.1:<port>``.

    Raises:
        ConfigError: ``model_path`` does not exist.
        DeploymentError: The server did not come up within ``timeout`` seconds (message has its log).
    """
    from amzn_nova_forge.manager._local._spawn import spawn_detached

    if not model_path or not Path(os.path.expanduser(str(model_path))).exists():
        raise ConfigError(f"model_path {model_path!r} does not exist; pass a local checkpoint folder.")
    reg = _registry()
    reg.mkdir(parents=True, exist_ok=True)
    token = f"{int(time.time() * 1000)}-{os.getpid()}"
    ready = reg / f"{token}.ready.json"
    log = reg / f"{token}.log"
    pid = spawn_detached(
        [
            sys.executable,
            "-m",
            "amzn_nova_forge.manager._local._serve",
            "--model",
            str(Path(os.path.expanduser(str(model_path))).resolve()),
            "--port",
            str(int(port)),
            "--device",
            device,
            "--ready-file",
            str(ready),
        ],
        log,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            try:
                info = json.loads(ready.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                time.sleep(0.05)
                continue
            url = str(info["url"])
            (reg / f"{info['port']}.json").write_text(
                json.dumps({"pid": pid, "url": url, "model": str(model_path), "log": str(log)}), encoding="utf-8"
            )
            ready.unlink(missing_ok=True)
            return url
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
    raise DeploymentError(f"The local model server for {model_path} did not start. Server log:\n{tail}")


def stop_deployment(url: str) -> bool:
    """Stop the server behind ``url`` (started by :func:`deploy_model`); True when one was running."""
    port = urlparse(url).port
    if port is None:
        raise ConfigError(f"Not a local deployment URL: {url!r}")
    rec = _registry() / f"{port}.json"
    if not rec.exists():
        return False
    info = json.loads(rec.read_text(encoding="utf-8"))
    rec.unlink(missing_ok=True)
    pid = int(info["pid"])
    if not pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    return True
