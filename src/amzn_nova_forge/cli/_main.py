"""``nova-forge`` command line: one thin module per noun, registered here.

Every error is printed as one line on stderr (``error: <Type>: <message>``) with exit code 1
(2 for usage errors, 3 for a failed job or missing results); ``--debug`` (or
``NOVA_FORGE_DEBUG=1``) prints the traceback instead.
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
    "amzn_nova_forge.cli._completion",
    "amzn_nova_forge.cli._mcp",
)

#: Exit codes, shown in ``nova-forge --help``.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_JOB_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


_EPILOG = """examples:
  nova-forge demo                                   # the whole loop locally, offline, in a few minutes
  nova-forge data transform raw.jsonl train.jsonl --method sft_lora --model nova_lite_2 \\
      --map question=input --map answer=output
  nova-forge recipe keys --model nova_lite_2 --method sft_lora
  nova-forge train --model nova_lite_2 --method sft_lora --job-name my-job \\
      --instance-type ml.p5.48xlarge --instance-count 4 \\
      --data s3://bucket/train.jsonl --output s3://bucket/out --override lr=5e-6 --dry-run
  nova-forge status my-job-..._SMTJ.json --wait      # then: logs, plot, results, deploy, invoke

Run 'nova-forge COMMAND --help' for the options of a command. Commands that print data take --json.

exit codes:
  0    success
  1    error (one line on stderr: "error: <Type>: <message>"; --debug shows the traceback)
  2    usage error (unknown command or option, missing argument)
  3    the job failed or stopped (status), or has no results yet (results)
  130  interrupted (Ctrl-C)

shell completion:
  eval "$(nova-forge completion bash)"     # or: nova-forge completion zsh"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nova-forge",
        description="Amazon Nova Forge: prepare data, customize, evaluate and deploy Nova models.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from amzn_nova_forge import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    _add_debug(sub)
    return parser


def _add_debug(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Accept ``--debug`` after any (sub-)command too; it only ever turns tracebacks on."""
    for child in subparsers.choices.values():
        if not any("--debug" in a.option_strings for a in child._actions):
            child.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        for action in child._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_debug(action)


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
    except SystemExit:
        raise
    except Exception as e:
        if debug:
            raise
        print(one_line_error(e, known=isinstance(e, (NovaForgeError, OSError, ValueError))), file=sys.stderr)
        return EXIT_ERROR


def one_line_error(e: BaseException, *, known: bool = True) -> str:
    """``error: <Type>: <message>`` on one line (long messages cut); unexpected errors say how to see more.

    Example:
        >>> one_line_error(ValueError("bad\nvalue"))
        'error: ValueError: bad value'
    """
    message = " ".join(str(e).split()) or "(no message)"
    if len(message) > 2000:
        message = message[:1997] + "..."
    line = f"error: {type(e).__name__}: {message}"
    if not known:
        line += " (run with --debug for the traceback)"
    return line


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
