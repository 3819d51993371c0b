"""``nova-forge mcp --http``: streamable HTTP on 127.0.0.1 for the official client; foreign Hosts refused."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from amzn_nova_forge.mcp import TOOL_NAMES

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Any:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "amzn_nova_forge", "mcp", "--http", "--port", str(port), "--results-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited") from None
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_official_client_over_http(http_server: str) -> None:
    from mcp import Client

    async def script() -> tuple[set[str], Any]:
        async with Client(http_server, read_timeout_seconds=60) as client:
            tools = await client.list_tools()
            keys = await client.call_tool("recipe_keys", {"model": "nova_lite_2", "method": "sft_lora"})
            return {t.name for t in tools.tools}, keys

    names, keys = asyncio.run(script())
    assert names == set(TOOL_NAMES)
    assert not keys.is_error and "max_steps" in keys.content[0].text


def test_foreign_host_header_is_refused(http_server: str) -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    req = urllib.request.Request(
        http_server,
        data=body,
        method="POST",
        headers={
            "Host": "evil.example:80",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code in (403, 421)
