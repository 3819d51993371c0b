"""The MCP server: the tools of :mod:`._tools` on the official ``mcp`` Python SDK.

``nova-forge mcp`` serves them over stdio (what desktop assistants launch) or over
streamable HTTP on 127.0.0.1. SDK errors become MCP tool errors that carry the error's type
and message (what to fix), never a traceback.

Example:
    >>> server = build_server()  # doctest: +SKIP
    >>> server.run("stdio")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from amzn_nova_forge.errors import ConfigError, MissingDependencyError, NovaForgeError
from amzn_nova_forge.mcp._tools import ForgeTools

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

__all__ = ["TOOL_NAMES", "build_server", "serve"]

#: Tool name -> (read only?, spends money?) for the clients' hints.
_TOOLS: dict[str, tuple[bool, bool]] = {
    "list_options": (True, False),
    "recipe_keys": (True, False),
    "validate_dataset": (True, False),
    "train": (False, True),
    "evaluate": (False, True),
    "deploy": (False, True),
    "job_status": (True, False),
    "job_logs": (True, False),
    "job_results": (True, False),
}
TOOL_NAMES = tuple(_TOOLS)

_INSTRUCTIONS = (
    "Amazon Nova Forge: prepare data, customize, evaluate and deploy Amazon Nova models (or rehearse locally). "
    "Start with list_options and recipe_keys; validate_dataset before training. train, evaluate and deploy "
    "answer first with a plan and a confirm_token: show the plan to the user, and only call again with the "
    "token once they agree, because that starts billed AWS work."
)
_EXPECTED = (NovaForgeError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError)


def _mcp() -> Any:
    try:
        from mcp.server import mcpserver
    except ImportError as e:
        raise MissingDependencyError(
            "The MCP server needs the official MCP SDK (mcp>=2.3): pip install 'amzn-nova-forge[mcp]'.",
            extra="mcp",
        ) from e
    return mcpserver


def _as_tool(method: Callable[..., Any], tool_error: type[Exception]) -> Callable[..., Any]:
    @functools.wraps(method)
    def tool(*args: Any, **kwargs: Any) -> Any:
        # stdout is the JSON-RPC channel under stdio: whatever the SDK prints goes to stderr
        with contextlib.redirect_stdout(sys.stderr):
            try:
                return method(*args, **kwargs)
            except _EXPECTED as e:
                raise tool_error(f"{type(e).__name__}: {e}") from e

    return tool


def build_server(results_dir: str | None = None, *, name: str = "nova-forge") -> MCPServer:
    """An MCP server exposing the Nova Forge tools.

    Args:
        results_dir: Where started jobs' results are saved (``~/.nova-forge/mcp-results`` by default).
        name: The server name announced to clients.

    Raises:
        MissingDependencyError: The ``mcp`` package is not installed.
    """
    mcpserver = _mcp()
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations

    from amzn_nova_forge import __version__

    server: MCPServer = mcpserver.MCPServer(name, instructions=_INSTRUCTIONS, version=__version__)
    tools = ForgeTools(results_dir=results_dir)
    for tool_name, (read_only, billed) in _TOOLS.items():
        method = getattr(tools, tool_name)
        server.add_tool(
            _as_tool(method, ToolError),
            name=tool_name,
            description=(method.__doc__ or "").strip(),
            annotations=ToolAnnotations(
                read_only_hint=read_only, destructive_hint=False, open_world_hint=billed, idempotent_hint=read_only
            ),
        )
    return server


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    transport: Literal["stdio", "http"] = "stdio",
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    results_dir: str | None = None,
) -> None:
    """Run the server until the client disconnects (stdio) or the process is stopped (HTTP).

    Args:
        transport: ``"stdio"`` or ``"http"`` (streamable HTTP at ``http://HOST:PORT/mcp``).
        host: Loopback address to bind for HTTP; other addresses are refused (the tools can start
            billed AWS work with the server's credentials).
        port: TCP port for HTTP (1–65535).
        results_dir: Where started jobs' results are saved.

    Raises:
        ConfigError: A non-loopback host, a bad port or an unknown transport.
        MissingDependencyError: The ``mcp`` package is not installed.
    """
    if transport not in ("stdio", "http"):
        raise ConfigError(f"transport must be 'stdio' or 'http', got {transport!r}.")
    if transport == "http":
        if not _is_loopback(host):
            raise ConfigError(
                f"Refusing to serve on {host!r}: the MCP server binds loopback addresses only "
                "(127.0.0.1, ::1, localhost); reach it from elsewhere through an SSH tunnel."
            )
        if not 1 <= port <= 65535:
            raise ConfigError(f"port must be between 1 and 65535, got {port}.")
    server = build_server(results_dir)
    if transport == "stdio":
        server.run("stdio")
        return
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = [f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )
    server.run("streamable-http", host=host, port=port, transport_security=security)
