"""Restore an earlier version, vacuum unreferenced files, compact or z-order data files."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from neuralake.errors import ColumnNotFoundError, InvalidParameterError, did_you_mean
from neuralake.storage import is_remote
from neuralake.tables.delta.commit import Attempt, Landed, commit_properties, run
from neuralake.tables.delta.log import partition_columns, schema_of
from neuralake.tables.delta.metrics import OptimizeMetrics, RestoreMetrics
from neuralake.tables.delta.snapshot import (
    as_datetime,
    check_files_present,
    open_snapshot,
    require,
    uri_path,
)

if TYPE_CHECKING:
    from neuralake.tables.delta.target import DeltaTarget

RETENTION_KEY = "delta.deletedFileRetentionDuration"
DEFAULT_RETENTION_HOURS = 168.0
_INTERVAL = re.compile(r"^\s*interval\s+(\d+(?:\.\d+)?)\s+([a-z]+?)s?\s*$", re.IGNORECASE)
_HOURS = {"nanosecond": 1 / 3.6e12, "microsecond": 1 / 3.6e9, "millisecond": 1 / 3.6e6,
          "second": 1 / 3600, "minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0}  # fmt: skip


def restore(target: DeltaTarget, version: int | str | Any) -> RestoreMetrics:
    """Make ``version`` (int, datetime or ISO string) the current state as a new commit.

    Restoring the version that is already current is a no-op (``changed=False``); delta-rs
    refuses it.
    """
    wanted: Any = as_datetime(version, target.label) if isinstance(version, str) else version
    if isinstance(wanted, bool) or not isinstance(wanted, int | dt.datetime):
        raise InvalidParameterError(
            f"Table {target.label!r}: restore takes a version number, a datetime or an ISO-8601 "
            f"time, got {version!r}."
        )
    table = require(target, write=True)
    current = table.version()
    if isinstance(wanted, int):
        if not 0 <= wanted <= current:
            raise InvalidParameterError(
                f"Table {target.label!r} has no version {wanted} (versions 0..{current})."
            )
        number = wanted
    else:
        number = open_snapshot(target, as_of=wanted).version()
    if number == current:
        return RestoreMetrics(restored_version=current, version=current, changed=False)
    check_files_present(target, number, loaded=None)

    def operation(attempt: Attempt) -> RestoreMetrics:
        attempt.base = current
        raw = table.restore(number, commit_properties=attempt.properties())
        return restored(table.version(), raw)

    def restored(version: int, raw: Mapping[str, Any]) -> RestoreMetrics:
        return RestoreMetrics(
            restored_version=number,
            version=version,
            changed=True,
            files_removed=int(raw.get("numRemovedFile", 0)),
            files_restored=int(raw.get("numRestoredFile", 0)),
        )

    def recover(landed: Landed) -> RestoreMetrics:
        return restored(landed.version, landed.metrics)

    what = f"restore to version {number}"
    return run(target, what, operation, retry=False, recover=recover)


def minimum_retention_hours(configuration: Mapping[str, str]) -> float | None:
    """The table's vacuum retention minimum (``None`` if its setting cannot be read)."""
    raw = configuration.get(RETENTION_KEY)
    if raw is None:
        return DEFAULT_RETENTION_HOURS
    match = _INTERVAL.match(raw)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _HOURS:
        return None  # delta-rs reads the setting itself and reports what it cannot parse
    return float(match.group(1)) * _HOURS[unit]


def vacuum(
    target: DeltaTarget,
    retention_hours: int | None = None,
    *,
    dry_run: bool = True,
    enforce_retention: bool = True,
    full: bool = True,
) -> list[str]:
    """Files no longer referenced and older than the retention (deleted unless ``dry_run``).

    Returns:
        Paths relative to the table root, sorted and de-duplicated.
    """
    if retention_hours is not None and (
        isinstance(retention_hours, bool) or not isinstance(retention_hours, int)
        or retention_hours < 0
    ):  # fmt: skip
        raise InvalidParameterError(
            f"Table {target.label!r}: retention_hours must be a whole number of hours >= 0, "
            f"got {retention_hours!r}."
        )
    table = require(target, write=True)
    minimum = minimum_retention_hours(table.metadata().configuration)
    too_short = retention_hours is not None and minimum is not None and retention_hours < minimum
    if enforce_retention and too_short:
        raise InvalidParameterError(
            f"Table {target.label!r}: vacuum retention of {retention_hours} hours is below "
            f"the table's minimum of {minimum:g} hours ({RETENTION_KEY}, 168 hours by "
            "default): time travel and running readers could lose files. Pass "
            "enforce_retention=False to override."
        )
    root = uri_path(target.uri).rstrip("/") + "/"

    def relative(path: str) -> str:
        absolute = uri_path(path) if (is_remote(path) or os.path.isabs(path)) else path
        return absolute[len(root) :] if absolute.startswith(root) else absolute

    def operation(attempt: Attempt) -> list[str]:
        attempt.base = table.version()
        deleted = table.vacuum(
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=enforce_retention,
            full=full,
            commit_properties=commit_properties(),
        )
        return sorted({relative(p) for p in deleted})

    return run(target, "vacuum", operation, retry=False)


def _check_z_order(target: DeltaTarget, columns: Sequence[str], names: list[str],
                   partitions: tuple[str, ...]) -> None:  # fmt: skip
    for c in columns:
        if c not in names:
            raise ColumnNotFoundError(
                f"Table {target.label!r} has no column {c!r}.{did_you_mean(c, names)} "
                f"Columns: {', '.join(names)}."
            )
    clash = [c for c in columns if c in partitions]
    if clash:
        raise InvalidParameterError(
            f"Table {target.label!r}: cannot z-order by partition column(s) {clash}; each file "
            "already holds one value of them. Z-order by other columns."
        )


def optimize(
    target: DeltaTarget,
    *,
    z_order: Sequence[str] | None = None,
    target_size: int | None = None,
) -> OptimizeMetrics:
    """Compact small files (or z-order by ``z_order`` columns); returns metrics."""
    if isinstance(z_order, str):
        z_order = [z_order]
    if target_size is not None and (
        isinstance(target_size, bool) or not isinstance(target_size, int) or target_size <= 0
    ):
        raise InvalidParameterError(
            f"Table {target.label!r}: target_size must be a positive number of bytes, "
            f"got {target_size!r}."
        )
    table = require(target, write=True)
    if z_order:
        declared = target.declared_schema
        names = list(declared if declared is not None else schema_of(table))
        _check_z_order(target, z_order, names, partition_columns(table))

    def operation(attempt: Attempt) -> OptimizeMetrics:
        attempt.base = table.version()
        if z_order:
            raw = table.optimize.z_order(
                list(z_order), target_size=target_size, commit_properties=attempt.properties()
            )
        else:
            raw = table.optimize.compact(
                target_size=target_size, commit_properties=attempt.properties()
            )
        return _optimized(table.version(), raw)

    return run(target, "optimize", operation, retry=False, recover=_recovered_optimize)


def _recovered_optimize(landed: Landed) -> OptimizeMetrics:
    return _optimized(landed.version, landed.metrics)


def _optimized(version: int, raw: Mapping[str, Any]) -> OptimizeMetrics:
    return OptimizeMetrics(
        version=version,
        files_added=int(raw.get("numFilesAdded", 0)),
        files_removed=int(raw.get("numFilesRemoved", 0)),
        partitions_optimized=int(raw.get("partitionsOptimized", 0)),
        files_considered=int(raw.get("totalConsideredFiles", 0)),
        files_skipped=int(raw.get("totalFilesSkipped", 0)),
    )
