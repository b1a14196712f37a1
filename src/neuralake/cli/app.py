"""The root parser and the one error handler behind ``neuralake``."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from neuralake.cli import api_cmds, catalog_cmds, delta_cmds, diff_cmds, site_cmds
from neuralake.cli.context import Context
from neuralake.cli.errors import EXIT_CODES, CliError, ExitCode, UsageError, exit_code
from neuralake.cli.options import Parser, split_operands
from neuralake.cli.output import render
from neuralake.storage import redact_uri

DESCRIPTION = "Code-as-catalog: list, query, export and maintain declared tables."


def _epilog() -> str:
    codes = "\n".join(f"  {int(code):<4} {text}" for code, text in EXIT_CODES)
    return (
        "A catalog is package.module:attribute, given with -c/--catalog before the command;\n"
        'without it, [tool.neuralake] catalog = "..." in the nearest pyproject.toml is used.\n'
        "Where a file is expected, - means stdout.\n\n"
        f"exit codes:\n{codes}"
    )


def version() -> str:
    """The installed distribution's version (the package's own when run from a source tree)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("neuralake")
    except PackageNotFoundError:
        from neuralake import __version__

        return __version__


def build_parser() -> Parser:
    p = Parser(prog="neuralake", description=DESCRIPTION, epilog=_epilog(),
               formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--version", action="version", version=f"neuralake {version()}")
    p.add_argument(
        "-c", "--catalog", action="append", dest="catalog_option", metavar="REF",
        help="the catalog, package.module:attribute (repeat for site build)",
    )  # fmt: skip
    p.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (catalog_cmds, site_cmds, delta_cmds, api_cmds, diff_cmds):
        group.register(sub)
    return p


def context(ns: argparse.Namespace) -> Context:
    """The catalogs, output mode and debug flag, from the root options and the positionals."""
    option = tuple(ns.catalog_option or ())
    one = split_operands(ns)
    positional = (one,) if one else tuple(getattr(ns, "catalogs", None) or ())
    if positional and option:
        raise UsageError(
            "the catalog was given twice: use -c/--catalog only, not also the positional CATALOG"
        )
    if positional:
        command = ns.prog.removeprefix("neuralake ")
        print(f"note: the positional CATALOG is deprecated; -c/--catalog is preferred: "
              f"neuralake -c {positional[0]} {command} ...", file=sys.stderr)  # fmt: skip
    return Context(option or positional, getattr(ns, "json", False), ns.debug)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``neuralake`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    debug = False  # known once parsed; a parse error has no traceback worth showing
    try:
        ns = build_parser().parse_args(argv)
        debug = ns.debug
        ctx = context(ns)
        code = render(ns.func(ns, ctx), as_json=ctx.as_json)
        sys.stdout.flush()  # a closed pipe fails here, where it is handled, not at exit
        return code
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.BROKEN_PIPE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:
        return _fail(exc, debug)


def _message(exc: Exception, code: ExitCode) -> str:
    if isinstance(exc, CliError):
        return str(exc)
    # The class names the condition (and is what scripts grep for); the message says the fix.
    text = f"{type(exc).__name__}: {exc}"
    if code is ExitCode.INTERNAL:
        text += " (rerun with --debug for the traceback)"
    return text


def _fail(exc: Exception, debug: bool) -> int:
    code = exit_code(exc)
    message = _message(exc, code)
    # Last line of defence: a backend message may quote a table URI with credentials in it.
    if debug:
        print(redact_uri("".join(traceback.format_exception(exc))), end="", file=sys.stderr)
    line = " ".join(part.strip() for part in message.splitlines())
    print("error: " + redact_uri(line), file=sys.stderr)
    return code
