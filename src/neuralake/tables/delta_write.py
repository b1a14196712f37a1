"""Writes, merges and maintenance for :class:`~neuralake.tables.delta.NeuralakeDeltaTable`.

Every function takes the table object first; the table's methods (``write``, ``merge``,
``upsert``, ``restore``, ``vacuum``, ``optimize``, ``create``, ``exists``) are thin wrappers.

Data is checked against the declared schema before anything is written: a missing column, an
undeclared column or a type that cannot be cast safely raises
:class:`~neuralake.errors.SchemaMismatchError` listing every difference; safe casts (the ones
reads apply, see :func:`neuralake.tables.base.check_castable`) are applied. New columns are only
added with ``schema_mode="merge"``; the declaration must then be updated, or ``neuralake check``
reports the drift.

Concurrency:
    Commits go through delta-rs' optimistic protocol. Conflicts it can resolve (concurrent blind
    appends) are retried inside delta-rs up to :data:`MAX_COMMIT_RETRIES` times; appends and
    merges that still fail are re-run here with jittered exponential backoff, at most
    :data:`WRITE_ATTEMPTS` times. A real conflict (two overwrites of the same partition, a merge
    racing an overwrite it read) raises :class:`~neuralake.errors.CommitConflictError` naming
    the version that won.

S3 and S3-compatible stores:
    delta-rs 1.x commits to S3 with conditional PUT (``If-None-Match: *``), which AWS S3, MinIO
    (recent releases), Cloudflare R2 and moto support (check yours); nothing needs to be
    configured, and neither a DynamoDB lock nor ``aws_conditional_put`` is required. Point a
    :class:`~neuralake.storage.StorageConfig` at the store::

        StorageConfig(endpoint_url="http://127.0.0.1:9000", access_key_id="minio",
                      secret_access_key="minio123", allow_http=True)

    For a store without conditional PUT, concurrent writers can silently overwrite each other's
    commits. The unsafe-rename mode that accepts this (``AWS_S3_ALLOW_UNSAFE_RENAME``) is refused
    unless the table opts in with ``NeuralakeDeltaTable(..., allow_unsafe_rename=True)`` (use it
    only with a single writer); the environment variable alone is rejected.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import polars as pl

from neuralake.errors import (
    CommitConflictError,
    InvalidParameterError,
    NeuralakeError,
    SchemaMismatchError,
    StorageError,
    TableExistsError,
)
from neuralake.metadata import readable_type
from neuralake.storage import (
    StorageConfig,
    is_remote,
    list_files,
    storage_options,
)
from neuralake.tables.base import castable

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

    from neuralake.tables.delta import NeuralakeDeltaTable

WriteMode = Literal["append", "overwrite", "error", "ignore"]
SchemaMode = Literal["merge", "overwrite"]

MAX_COMMIT_RETRIES = 100
"""delta-rs' own commit retries (its default, 15, is exhausted by 4 appenders on S3)."""
WRITE_ATTEMPTS = 8
"""Whole-operation attempts for appends and merges when delta-rs gives up."""
BACKOFF_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0

_MODES = ("append", "overwrite", "error", "ignore")
_T = TypeVar("_T")


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
    """Result of :func:`restore`; ``changed`` is false when the target was already current."""

    restored_version: int
    version: int
    changed: bool
    files_removed: int = 0
    files_restored: int = 0

    def to_dict(self) -> dict[str, int | bool]:
        return asdict(self)


# -- options, opening, errors ------------------------------------------------------------------


def write_storage_options(table: NeuralakeDeltaTable, cfg: StorageConfig) -> dict[str, str] | None:
    """delta-rs options for writing: S3 keys plus the unsafe-rename decision (see module doc)."""
    opts = storage_options(table.uri, cfg)
    if opts is None:
        return None
    opted_in = table.allow_unsafe_rename
    env = os.environ.get("AWS_S3_ALLOW_UNSAFE_RENAME", "").strip().lower()
    if env in ("1", "true", "yes") and not opted_in:
        raise StorageError(
            f"Table {table.name!r}: AWS_S3_ALLOW_UNSAFE_RENAME is set, but unsafe renames can "
            "lose commits when several writers run at once. S3, MinIO and R2 support "
            "conditional PUT, which needs no setting; unset the variable, or opt in for a "
            "single-writer store with `NeuralakeDeltaTable(..., allow_unsafe_rename=True)`."
        )
    opts["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true" if opted_in else "false"
    return opts


def open_table(table: NeuralakeDeltaTable, cfg: StorageConfig) -> DeltaTable | None:
    """The latest snapshot, or ``None`` when no Delta table exists at the uri yet."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError as DeltaNotFound

    try:
        return DeltaTable(table.uri, storage_options=write_storage_options(table, cfg))
    except DeltaNotFound:
        return None
    except NeuralakeError:
        raise
    except Exception as exc:
        raise StorageError(
            cfg.redact(f"Table {table.name!r}: cannot open {table.uri}: {exc}")
        ) from exc


def _require(table: NeuralakeDeltaTable, cfg: StorageConfig) -> DeltaTable:
    dt = open_table(table, cfg)
    if dt is None:
        raise StorageError(
            f"Table {table.name!r}: no Delta table at {table.uri}. "
            "Create it with table.create() or by writing to it."
        )
    return dt


def _commit_properties() -> Any:
    from deltalake import CommitProperties

    return CommitProperties(max_commit_retries=MAX_COMMIT_RETRIES)


def _backoff(attempt: int) -> None:
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2**attempt)
    time.sleep(delay * random.uniform(0.5, 1.5))


def _winners(table: NeuralakeDeltaTable, cfg: StorageConfig, base: int) -> str:
    """Describe the commits after ``base`` (the ones that beat this writer)."""
    try:
        dt = _require(table, cfg)
        latest = dt.version()
        entries = [h for h in dt.history(max(latest - base, 1)) if int(h.get("version", -1)) > base]
    except Exception:  # describing the winner must not hide the conflict
        return "a concurrent commit"
    parts = []
    for h in sorted(entries, key=lambda h: int(h.get("version", -1))):
        params = h.get("operationParameters") or {}
        detail = ", ".join(
            f"{k}={v}" for k, v in sorted(params.items()) if k in ("mode", "predicate")
        )
        parts.append(
            f"version {h.get('version')} ({h.get('operation')}{', ' + detail if detail else ''})"
        )
    return ", ".join(parts) if parts else "a concurrent commit"


def _conflict(
    table: NeuralakeDeltaTable, cfg: StorageConfig, base: int, what: str, exc: Exception
) -> CommitConflictError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CommitConflictError(
        cfg.redact(
            f"Table {table.name!r}: {what} based on version {base} conflicts with {_winners(table, cfg, base)}, "
            f"which won. Re-read the table and retry. (delta-rs: {reason})"
        )
    )


def _run(
    table: NeuralakeDeltaTable,
    cfg: StorageConfig,
    what: str,
    operation: Callable[[int], _T],
    *,
    retry: bool,
) -> _T:
    """Run ``operation(attempt)``, retrying commit conflicts when ``retry`` and mapping errors."""
    from deltalake.exceptions import CommitFailedError
    from deltalake.exceptions import SchemaMismatchError as DeltaSchemaMismatch

    attempts = WRITE_ATTEMPTS if retry else 1
    for attempt in range(attempts):
        base = -1
        try:
            return operation(attempt)
        except CommitFailedError as exc:
            base = getattr(exc, "__neuralake_base__", -1)
            if attempt + 1 < attempts:
                _backoff(attempt)
                continue
            raise _conflict(table, cfg, base, what, exc) from exc
        except DeltaSchemaMismatch as exc:
            raise SchemaMismatchError(
                cfg.redact(f"Table {table.name!r}: {what} rejected by the stored schema: {exc}")
            ) from exc
        except NeuralakeError:
            raise
        except OSError as exc:
            raise StorageError(cfg.redact(f"Table {table.name!r}: {what} failed: {exc}")) from exc
        except Exception as exc:
            raise _backend_error(table, cfg, what, exc) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _backend_error(
    table: NeuralakeDeltaTable, cfg: StorageConfig, what: str, exc: Exception
) -> NeuralakeError:
    text = cfg.redact(str(exc))
    lowered = text.lower()
    message = f"Table {table.name!r}: {what} failed: {text}"
    if "failed validation check" in lowered:
        return InvalidParameterError(
            f"Table {table.name!r}: {what}: rows outside the predicate cannot be written with "
            f"overwrite(predicate=...); filter the data to the predicate first. ({text})"
        )
    if any(s in lowered for s in ("sql parser", "no field named", "schema error", "parse")):
        return InvalidParameterError(message)
    if "partitioning does not match" in lowered:
        return SchemaMismatchError(message)
    if "cast error" in lowered or "schema" in lowered:
        return SchemaMismatchError(message)
    return StorageError(message)


# -- data and schema ----------------------------------------------------------------------------


def to_frame(data: Any) -> pl.DataFrame:
    """A Polars DataFrame from Polars (eager or lazy) or Arrow data (table, batch, reader, stream)."""
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, pl.DataFrame):
        return data
    try:
        import pyarrow as pa

        if isinstance(data, pa.Table | pa.RecordBatch):
            frame = pl.from_arrow(data)
        elif isinstance(data, pa.RecordBatchReader):
            frame = pl.from_arrow(data.read_all())
        elif hasattr(data, "__arrow_c_stream__"):
            frame = pl.DataFrame(data)
        else:
            raise TypeError(type(data).__name__)
    except TypeError as exc:
        raise InvalidParameterError(
            f"Cannot write {type(data).__name__}; pass a Polars DataFrame/LazyFrame or Arrow data."
        ) from exc
    if not isinstance(frame, pl.DataFrame):  # a pl.Series from a single array
        frame = frame.to_frame()
    return frame


def schema_differences(
    have: pl.Schema, declared: pl.Schema, *, allow_extra: bool = False
) -> list[str]:
    """Every reason ``have`` cannot be written as ``declared`` (empty list: compatible)."""
    problems = [
        f"missing column {name!r} ({readable_type(dtype)})"
        for name, dtype in declared.items()
        if name not in have
    ]
    if not allow_extra:
        problems += [
            f"extra column {name!r} ({readable_type(dtype)}) is not declared"
            for name, dtype in have.items()
            if name not in declared
        ]
    problems += [
        f"column {name!r} is {readable_type(have[name])}, declared {readable_type(dtype)} "
        "(no safe cast)"
        for name, dtype in declared.items()
        if name in have and have[name] != dtype and not castable(have[name], dtype)
    ]
    return problems


def conform(
    table: NeuralakeDeltaTable, data: Any, schema_mode: SchemaMode | None = None
) -> pl.DataFrame:
    """Check ``data`` against the declared schema and apply safe casts (declared order).

    Raises:
        SchemaMismatchError: Listing every missing, undeclared or incompatible column.
    """
    df = to_frame(data)
    declared = table.declared_schema
    if declared is None:
        return df
    problems = schema_differences(df.schema, declared, allow_extra=schema_mode is not None)
    if problems:
        hint = (
            " Pass schema_mode='merge' to add new columns (then declare them)."
            if any(p.startswith("extra") for p in problems)
            else ""
        )
        raise SchemaMismatchError(
            f"Table {table.name!r}: data does not match the declared schema: "
            + "; ".join(problems)
            + "."
            + hint
        )
    casts = [pl.col(n).cast(t) for n, t in declared.items() if df.schema[n] != t]
    extra = [n for n in df.columns if n not in declared]
    try:
        if casts:
            df = df.with_columns(casts)
    except pl.exceptions.PolarsError as exc:
        raise SchemaMismatchError(
            f"Table {table.name!r}: data does not fit the declared types: {exc}"
        ) from exc
    return df.select([*declared, *extra])


def arrow_schema(schema: pl.Schema) -> pa.Schema:
    """The Arrow schema delta-rs stores for a Polars schema (standard, not view, types)."""
    return pl.DataFrame(schema=schema).to_arrow(compat_level=pl.CompatLevel.oldest()).schema


# -- writes -------------------------------------------------------------------------------------


def exists(table: NeuralakeDeltaTable, storage: StorageConfig | None = None) -> bool:
    """True when a Delta log exists at the table's uri."""
    from deltalake import DeltaTable

    cfg = storage or table.resolve_storage()
    try:
        return bool(
            DeltaTable.is_deltatable(table.uri, storage_options=storage_options(table.uri, cfg))
        )
    except Exception as exc:
        raise StorageError(
            cfg.redact(f"Table {table.name!r}: cannot reach {table.uri}: {exc}")
        ) from exc


def create(
    table: NeuralakeDeltaTable,
    *,
    exist_ok: bool = False,
    storage: StorageConfig | None = None,
) -> int:
    """Create an empty table with the declared schema and partitioning; returns its version."""
    from deltalake import DeltaTable

    if table.declared_schema is None:
        raise InvalidParameterError(
            f"Table {table.name!r} has no declared schema; create it by writing data instead."
        )
    cfg = storage or table.resolve_storage()
    existing = open_table(table, cfg)
    if existing is not None:
        if exist_ok:
            return existing.version()
        raise TableExistsError(
            f"Table {table.name!r}: a Delta table already exists at {table.uri} "
            f"(version {existing.version()}). Pass exist_ok=True to keep it."
        )
    schema = arrow_schema(table.declared_schema)

    def run(_: int) -> int:
        dt = DeltaTable.create(
            table.uri,
            schema,
            mode="ignore" if exist_ok else "error",
            partition_by=list(table.partition_by) or None,
            name=table.name,
            description=_summary(table),
            storage_options=write_storage_options(table, cfg),
            commit_properties=_commit_properties(),
        )
        return dt.version()

    return _run(table, cfg, "create", run, retry=False)


def write(
    table: NeuralakeDeltaTable,
    data: Any,
    mode: WriteMode = "append",
    *,
    predicate: str | None = None,
    schema_mode: SchemaMode | None = None,
    target_file_size: int | None = None,
    storage: StorageConfig | None = None,
    snapshot: DeltaTable | None = None,
) -> int | None:
    """Write data; see :meth:`NeuralakeDeltaTable.write`. Returns the new version.

    ``snapshot`` pins the version the write is based on (for optimistic concurrency): a
    conflicting commit after it raises :class:`CommitConflictError` instead of being retried.
    """
    from deltalake import write_deltalake

    if mode not in _MODES:
        raise InvalidParameterError(
            f"Table {table.name!r}: mode must be one of {', '.join(_MODES)}, got {mode!r}."
        )
    if predicate is not None and mode != "overwrite":
        raise InvalidParameterError(
            f"Table {table.name!r}: predicate= only applies to mode='overwrite', not {mode!r}."
        )
    if schema_mode not in (None, "merge", "overwrite"):
        raise InvalidParameterError(
            f"Table {table.name!r}: schema_mode must be None, 'merge' or 'overwrite', "
            f"got {schema_mode!r}."
        )
    cfg = storage or table.resolve_storage()
    df = conform(table, data, schema_mode)
    partition_by = list(table.partition_by) or None

    def run(attempt: int) -> int | None:
        dt = snapshot if snapshot is not None and attempt == 0 else open_table(table, cfg)
        if dt is not None:
            if mode == "ignore":
                return None
            if mode == "error":
                raise TableExistsError(
                    f"Table {table.name!r}: a Delta table already exists at {table.uri} "
                    f"(version {dt.version()}); use mode='append' or 'overwrite'."
                )
        base = dt.version() if dt is not None else -1
        try:
            options: dict[str, Any] = {
                "partition_by": partition_by,
                "mode": mode,
                "predicate": predicate,
                "schema_mode": schema_mode,
                "target_file_size": target_file_size,
                "commit_properties": _commit_properties(),
            }
            if dt is None:
                options["name"] = table.name
                options["description"] = _summary(table)
                options["storage_options"] = write_storage_options(table, cfg)
            write_deltalake(dt if dt is not None else table.uri, df, **options)
        except Exception as exc:
            exc.__neuralake_base__ = base  # type: ignore[attr-defined]
            raise
        if dt is None:
            return _require(table, cfg).version()
        return dt.version()

    retry = mode == "append" and snapshot is None
    return _run(table, cfg, mode, run, retry=retry)


def _summary(table: NeuralakeDeltaTable) -> str | None:
    first = table.description.strip().splitlines()[0] if table.description.strip() else ""
    return first or None


# -- merge --------------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return name if name.isidentifier() and name.islower() else "`" + name.replace("`", "``") + "`"


def sql_literal(value: Any) -> str:
    """A SQL literal for a partition value (strings quoted, dates ISO)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return "'" + str(value.isoformat()) + "'"
    return "'" + str(value).replace("'", "''") + "'"


def partition_restriction(
    partition_by: Sequence[str], source: pl.DataFrame, alias: str = "t"
) -> list[str]:
    """``alias.part IN (...)`` clauses for the partition values present in ``source``."""
    clauses = []
    for col in partition_by:
        values = source.get_column(col).unique().sort(nulls_last=True).to_list()
        present = [v for v in values if v is not None]
        terms = []
        if present:
            terms.append(f"{alias}.{_ident(col)} IN ({', '.join(sql_literal(v) for v in present)})")
        if len(present) < len(values):
            terms.append(f"{alias}.{_ident(col)} IS NULL")
        clauses.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    return clauses


def merge_predicate(
    on: Sequence[str], partition_by: Sequence[str], source: pl.DataFrame, *, restrict: bool = True
) -> str:
    """The join predicate: key equality, plus the source's partitions when ``restrict``."""
    terms = [f"t.{_ident(k)} = s.{_ident(k)}" for k in on]
    if restrict:
        terms += partition_restriction([p for p in partition_by if p not in on], source)
    return " AND ".join(terms)


def merge(
    table: NeuralakeDeltaTable,
    data: Any,
    on: Sequence[str] | None = None,
    *,
    delete_not_matched_by_source: str | bool | None = None,
    update: bool = True,
    insert: bool = True,
    restrict_to_source_partitions: bool = True,
    schema_mode: Literal["merge"] | None = None,
    storage: StorageConfig | None = None,
    snapshot: DeltaTable | None = None,
) -> MergeMetrics:
    """Merge ``data`` into the table; see :meth:`NeuralakeDeltaTable.merge`."""
    keys = tuple(on) if on else table.unique_columns
    if not keys:
        raise InvalidParameterError(
            f"Table {table.name!r}: merge needs key columns; pass on=[...] or declare "
            "unique_columns."
        )
    if isinstance(on, str):
        keys = (on,)
    cfg = storage or table.resolve_storage()
    df = conform(table, data, schema_mode)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"Table {table.name!r}: merge key column(s) {missing} are not in the data."
        )
    dupes = df.select(keys).filter(pl.struct(list(keys)).is_duplicated())
    if dupes.height:
        example = dupes.row(0, named=True)
        raise InvalidParameterError(
            f"Table {table.name!r}: the merge source has {dupes.height} rows with duplicate keys "
            f"{list(keys)} (e.g. {example}); each key may appear once."
        )
    if snapshot is None and open_table(table, cfg) is None:
        version = write(table, df, "append", schema_mode=schema_mode, storage=cfg)
        return MergeMetrics(version=version or 0, rows_inserted=df.height)
    predicate = merge_predicate(
        keys, table.partition_by, df, restrict=restrict_to_source_partitions
    )

    def run(attempt: int) -> MergeMetrics:
        dt = snapshot if snapshot is not None and attempt == 0 else _require(table, cfg)
        base = dt.version()
        try:
            merger = dt.merge(
                df,
                predicate,
                source_alias="s",
                target_alias="t",
                merge_schema=schema_mode == "merge",
                commit_properties=_commit_properties(),
            )
            if update:
                merger = merger.when_matched_update_all()
            if insert:
                merger = merger.when_not_matched_insert_all()
            if delete_not_matched_by_source is True:
                merger = merger.when_not_matched_by_source_delete()
            elif isinstance(delete_not_matched_by_source, str):
                merger = merger.when_not_matched_by_source_delete(delete_not_matched_by_source)
            raw = merger.execute()
        except Exception as exc:
            exc.__neuralake_base__ = base  # type: ignore[attr-defined]
            raise
        return MergeMetrics(
            version=dt.version(),
            rows_inserted=int(raw.get("num_target_rows_inserted", 0)),
            rows_updated=int(raw.get("num_target_rows_updated", 0)),
            rows_deleted=int(raw.get("num_target_rows_deleted", 0)),
            rows_copied=int(raw.get("num_target_rows_copied", 0)),
            files_added=int(raw.get("num_target_files_added", 0)),
            files_removed=int(raw.get("num_target_files_removed", 0)),
            files_scanned=int(raw.get("num_target_files_scanned", 0)),
            files_skipped=int(raw.get("num_target_files_skipped_during_scan", 0)),
        )

    # A merge re-evaluated against the newer snapshot is still correct, so conflicts retry.
    return _run(table, cfg, "merge", run, retry=snapshot is None)


# -- time travel and maintenance ---------------------------------------------------------------


def restore(
    table: NeuralakeDeltaTable,
    version: int | str | Any,
    *,
    storage: StorageConfig | None = None,
) -> RestoreMetrics:
    """Make ``version`` (int, datetime or ISO string) the current state as a new commit.

    Restoring the version that is already current is a no-op (``changed=False``).
    """
    from neuralake.tables.delta import as_datetime

    cfg = storage or table.resolve_storage()
    dt = _require(table, cfg)
    current = dt.version()
    target: Any = version
    if isinstance(version, str):
        target = as_datetime(version, table.name)
    if isinstance(target, int) and not isinstance(target, bool):
        if not 0 <= target <= current:
            raise InvalidParameterError(
                f"Table {table.name!r} has no version {target} (versions 0..{current})."
            )
        if target == current:
            return RestoreMetrics(restored_version=current, version=current, changed=False)
    else:
        probe = table.delta_table(cfg, as_of=target)
        if probe.version() == current:
            return RestoreMetrics(restored_version=current, version=current, changed=False)
        target = probe.version()
    check_files_present(table, cfg, int(target), dt_loaded=None)

    def run(_: int) -> RestoreMetrics:
        raw = dt.restore(target, commit_properties=_commit_properties())
        return RestoreMetrics(
            restored_version=int(target),
            version=dt.version(),
            changed=True,
            files_removed=int(raw.get("num_removed_file", 0)),
            files_restored=int(raw.get("num_restored_file", 0)),
        )

    return _run(table, cfg, f"restore to version {target}", run, retry=False)


def vacuum(
    table: NeuralakeDeltaTable,
    retention_hours: int | None = None,
    *,
    dry_run: bool = True,
    enforce_retention: bool = True,
    full: bool = True,
    storage: StorageConfig | None = None,
) -> list[str]:
    """Files no longer referenced and older than the retention (deleted unless ``dry_run``).

    Returns:
        Paths relative to the table root, sorted and de-duplicated.
    """
    cfg = storage or table.resolve_storage()
    dt = _require(table, cfg)

    root = _uri_path(table.uri).rstrip("/") + "/"

    def relative(path: str) -> str:
        full = _uri_path(path) if (is_remote(path) or os.path.isabs(path)) else path
        return full[len(root) :] if full.startswith(root) else full

    def run(_: int) -> list[str]:
        return sorted(
            {
                relative(p)
                for p in dt.vacuum(
                    retention_hours=retention_hours,
                    dry_run=dry_run,
                    enforce_retention_duration=enforce_retention,
                    full=full,
                    commit_properties=_commit_properties(),
                )
            }
        )

    try:
        return _run(table, cfg, "vacuum", run, retry=False)
    except StorageError as exc:
        if "retention period" in str(exc).lower():
            raise InvalidParameterError(
                f"Table {table.name!r}: vacuum retention of {retention_hours} hours is below the "
                "table's minimum (delta.deletedFileRetentionDuration, 168 hours by default): "
                "time travel and running readers could lose files. Pass enforce_retention=False "
                "to override."
            ) from exc
        raise


def optimize(
    table: NeuralakeDeltaTable,
    *,
    z_order: Sequence[str] | None = None,
    target_size: int | None = None,
    partition_filters: list[tuple[str, str, Any]] | None = None,
    storage: StorageConfig | None = None,
) -> OptimizeMetrics:
    """Compact small files (or z-order by ``z_order`` columns); returns metrics."""
    cfg = storage or table.resolve_storage()
    dt = _require(table, cfg)
    if z_order:
        table.check_columns(list(z_order))

    def run(_: int) -> OptimizeMetrics:
        if z_order:
            raw = dt.optimize.z_order(
                list(z_order),
                partition_filters=partition_filters,
                target_size=target_size,
                commit_properties=_commit_properties(),
            )
        else:
            raw = dt.optimize.compact(
                partition_filters=partition_filters,
                target_size=target_size,
                commit_properties=_commit_properties(),
            )
        return OptimizeMetrics(
            version=dt.version(),
            files_added=int(raw.get("numFilesAdded", 0)),
            files_removed=int(raw.get("numFilesRemoved", 0)),
            partitions_optimized=int(raw.get("partitionsOptimized", 0)),
            files_considered=int(raw.get("totalConsideredFiles", 0)),
            files_skipped=int(raw.get("totalFilesSkipped", 0)),
        )

    return _run(table, cfg, "optimize", run, retry=False)


def _existing_files(table: NeuralakeDeltaTable, cfg: StorageConfig) -> set[str]:
    """Every file under the table folder, spelled as :func:`_uri_path` spells ``file_uris()``."""
    root = _uri_path(table.uri).rstrip("/")
    return {f"{root}/{rel}" for rel, _ in list_files(table.uri, cfg)}


def _uri_path(uri: str) -> str:
    if is_remote(uri):
        return uri.split("://", 1)[1]
    return os.path.abspath(uri.removeprefix("file://"))


def _missing(dt: DeltaTable, existing: set[str]) -> list[str]:
    return [u for u in dt.file_uris() if _uri_path(u) not in existing]


def check_files_present(
    table: NeuralakeDeltaTable,
    cfg: StorageConfig,
    version: int,
    *,
    dt_loaded: DeltaTable | None,
) -> None:
    """Raise :class:`StorageError` naming the oldest readable version if ``version``'s data
    files were vacuumed (the folder is listed only when the version has files the current one
    no longer references)."""
    from deltalake import DeltaTable

    opts = storage_options(table.uri, cfg)
    dt = dt_loaded
    if dt is None:
        dt = DeltaTable(table.uri, storage_options=opts, version=version)
    latest = DeltaTable(table.uri, storage_options=opts)
    # Vacuum only removes files the current version no longer references: list only if some exist.
    candidates = set(dt.file_uris()) - set(latest.file_uris())
    if not candidates:
        return
    existing = _existing_files(table, cfg)
    missing = sorted(u for u in candidates if _uri_path(u) not in existing)
    if not missing:
        return
    oldest = latest.version()
    for v in range(latest.version() - 1, version, -1):
        latest.load_as_version(v)
        if _missing(latest, existing):
            break
        oldest = v
    raise StorageError(
        f"Table {table.name!r}: version {version} cannot be read, {len(missing)} of its data "
        f"files were removed by vacuum (e.g. {os.path.basename(missing[0])}). The oldest "
        f"readable version is {oldest}."
    )
