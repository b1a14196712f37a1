"""delta-rs exceptions mapped to neuralake errors by type, and ``OSError`` by ``errno``.

The words of a message never decide the class. delta-rs raises its generic ``DeltaError`` both
for storage failures (a full disk, a dropped connection) and for some bad input (an unparsable
predicate, rows outside an overwrite predicate), so the helpers validate their input *before*
calling delta-rs; a generic ``DeltaError`` that still comes back is a failure of the store or
the engine and becomes :class:`~neuralake.errors.StorageError`.

============================================  ==============================================
raised by delta-rs / the OS                    raised by neuralake
============================================  ==============================================
``CommitFailedError``                          ``CommitConflictError`` (after retries)
``SchemaMismatchError``                        ``SchemaMismatchError``
``TableNotFoundError``                         ``StorageError`` (no Delta table at the uri)
``DeltaProtocolError``                         ``StorageError`` (invalid or unsupported log)
``OSError`` (ENOSPC, EDQUOT, EFBIG)            ``StorageError`` (storage full)
``OSError`` (ECONNREFUSED, ETIMEDOUT, ...),    ``StorageError`` (storage unreachable)
``ConnectionError``, ``TimeoutError``
``OSError`` (EACCES, EPERM, EROFS)             ``StorageError`` (permission denied)
``OSError`` (EIO, other or no errno)           ``StorageError``
``DeltaError`` (any other)                     ``StorageError`` (inputs were validated first)
``NotImplementedError``                        ``UnsupportedFeatureError`` (delta-rs lacks it)
``ValueError``, ``TypeError``,                 ``InvalidParameterError`` (an argument delta-rs
``OverflowError``                              could not take)
============================================  ==============================================
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from neuralake.errors import (
    CommitConflictError,
    InvalidParameterError,
    NeuralakeError,
    SchemaMismatchError,
    StorageError,
    UnsupportedFeatureError,
)
from neuralake.storage import redact_uri

if TYPE_CHECKING:
    from neuralake.storage import StorageConfig
    from neuralake.tables.delta.target import DeltaTarget

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_UNREACHABLE = {
    errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE,
    errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN,
}  # fmt: skip
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def describe(exc: BaseException, cfg: StorageConfig) -> str:
    """The backend's message on one line, without terminal colours, with secrets redacted."""
    text = _ANSI.sub("", str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return cfg.redact(" ".join(lines) or type(exc).__name__)


def os_hint(exc: OSError) -> str:
    """What to do about an ``OSError``, from its errno (delta-rs' own ``OSError`` has none)."""
    if exc.errno in _FULL:
        return "the storage is full: free space (or raise the quota), then retry"
    if isinstance(exc, ConnectionError | TimeoutError) or exc.errno in _UNREACHABLE:
        return (
            "the storage is unreachable: check the endpoint, the network and "
            "timeout_seconds, then retry"
        )
    if exc.errno in _DENIED:
        return "permission denied: check the credentials and that the location is writable"
    if isinstance(exc, FileNotFoundError):
        return "a file of the table is missing: check the uri and that nothing deleted it"
    if exc.errno == errno.EIO:
        return "the device reported an I/O error: check the disk or the mount, then retry"
    return "check that the storage is reachable, writable and has free space, then retry"


def map_error(exc: Exception, target: DeltaTarget, what: str) -> NeuralakeError:
    """The neuralake error for ``exc``, raised by delta-rs while doing ``what`` on ``target``.

    The caller chains it: ``raise map_error(exc, target, what) from exc``.
    """
    from deltalake.exceptions import (
        CommitFailedError,
        DeltaError,
        DeltaProtocolError,
        TableNotFoundError,
    )
    from deltalake.exceptions import SchemaMismatchError as DeltaSchemaMismatch

    if isinstance(exc, NeuralakeError):
        return exc
    label, uri, text = target.label, redact_uri(target.uri), describe(exc, target.cfg)
    if isinstance(exc, CommitFailedError):
        return CommitConflictError(
            f"Table {label!r}: {what} conflicts with a concurrent commit, which won. "
            f"Re-read the table and retry. (delta-rs: {text})"
        )
    if isinstance(exc, DeltaSchemaMismatch):
        return SchemaMismatchError(
            f"Table {label!r}: {what} rejected by the stored schema: {text}. Make the data match "
            "the table's schema, or pass schema_mode='merge' to add new columns."
        )
    if isinstance(exc, TableNotFoundError):
        return StorageError(not_found_message(label, uri))
    if isinstance(exc, DeltaProtocolError):
        return StorageError(
            f"Table {label!r}: cannot {what}: the Delta log at {uri} is invalid or uses features "
            f"this deltalake does not support ({text}). Upgrade deltalake or repair the log."
        )
    if isinstance(exc, OSError):
        return StorageError(f"Table {label!r}: cannot {what} at {uri}: {text}; {os_hint(exc)}.")
    if isinstance(exc, DeltaError):
        return StorageError(
            f"Table {label!r}: cannot {what} at {uri} (delta-rs: {text}). Check that the "
            "storage is reachable, writable and has free space, then retry."
        )
    if isinstance(exc, NotImplementedError):  # not the caller's mistake: delta-rs lacks it
        return UnsupportedFeatureError(
            f"Table {label!r}: cannot {what}: delta-rs does not support it here: {text}. "
            "Upgrade deltalake, or do it with another Delta writer."
        )
    if isinstance(exc, ValueError | TypeError | ArithmeticError):
        return InvalidParameterError(
            f"Table {label!r}: {what}: delta-rs refused an argument: {text}. Check the "
            "arguments against the method's documentation."
        )
    return StorageError(f"Table {label!r}: cannot {what} at {uri}: {type(exc).__name__}: {text}")


def not_found_message(label: str, uri: str) -> str:
    return (
        f"Table {label!r}: no Delta table at {redact_uri(uri)}. "
        "Check the uri, or create the table by writing to it."
    )


@contextmanager
def translated(target: DeltaTarget, what: str) -> Iterator[None]:
    """Run a block of delta-rs calls, re-raising their exceptions as neuralake errors."""
    try:
        yield
    except NeuralakeError:
        raise
    except Exception as exc:
        raise map_error(exc, target, what) from exc
