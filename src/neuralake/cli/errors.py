"""Exit codes, and which exit code each failure gets (decided by exception class)."""

from __future__ import annotations

import sys
from enum import IntEnum

from neuralake import errors as nl


class ExitCode(IntEnum):
    """What a ``neuralake`` exit status means (listed in ``neuralake --help``)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    NOT_FOUND = 3
    INVALID_INPUT = 4
    STORAGE = 5
    CONFLICT = 6
    FINDINGS = 7
    INTERRUPTED = 130
    BROKEN_PIPE = 141


EXIT_CODES: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "success"),
    (ExitCode.INTERNAL, "unexpected error (a bug: rerun with --debug for the traceback)"),
    (ExitCode.USAGE, "bad usage: options, operands, no catalog set, port in use, API settings"),
    (ExitCode.NOT_FOUND, "not found: catalog module or attribute, database, table, site folder"),
    (ExitCode.INVALID_INPUT, "invalid input: filter, SQL, parameter, name, schema, "
                             "not a Delta table"),
    (ExitCode.STORAGE, "storage: the lake or a file cannot be read or written"),
    (ExitCode.CONFLICT, "conflict: a concurrent Delta commit won, or the table already exists"),
    (ExitCode.FINDINGS, "check found problems: drift, warnings with --strict, or breaking "
                        "changes with --against"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
    (ExitCode.BROKEN_PIPE, "stdout was closed early (e.g. piped into head)"),
)  # fmt: skip


class CliError(Exception):
    """A failure reported as one line, ``error: <message>``, and exit status ``code``."""

    code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, code: ExitCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(CliError):
    """The command line itself is wrong: unknown option, missing operand, conflicting forms."""


class NotFoundError(CliError):
    """Something the command line names does not exist (e.g. the site folder to serve)."""

    code = ExitCode.NOT_FOUND


class UnsupportedTableError(CliError):
    """The table exists but its type does not support the command."""

    code = ExitCode.INVALID_INPUT


# The most specific class in an exception's MRO wins, so subclasses can override their base.
_BY_CLASS: dict[type[BaseException], ExitCode] = {
    nl.NeuralakeError: ExitCode.INVALID_INPUT,  # a library refusal the message explains
    nl.TableNotFoundError: ExitCode.NOT_FOUND,
    nl.DatabaseNotFoundError: ExitCode.NOT_FOUND,
    nl.CatalogLoadError: ExitCode.INVALID_INPUT,  # importable but not a Catalog; see below
    nl.InvalidFilterError: ExitCode.INVALID_INPUT,
    nl.InvalidParameterError: ExitCode.INVALID_INPUT,
    nl.SQLError: ExitCode.INVALID_INPUT,
    nl.SchemaMismatchError: ExitCode.INVALID_INPUT,
    nl.InvalidNameError: ExitCode.INVALID_INPUT,
    nl.UnsupportedFeatureError: ExitCode.INVALID_INPUT,
    nl.StorageError: ExitCode.STORAGE,
    nl.CommitConflictError: ExitCode.CONFLICT,
    nl.TableExistsError: ExitCode.CONFLICT,
    OSError: ExitCode.STORAGE,  # writing --out, reading a local file
}


def exit_code(exc: BaseException) -> ExitCode:
    """The documented exit status for ``exc`` (by class, never by message)."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, nl.CatalogLoadError) and isinstance(
        exc.__cause__, ModuleNotFoundError | AttributeError
    ):
        return ExitCode.NOT_FOUND
    # The API server is imported only by ``api serve``; its errors exist only once it is.
    server = sys.modules.get("neuralake.api.server")
    if server is not None and isinstance(exc, server.ApiConfigError):
        return ExitCode.USAGE
    if isinstance(exc, _polars_input_errors()):
        return ExitCode.INVALID_INPUT
    for cls in type(exc).__mro__:
        if cls in _BY_CLASS:
            return _BY_CLASS[cls]
    return ExitCode.INTERNAL


def _polars_input_errors() -> tuple[type[BaseException], ...]:
    """Polars errors raised while a query runs on the data it asked for (``query`` collects
    after planning, so a type mismatch in SQL surfaces here, not as a ``SQLError``)."""
    if "polars" not in sys.modules:
        return ()
    from polars import exceptions as pe

    return (pe.ColumnNotFoundError, pe.ComputeError, pe.DuplicateError, pe.InvalidOperationError,
            pe.OutOfBoundsError, pe.SchemaError, pe.SchemaFieldNotFoundError,
            pe.SQLInterfaceError, pe.SQLSyntaxError, pe.StructFieldNotFoundError)  # fmt: skip
