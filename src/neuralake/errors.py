"""The exceptions neuralake raises.

Every error derives from :class:`NeuralakeError`, so ``except NeuralakeError`` catches them all.
Each subclass also derives from the closest builtin (``LookupError``, ``ValueError``,
``OSError``) so code written against the builtins keeps working. Messages name the table and say
how to fix the problem; backend errors are chained with ``raise ... from exc``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NeuralakeError(Exception):
    """Root of every neuralake exception."""


class TableNotFoundError(NeuralakeError, LookupError):
    """No table with that name is registered (the message lists close matches)."""


class DatabaseNotFoundError(NeuralakeError, LookupError):
    """No database with that name is in the catalog (the message lists close matches)."""


class AmbiguousTableError(NeuralakeError, LookupError):
    """A bare table name matches tables in several databases; qualify it as ``db.table``."""


class DuplicateTableError(NeuralakeError, ValueError):
    """The same qualified name was registered from two different definition sites."""


class InvalidNameError(NeuralakeError, ValueError):
    """A table or database name is empty, contains separators, ``..`` or control characters."""


class InvalidFilterError(NeuralakeError, ValueError):
    """A filter names an unknown column or operator, or its value has the wrong type."""


class ColumnNotFoundError(NeuralakeError, LookupError):
    """``columns=`` names a column the table does not have."""


class InvalidParameterError(NeuralakeError, TypeError):
    """A read was given a parameter the table does not take, or a value of the wrong type."""


class SchemaMismatchError(NeuralakeError, ValueError):
    """Stored or written data does not match the declared schema."""


class TableExistsError(NeuralakeError, FileExistsError):
    """``mode="error"`` or ``create()`` found a Delta table already at the location."""


class StorageError(NeuralakeError, OSError):
    """Storage is unreachable, misconfigured, or the table path does not exist."""


class UnsupportedFeatureError(NeuralakeError, NotImplementedError):
    """A table uses a storage feature no reader here supports (the message names the feature,
    the table and what to do)."""


class CommitConflictError(NeuralakeError):
    """A concurrent Delta commit won and this one could not be retried."""


class SQLError(NeuralakeError, ValueError):
    """The SQL query could not be planned (syntax error, unknown column...)."""


class SQLNotAllowedError(SQLError):
    """The query uses something the SQL sandbox refuses (a statement that is not a query, a
    table function or file read, a function outside the allow-list, too deep nesting)."""


class CatalogLoadError(NeuralakeError, ImportError):
    """A catalog reference such as ``package.module:attribute`` could not be loaded."""


class DeprecatedTableWarning(FutureWarning):
    """A deprecated table was read (shown by default, unlike ``DeprecationWarning``)."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return a ``" Did you mean ...?"`` hint for ``name`` among ``choices`` ('' if none)."""
    matches = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"
