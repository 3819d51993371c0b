"""An MCP server for AI assistants: list options, validate data, train, evaluate, deploy, read status and logs.

Run it with ``nova-forge mcp`` (stdio) or ``nova-forge mcp --http`` (streamable HTTP on
127.0.0.1); it needs the ``[mcp]`` extra. Anything that spends money answers first with a
plan and a ``confirm_token``. See ``docs/mcp.md``.

Example:
    >>> from amzn_nova_forge.mcp import ForgeTools
    >>> "NOVA_LITE_2" in [m["name"] for m in ForgeTools().list_options()["models"]]
    True
"""

from __future__ import annotations

from amzn_nova_forge.mcp._confirm import Confirmations
from amzn_nova_forge.mcp._server import TOOL_NAMES, build_server, serve
from amzn_nova_forge.mcp._tools import ForgeTools

__all__ = ["TOOL_NAMES", "Confirmations", "ForgeTools", "build_server", "serve"]
