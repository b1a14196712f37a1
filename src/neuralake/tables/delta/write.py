"""Create a Delta table and write to it (append, overwrite, overwrite of a predicate).

Data is checked against the declared schema and then the stored table before anything is
written; the overwrite predicate and the table's ``CHECK`` constraints are checked on the rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuralake.errors import CommitConflictError, InvalidParameterError, TableExistsError
from neuralake.tables.delta.commit import TXN_RETENTION, TXN_RETENTION_KEY, Attempt, Landed, run
from neuralake.tables.delta.frames import arrow_schema, conform, fit_stored, to_arrow
from neuralake.tables.delta.keys import (
    check_frame,
    commit_metadata,
    existing_keys,
    refuse_existing,
    table_properties,
)
from neuralake.tables.delta.log import partition_columns, schema_of
from neuralake.tables.delta.metrics import SCHEMA_MODES, WRITE_MODES, SchemaMode, WriteMode
from neuralake.tables.delta.snapshot import open_latest, require

if TYPE_CHECKING:
    import polars as pl
    from deltalake import DeltaTable

    from neuralake.tables.delta.target import DeltaTarget


def create(target: DeltaTarget, *, exist_ok: bool = False) -> int:
    """Create an empty table with the declared schema and partitioning; returns its version."""
    from deltalake import DeltaTable

    if target.declared_schema is None:
        raise InvalidParameterError(
            f"Table {target.label!r} has no declared schema; create it by writing data instead."
        )
    existing = open_latest(target)
    if existing is not None:
        if exist_ok:
            return existing.version()
        raise TableExistsError(
            f"Table {target.label!r}: a Delta table already exists at {target.uri} "
            f"(version {existing.version()}). Pass exist_ok=True to keep it."
        )
    schema = arrow_schema(target.declared_schema)
    keys = target.unique_columns
    keyed = table_properties(keys)

    def operation(attempt: Attempt) -> int:
        attempt.base = -1
        table = DeltaTable.create(
            target.uri,
            schema,
            mode="ignore" if exist_ok else "error",
            partition_by=list(target.partition_by) or None,
            name=target.name,
            description=target.summary,
            storage_options=target.write_options(),
            configuration={TXN_RETENTION_KEY: TXN_RETENTION, **keyed},
            commit_properties=attempt.properties(commit_metadata(keys, whole_table=True)),
            raise_if_key_not_exists=not keyed,  # the key property is neuralake's own
        )
        return table.version()

    return run(target, "create", operation, retry=False, recover=_version)


def _version(landed: Landed) -> int:
    return landed.version


def check_arguments(
    target: DeltaTarget,
    mode: object,
    predicate: object,
    schema_mode: object,
    target_file_size: object,
) -> None:
    """Refuse arguments delta-rs would reject with a generic error (or an overflow)."""
    label = target.label
    if mode not in WRITE_MODES:
        raise InvalidParameterError(
            f"Table {label!r}: mode must be one of {', '.join(WRITE_MODES)}, got {mode!r}."
        )
    if predicate is not None and mode != "overwrite":
        raise InvalidParameterError(
            f"Table {label!r}: predicate= only applies to mode='overwrite', not {mode!r}."
        )
    if schema_mode is not None and schema_mode not in SCHEMA_MODES:
        raise InvalidParameterError(
            f"Table {label!r}: schema_mode must be None, 'merge' or 'overwrite', "
            f"got {schema_mode!r}."
        )
    if target_file_size is not None and (
        isinstance(target_file_size, bool)
        or not isinstance(target_file_size, int)
        or target_file_size <= 0
    ):
        raise InvalidParameterError(
            f"Table {label!r}: target_file_size must be a positive number of bytes, "
            f"got {target_file_size!r}."
        )


def check_predicate(target: DeltaTarget, df: pl.DataFrame, predicate: str) -> None:
    """An overwrite predicate must parse, name columns of the data and hold for every row."""
    from neuralake.tables.delta.predicate import count_failing  # sqlglot: on use only

    failing = count_failing(df, predicate, label=target.label, what="predicate=")
    if failing:
        raise InvalidParameterError(
            f"Table {target.label!r}: overwrite: rows outside the predicate cannot be written "
            f"with overwrite(predicate=...) ({failing} of {df.height} rows fail {predicate!r}); "
            "filter the data to the predicate first."
        )


def fit_table(
    target: DeltaTarget,
    df: pl.DataFrame,
    table: DeltaTable,
    *,
    whole_columns: bool,
    schema_mode: str | None,
) -> pl.DataFrame:
    """``df`` checked against (and cast to) the existing ``table``, constraints included."""
    fitted = fit_stored(
        df,
        schema_of(table),
        partition_columns(table),
        label=target.label,
        partition_by=target.partition_by,
        whole_columns=whole_columns,
        schema_mode=schema_mode,
    )
    from neuralake.tables.delta.predicate import check_constraints  # sqlglot: on use only

    check_constraints(fitted, table.metadata().configuration, label=target.label)
    return fitted


def _kept_rows(df: pl.DataFrame, predicate: str) -> pl.Expr | None:
    """Rows an overwrite with ``predicate`` keeps, as a Polars filter; ``None`` when Polars
    does not evaluate the predicate as delta-rs does on ``df`` (every row of which matches)."""
    import polars as pl

    try:
        expr = pl.sql_expr(predicate)
        if df.select(expr.fill_null(False).all()).item() is not True:
            return None
    except (pl.exceptions.PolarsError, ValueError, TypeError):
        return None
    return ~expr.fill_null(False)


def repair(target: DeltaTarget, snapshot: DeltaTable | None = None) -> None:
    """Rewrite a keyed table that was unique by construction but no longer is (a foreign
    commit added rows) as its de-duplicated rows, before a neuralake commit rewrites files:
    a rewritten file would otherwise carry older rows of a key past the newer ones.

    One full overwrite (a commit of its own); tables never unique by construction are left
    as they are (their reads keep the newest file's row).
    """
    from neuralake.tables.delta.keys import key_state
    from neuralake.tables.delta.read import scan

    keys = target.unique_columns
    table = snapshot if snapshot is not None else open_latest(target)
    if not keys or table is None:
        return
    state = key_state(target, table, keys)
    if state.unique or state.trusted_version is None:
        return
    if snapshot is not None:
        raise CommitConflictError(
            f"Table {target.label!r}: a commit not made by neuralake added rows after version "
            f"{state.trusted_version}, so keys may repeat; write without snapshot= once to "
            "rewrite the table with one row per key, then retry."
        )
    rows = scan(target).collect()
    write(target, rows, "overwrite", schema_mode=None)


def keyed_marker(
    target: DeltaTarget,
    df: pl.DataFrame,
    table: DeltaTable | None,
    mode: str,
    predicate: str | None,
) -> dict[str, str]:
    """The unique-key marker a write to a keyed table earns (see ``keys.py``), after checking
    that the new keys are not in the rows the write keeps.

    An append reads the key columns of the table (files outside the new keys' range are
    skipped by statistics); an overwrite with a predicate reads those of the rows it keeps.

    Raises:
        InvalidParameterError: A key of ``df`` is already in the rows the write keeps.
    """
    keys = target.unique_columns
    if not keys:
        return {}
    if table is None or (mode == "overwrite" and predicate is None):
        return commit_metadata(keys, whole_table=True)  # every live row is in ``df``
    kept = None
    if predicate is not None:
        kept = _kept_rows(df, predicate)
        if kept is None:
            return {}  # which rows stay is unknown here: the commit vouches for nothing
    found = existing_keys(table, df, keys, kept)
    what = "append" if predicate is None else f"overwrite(predicate={predicate!r})"
    refuse_existing(target.label, found, keys, what)
    return commit_metadata(keys, whole_table=False)


def write(
    target: DeltaTarget,
    data: Any,
    mode: WriteMode = "append",
    *,
    predicate: str | None = None,
    schema_mode: SchemaMode | None = None,
    target_file_size: int | None = None,
    snapshot: DeltaTable | None = None,
) -> int | None:
    """Write data; returns the new version (``None`` when ``mode="ignore"`` skipped it).

    ``snapshot`` pins the version the write is based on: a conflicting commit after it raises
    :class:`~neuralake.errors.CommitConflictError` instead of being retried.
    """
    from deltalake import write_deltalake

    check_arguments(target, mode, predicate, schema_mode, target_file_size)
    df = conform(data, target.declared_schema, target.label, schema_mode)
    if predicate is not None:
        check_predicate(target, df, predicate)
    if target.unique_columns:
        check_frame(target.label, df, target.unique_columns, "data")
        if mode == "append" or predicate is not None:
            repair(target, snapshot)

    def operation(attempt: Attempt) -> int | None:
        table = snapshot if snapshot is not None and attempt.number == 0 else None
        if table is None:
            table = open_latest(target, write=True)
        attempt.base = -1 if table is None else table.version()
        rows = df
        if table is not None:
            if mode == "ignore":
                return None
            if mode == "error":
                raise TableExistsError(
                    f"Table {target.label!r}: a Delta table already exists at {target.uri} "
                    f"(version {table.version()}); use mode='append' or 'overwrite'."
                )
            rows = fit_table(target, df, table, whole_columns=True, schema_mode=schema_mode)
        marker = keyed_marker(target, rows, table, mode, predicate)
        options: dict[str, Any] = {
            "partition_by": list(target.partition_by) or None,
            "mode": mode,
            "predicate": predicate,
            "schema_mode": schema_mode,
            "target_file_size": target_file_size,
            "commit_properties": attempt.properties(marker),
        }
        if table is None:
            options["name"] = target.name
            options["description"] = target.summary
            options["storage_options"] = target.write_options()
            options["configuration"] = {TXN_RETENTION_KEY: TXN_RETENTION}
        write_deltalake(table if table is not None else target.uri, to_arrow(rows), **options)
        return (table if table is not None else require(target)).version()

    retry = mode == "append" and snapshot is None
    return run(target, mode, operation, retry=retry, recover=_version)
