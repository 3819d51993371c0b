"""``nova-forge`` command line: one thin module per noun, registered here.

Known SDK errors are printed as one line with exit code 1 (2 for usage errors);
``--debug`` (or ``NOVA_FORGE_DEBUG=1``) prints the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: Modules that each define ``register(subparsers)``; a missing one is skipped.
_COMMAND_MODULES = (
    "amzn_nova_forge.cli._data",
    "amzn_nova_forge.cli._recipe",
    "amzn_nova_forge.cli._job",
    "amzn_nova_forge.cli._monitor",
    "amzn_nova_forge.cli._deploy",
    "amzn_nova_forge.cli._demo",
    "amzn_nova_forge.cli._mcp",
)


_EPILOG = """examples:
  nova-forge demo                                   # the whole loop locally, offline, in a few minutes
  nova-forge data transform raw.jsonl train.jsonl --method sft_lora --model nova_lite_2 \\
      --map question=input --map answer=output
  nova-forge recipe keys --model nova_lite_2 --method sft_lora
  nova-forge train --model nova_lite_2 --method sft_lora --job-name my-job \\
      --instance-type ml.p5.48xlarge --instance-count 4 \\
      --data s3://bucket/train.jsonl --output s3://bucket/out --override lr=5e-6 --dry-run
  nova-forge status my-job-..._SMTJ.json --wait      # then: logs, plot, results, deploy, invoke

Run 'nova-forge COMMAND --help' for the options of a command."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nova-forge",
        description="Amazon Nova Forge: prepare data, customize, evaluate and deploy Nova models.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="print full tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nova-forge`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("NOVA_FORGE_DEBUG", "") not in ("", "0")
    from amzn_nova_forge.errors import NovaForgeError

    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `nova-forge ... | head`: the reader left; not an error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at interpreter exit
        except OSError:
            pass
        return 0
    except (NovaForgeError, FileNotFoundError, ValueError) as e:
        if debug:
            raise
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        # Safety net: a botocore error that escaped the SDK's wrapping is still one line.
        if debug or not type(e).__module__.startswith("botocore"):
            raise
        print(f"error: {type(e).__name__}: {e} (run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
