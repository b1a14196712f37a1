"""Committing through delta-rs' optimistic protocol: exactly once, retried with backoff, and
conflicts named.

Conflicts delta-rs can resolve (concurrent blind appends) are retried inside delta-rs up to
:data:`MAX_COMMIT_RETRIES` times; an append or merge that still fails is re-run here with
jittered exponential backoff, at most :data:`WRITE_ATTEMPTS` times. A real conflict raises
:class:`~neuralake.errors.CommitConflictError` naming the version that won.

Exactly once:
    Every operation run here (but vacuum) carries one idempotency token in each commit it
    attempts: a Delta app transaction (a ``txn`` action, app id ``neuralake-<uuid4>``, one per
    operation, the same for all its attempts), repeated in ``commitInfo`` under
    :data:`TOKEN_KEY` (delta-rs' optimize drops app transactions; a replayed optimize conflicts
    on the files it removes instead). A commit whose reply is lost may still have been applied; a retry of
    its PUT then finds the version taken, and delta-rs' conflict check sees the winner carry
    this transaction's own app id and refuses to commit again (``ConcurrentTransaction``). So
    after a commit failure, or a storage error once the operation has read the table, the log
    after the version the operation read is checked for the token (:func:`landed`): when a
    commit there carries it, the operation's result is rebuilt from that commit (its version
    and ``operationMetrics``) instead of writing again or reporting a conflict. Only when the
    check cannot read the log either is the storage error raised, saying the commit may have
    been applied. The check costs nothing on the success path (one GET per version read back,
    on failures only).

Retention of app transactions:
    Each ``txn`` records ``lastUpdated`` (the commit time). delta-rs drops app transactions
    older than the table property ``delta.setTransactionRetentionDuration`` from snapshots and
    checkpoints; without the property they are kept forever (one small entry per operation).
    Tables neuralake creates get :data:`TXN_RETENTION` (7 days, the default file retention of
    vacuum); for tables created elsewhere set it yourself, e.g.
    ``DeltaTable(uri).alter.set_table_properties({TXN_RETENTION_KEY: "interval 7 days"})``.
    The exactly-once check reads the commit files themselves, so it does not depend on it.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from neuralake.errors import CommitConflictError, NeuralakeError, StorageError
from neuralake.tables.delta.commits import CommitLog
from neuralake.tables.delta.errors import describe, map_error
from neuralake.tables.delta.log import entries
from neuralake.tables.delta.snapshot import open_latest

if TYPE_CHECKING:
    from deltalake import CommitProperties

    from neuralake.tables.delta.target import DeltaTarget

MAX_COMMIT_RETRIES = 100
"""delta-rs' own commit retries (its default, 15, is exhausted by 4 appenders on S3)."""
WRITE_ATTEMPTS = 8
"""Whole-operation attempts for appends and merges when delta-rs gives up."""
BACKOFF_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0
APP_ID_PREFIX = "neuralake-"
TOKEN_KEY = "neuralake.commitToken"
"""The commitInfo key that also carries the token (delta-rs' optimize drops app transactions)."""
TXN_RETENTION_KEY = "delta.setTransactionRetentionDuration"
TXN_RETENTION = "interval 7 days"
"""How long app transactions stay in snapshots of the tables neuralake creates."""

_T = TypeVar("_T")


@dataclass
class Attempt:
    """One try of an operation: its number, its token and the version it read.

    Attributes:
        number: 0 for the first try.
        token: The operation's idempotency token (the same for every attempt).
        base: The version the operation read (``-1``: no table yet); ``None`` until it read
            one, so a failure before that is known not to have committed.
    """

    number: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    base: int | None = None

    @property
    def app_id(self) -> str:
        return APP_ID_PREFIX + self.token

    def properties(self, metadata: Mapping[str, str] | None = None) -> CommitProperties:
        """delta-rs commit properties carrying this operation's app transaction (and
        ``metadata`` as ``commitInfo`` fields)."""
        return commit_properties(self, metadata)


def commit_properties(
    attempt: Attempt | None = None, metadata: Mapping[str, str] | None = None
) -> CommitProperties:
    """delta-rs commit properties: the retries, ``attempt``'s app transaction if given, and
    ``metadata`` as ``commitInfo`` fields (e.g. the unique-key marker of ``keys.py``).

    Vacuum commits without one: its result (the deleted paths) cannot be rebuilt from the log,
    and a replayed ``VACUUM END`` changes no data.
    """
    from deltalake import CommitProperties, Transaction

    custom = dict(metadata) if metadata else None
    if attempt is None:
        return CommitProperties(max_commit_retries=MAX_COMMIT_RETRIES, custom_metadata=custom)
    now = int(time.time() * 1000)
    return CommitProperties(
        max_commit_retries=MAX_COMMIT_RETRIES,
        app_transactions=[Transaction(attempt.app_id, 0, now)],
        custom_metadata={**(custom or {}), TOKEN_KEY: attempt.app_id},
    )


@dataclass(frozen=True)
class Landed:
    """A commit of this operation found in the log: its version and ``operationMetrics``."""

    version: int
    metrics: Mapping[str, Any]


def landed(target: DeltaTarget, base: int, app_id: str) -> Landed | None:
    """The commit after ``base`` that carries ``app_id``, if any (reads forward to the end).

    Raises:
        OSError: The log cannot be read.
    """
    log = CommitLog(target)
    version = base + 1
    while True:
        try:
            actions = log.actions(version)
        except FileNotFoundError:
            return None
        info: dict[str, Any] = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
        txns = {(a.get("txn") or {}).get("appId") for a in actions}
        if app_id in txns or info.get(TOKEN_KEY) == app_id:
            return Landed(version, dict(info.get("operationMetrics") or {}))
        version += 1


def backoff(attempt: int) -> None:
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2**attempt)
    time.sleep(delay * random.uniform(0.5, 1.5))


def winners(target: DeltaTarget, base: int) -> str:
    """Describe the commits after ``base`` (the ones that beat this writer)."""
    try:
        latest = open_latest(target)
        if latest is None:
            return "a concurrent commit"
        newer = [e.commit for e in entries(latest, max(latest.version() - base, 1))]
    except Exception:  # describing the winner must not hide the conflict
        return "a concurrent commit"
    parts = []
    for c in sorted((c for c in newer if c.version > base), key=lambda c: c.version):
        detail = ", ".join(f"{k}={v}" for k, v in c.parameters if k in ("mode", "predicate"))
        parts.append(f"version {c.version} ({c.operation}{', ' + detail if detail else ''})")
    return ", ".join(parts) if parts else "a concurrent commit"


def conflict(target: DeltaTarget, base: int, what: str, exc: Exception) -> CommitConflictError:
    reason = describe(exc, target.cfg)
    return CommitConflictError(
        target.redact(
            f"Table {target.label!r}: {what} based on version {base} conflicts with "
            f"{winners(target, base)}, which won. Re-read the table and retry. (delta-rs: {reason})"
        )
    )


def unknown_outcome(
    target: DeltaTarget, what: str, base: int, error: NeuralakeError
) -> StorageError:
    """``error`` (a failed commit whose log could not be read back), saying what to check."""
    return StorageError(
        f"{error} The {what} may still have been committed (after version {base}): check the "
        "table's history before running it again."
    )


def run(
    target: DeltaTarget,
    what: str,
    operation: Callable[[Attempt], _T],
    *,
    retry: bool,
    recover: Callable[[Landed], _T] | None = None,
) -> _T:
    """Run ``operation`` exactly once, re-running it on commit conflicts when ``retry``.

    Args:
        target: Where the table lives (for messages and the conflict description).
        what: The operation, for messages (``"append"``, ``"merge"``...).
        operation: Does the work, committing with ``attempt.properties()``; sets
            ``attempt.base`` to the version it read (``-1`` when it creates the table).
        retry: Re-run on a conflict (safe for appends and merges, not for pinned snapshots).
        recover: The operation's result from its own commit found in the log (after a lost
            reply); ``None``: the operation is not checked (it has no result to rebuild).
    """
    from deltalake.exceptions import CommitFailedError

    attempts = WRITE_ATTEMPTS if retry else 1
    token = uuid.uuid4().hex
    for number in range(attempts):
        attempt = Attempt(number, token)
        try:
            return operation(attempt)
        except CommitFailedError as exc:
            base = -1 if attempt.base is None else attempt.base
            if recover is not None:
                with_token = _landed_or_none(target, base, attempt.app_id)
                if with_token is not None:
                    return recover(with_token)
            if number + 1 < attempts:
                backoff(number)
                continue
            raise conflict(target, base, what, exc) from exc
        except NeuralakeError:
            raise
        except Exception as exc:
            error = map_error(exc, target, what)
            if recover is None or attempt.base is None or not isinstance(error, StorageError):
                raise error from exc
            # The reply may be what was lost: the commit can have landed all the same.
            try:
                found = landed(target, attempt.base, attempt.app_id)
            except Exception:
                raise unknown_outcome(target, what, attempt.base, error) from exc
            if found is None:
                raise error from exc
            return recover(found)
    raise AssertionError("unreachable")  # pragma: no cover


def _landed_or_none(target: DeltaTarget, base: int, app_id: str) -> Landed | None:
    try:
        return landed(target, base, app_id)
    except Exception:  # an unreadable log leaves the conflict (or the retry) as it was
        return None
