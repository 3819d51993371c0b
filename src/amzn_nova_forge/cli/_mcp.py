"""``nova-forge mcp``: serve the SDK's tools to AI assistants over the Model Context Protocol."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "mcp",
        help="serve the SDK as MCP tools (stdio, or HTTP on 127.0.0.1)",
        description=(
            "Serve Nova Forge as Model Context Protocol tools: list_options, recipe_keys, validate_dataset, "
            "train, evaluate, deploy (each billed action needs a confirm_token from a dry run first), "
            "job_status, job_logs, job_results. Needs: pip install 'amzn-nova-forge[mcp]'."
        ),
        epilog=(
            "examples:\n"
            "  nova-forge mcp                       # stdio, for a desktop assistant's config\n"
            "  nova-forge mcp --http --port 8765    # http://127.0.0.1:8765/mcp"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    p.add_argument("--host", default="127.0.0.1", help="loopback address for --http (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port for --http (default 8765)")
    p.add_argument("--results-dir", default=None, help="where started jobs' results are saved")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from amzn_nova_forge.mcp import serve

    serve("http" if args.http else "stdio", host=args.host, port=args.port, results_dir=args.results_dir)
    return 0
