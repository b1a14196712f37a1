"""What Delta writes and maintenance report back: typed results and the accepted modes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

WriteMode = Literal["append", "overwrite", "error", "ignore"]
SchemaMode = Literal["merge", "overwrite"]

WRITE_MODES: tuple[WriteMode, ...] = ("append", "overwrite", "error", "ignore")
SCHEMA_MODES: tuple[SchemaMode, ...] = ("merge", "overwrite")


@dataclass(frozen=True)
class MergeMetrics:
    """What a merge changed.

    Attributes:
        version: Table version the merge committed.
        rows_inserted: Source rows inserted (no matching target row).
        rows_updated: Target rows updated.
        rows_deleted: Target rows deleted (``delete_not_matched_by_source``).
        rows_copied: Unchanged target rows rewritten because they shared a file.
        files_added: Data files written.
        files_removed: Data files removed from the snapshot.
        files_scanned: Target files read.
        files_skipped: Target files pruned (e.g. partitions outside the source).
    """

    version: int
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    rows_copied: int = 0
    files_added: int = 0
    files_removed: int = 0
    files_scanned: int = 0
    files_skipped: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class OptimizeMetrics:
    """What a compaction / z-order did (``version`` is unchanged when nothing was rewritten)."""

    version: int
    files_added: int
    files_removed: int
    partitions_optimized: int
    files_considered: int
    files_skipped: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class RestoreMetrics:
    """Result of a restore; ``changed`` is false when the target was already current."""

    restored_version: int
    version: int
    changed: bool
    files_removed: int = 0
    files_restored: int = 0

    def to_dict(self) -> dict[str, int | bool]:
        return asdict(self)
