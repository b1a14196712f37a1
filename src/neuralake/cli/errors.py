"""Exit codes and the failures the command line reports itself."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``neuralake`` exit status means (listed in ``neuralake --help``)."""

    OK = 0
    FINDINGS = 1
    ERROR = 2
    UNSUPPORTED = 3
    INTERNAL = 4
    INTERRUPTED = 130
    BROKEN_PIPE = 141


EXIT_CODES: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "success"),
    (ExitCode.FINDINGS, "the command ran and found problems (check: drift or, with --strict, "
                        "warnings)"),
    (ExitCode.ERROR, "bad usage, or a neuralake error (catalog, table, filter, SQL, storage, "
                     "file)"),
    (ExitCode.UNSUPPORTED, "the table cannot do this (delta commands on a non-Delta table)"),
    (ExitCode.INTERNAL, "unexpected error (a bug: rerun with --debug for the traceback)"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
    (ExitCode.BROKEN_PIPE, "stdout was closed early (e.g. piped into head)"),
)  # fmt: skip


class CliError(Exception):
    """A failure reported as one line, ``error: <message>``, and exit status ``code``."""

    code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, code: ExitCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(CliError):
    """The command line itself is wrong: unknown option, missing operand, conflicting forms."""


class UnsupportedTableError(CliError):
    """The table exists but its type does not support the command."""

    code = ExitCode.UNSUPPORTED
