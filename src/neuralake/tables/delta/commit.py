"""Committing through delta-rs' optimistic protocol: retries with backoff, and conflicts named.

Conflicts delta-rs can resolve (concurrent blind appends) are retried inside delta-rs up to
:data:`MAX_COMMIT_RETRIES` times; an append or merge that still fails is re-run here with
jittered exponential backoff, at most :data:`WRITE_ATTEMPTS` times. A real conflict raises
:class:`~neuralake.errors.CommitConflictError` naming the version that won.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from neuralake.errors import CommitConflictError, NeuralakeError
from neuralake.tables.delta.errors import describe, map_error
from neuralake.tables.delta.log import entries
from neuralake.tables.delta.snapshot import open_latest

if TYPE_CHECKING:
    from neuralake.tables.delta.target import DeltaTarget

MAX_COMMIT_RETRIES = 100
"""delta-rs' own commit retries (its default, 15, is exhausted by 4 appenders on S3)."""
WRITE_ATTEMPTS = 8
"""Whole-operation attempts for appends and merges when delta-rs gives up."""
BACKOFF_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0

_T = TypeVar("_T")


@dataclass
class Attempt:
    """One try of an operation: its number, and the version it read (set by the operation)."""

    number: int
    base: int = -1


def commit_properties() -> Any:
    from deltalake import CommitProperties

    return CommitProperties(max_commit_retries=MAX_COMMIT_RETRIES)


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


def run(
    target: DeltaTarget,
    what: str,
    operation: Callable[[Attempt], _T],
    *,
    retry: bool,
) -> _T:
    """Run ``operation``, re-running it on commit conflicts when ``retry``; map every error.

    Args:
        target: Where the table lives (for messages and the conflict description).
        what: The operation, for messages (``"append"``, ``"merge"``...).
        operation: Does the work; sets ``attempt.base`` to the version it read.
        retry: Re-run on a conflict (safe for appends and merges, not for pinned snapshots).
    """
    from deltalake.exceptions import CommitFailedError

    attempts = WRITE_ATTEMPTS if retry else 1
    for number in range(attempts):
        attempt = Attempt(number)
        try:
            return operation(attempt)
        except CommitFailedError as exc:
            if number + 1 < attempts:
                backoff(number)
                continue
            raise conflict(target, attempt.base, what, exc) from exc
        except NeuralakeError:
            raise
        except Exception as exc:
            raise map_error(exc, target, what) from exc
    raise AssertionError("unreachable")  # pragma: no cover
